// Offline tests of the Flamenco job type flamenco/rack_focus.js, compiled by a mock of
// Flamenco's job compiler that follows its Go code (tests/flamenco/flamenco_mock.js names the
// file and function each part follows). Run: node --test tests/flamenco/
// (tests/pure/test_flamenco.py runs them under pytest).

"use strict";

const assert = require("assert");
const test = require("node:test");
const { frameChunker, frameCount, loadJobType, compile, host, plain } =
  require("./flamenco_mock.js");

const SHOT_LIST_JOB = {
  shot_list: "/farm/shots.toml",
  shot: "sc01_sh010",
  estimate_depth: true,
  frames: "1-10",
  chunk_size: 4,
  shot_output: "/farm/renders/sc01_sh010/",
  format: "PNG",
  fps: 24,
  rerender: false,
  blendfile: "/farm/jobs/sc01_sh010.flamenco.blend",
};

const BLEND_JOB = {
  frames: "1-3,7,9-12", chunk_size: 3, shot_output: "C:\\renders\\sh020\\", format: "PNG",
  fps: 25, blendfile: "/farm/jobs/sh020.flamenco.blend", shot: "", shot_list: "",
  estimate_depth: false, scene: "Scene.001",
};

const with_ = (base, changes) => Object.assign({}, base, changes);
const argAfter = (args, flag) => args[args.indexOf(flag) + 1];

// internal/manager/job_compilers/js_globals_test.go: TestFrameChunkerHappyBlenderStyle,
// ...HappyRegularStyle, ...HappyExtraWhitespace, ...HappySmallInput, ...Unhappy,
// TestFrameRangeExplode; and frameRangeMerge's rule for two consecutive frames ("9,10").
test("the mock frameChunker gives what Flamenco's jsFrameChunker gives", () => {
  const expected = ["1-4", "5-8", "9,10,20,21", "22-25", "40"];
  assert.deepStrictEqual(frameChunker("1..10,20..25,40,3..8", 4), expected);
  assert.deepStrictEqual(frameChunker("1-10,20-25,40", 4), expected);
  assert.deepStrictEqual(frameChunker(" 1  .. 10,\t20..25\n,40   ", 4), expected);
  assert.deepStrictEqual(frameChunker("47", 4), ["47"]);
  assert.deepStrictEqual(frameChunker("1-3", 3), ["1-3"]);
  assert.throws(() => frameChunker("   ", 4), /empty range/);
  assert.throws(() => frameChunker(" 1 10", 4), /1 10/);
  // Blender's own notation as the built-in job type's description gives it.
  assert.deepStrictEqual(frameChunker("3, 5-10, 20..22", 100), ["3,5-10,20-22"]);
  assert.deepStrictEqual(frameChunker("3, 5-10, 20..22", 4), ["3,5-7", "8-10,20", "21,22"]);
  assert.deepStrictEqual(frameChunker("1-10", 4), ["1-4", "5-8", "9,10"]);
  assert.deepStrictEqual(frameChunker("1-3,7,9-12", 3), ["1-3", "7,9,10", "11,12"]);
  assert.throws(() => frameChunker("1-4", 0), /invalid chunk size/);
  assert.throws(() => frameChunker("1-2-3", 2), /invalid range/);
  assert.deepStrictEqual(Array.from(frameChunker("1-5", 2.9)), ["1,2", "3,4", "5"]);
});

test("frameCount counts distinct frames, as jsFrameCount", () => {
  assert.strictEqual(frameCount("1-10"), 10);
  assert.strictEqual(frameCount("3, 5-10, 20..22"), 10);
  assert.strictEqual(frameCount("1-4,3-6"), 6);
});

test("the script uses only the JavaScript goja runs (ES2015-style)", () => {
  const { source } = loadJobType();
  const code = source.replace(/\/\/[^\n]*/g, "");
  for (const token of ["?.", "??", "**", "...", "async ", "await ", "replaceAll",
    ".includes(", ".padStart(", ".padEnd(", "Object.entries", "Object.values", "class ",
    "require("]) {
    assert.strictEqual(code.indexOf(token), -1, `the job type uses '${token}'`);
  }
  assert.ok(!/^\s*(import|export)\s/m.test(code), "the job type is a module");
  assert.ok(/^const JOB_TYPE = \{/m.test(source));
  assert.ok(/^function compileJob\(job\) \{/m.test(source));
});

test("JOB_TYPE declares its settings the way Flamenco reads them", () => {
  const JOB_TYPE = host(loadJobType().api.JOB_TYPE);
  assert.strictEqual(typeof JOB_TYPE.label, "string");
  const byKey = {};
  JOB_TYPE.settings.forEach((s) => { byKey[s.key] = s; });
  assert.deepStrictEqual(Object.keys(byKey), ["shot_list", "shot", "estimate_depth", "frames",
    "chunk_size", "shot_output", "format", "fps", "rerender", "blendfile", "shot_list_path",
    "shot_output_path", "scene"]);
  const types = new Set(["string", "int32", "float", "bool"]);
  const visible = new Set(["submission", "web", "hidden", "visible", undefined]);
  for (const s of JOB_TYPE.settings) {
    assert.ok(types.has(s.type), `${s.key} has type ${s.type}`);
    assert.ok(visible.has(s.visible), `${s.key} is visible '${s.visible}'`);
    assert.strictEqual(typeof s.description, "string", `${s.key} has no description`);
  }
  assert.strictEqual(byKey.frames.required, true);
  assert.strictEqual(byKey.blendfile.required, true);
  assert.strictEqual(byKey.shot_output.required, true);
  assert.strictEqual(byKey.chunk_size.default, 12);
  assert.strictEqual(byKey.rerender.default, false);
  assert.deepStrictEqual(byKey.format.choices, ["PNG", "OPEN_EXR"]);
  // Evaluated by the add-on at submission, like the built-in's render_output_path.
  assert.strictEqual(byKey.shot_output_path.eval, "abspath(settings.shot_output)");
  assert.strictEqual(byKey.scene.eval, "C.scene.name");
});

test("an estimating shot: estimate, chunked renders after it, finish after all", () => {
  const tasks = plain(compile(SHOT_LIST_JOB).tasks);
  assert.deepStrictEqual(tasks.map((t) => t.name),
    ["estimate", "render-1-4", "render-5-8", "render-9,10", "finish"]);
  assert.deepStrictEqual(tasks.map((t) => t.type), Array(5).fill("blender"));

  const estimate = tasks[0];
  assert.deepStrictEqual(estimate.dependencies, []);
  assert.deepStrictEqual(estimate.commands, [{
    name: "blender-render",
    parameters: {
      exe: "{blender}", exeArgs: "{blenderArgs}", argsBefore: [], blendfile: "",
      args: ["-c", "rackfocus", "batch", "/farm/shots.toml", "--only", "sc01_sh010",
        "--build-only", "--steps", "10"],
    },
    steps: 10,
  }]);

  const frames = ["1..4", "5..8", "9,10"];
  tasks.slice(1, 4).forEach((task, i) => {
    assert.deepStrictEqual(task.dependencies, ["estimate"]);
    assert.strictEqual(task.commands.length, 1);
    const cmd = task.commands[0];
    assert.strictEqual(cmd.steps, [4, 4, 2][i], "one step per frame of the chunk");
    assert.strictEqual(cmd.parameters.blendfile, "/farm/renders/sc01_sh010/sc01_sh010.blend");
    const args = cmd.parameters.args;
    assert.strictEqual(args.indexOf("--scene"), -1, "the built .blend opens on its shot");
    assert.deepStrictEqual(args.slice(2), ["--render-output",
      "/farm/renders/sc01_sh010/frame_####", "--render-format", "PNG", "--render-frame",
      frames[i]]);
    assert.strictEqual(args[0], "--python-expr");
    assert.deepStrictEqual(args[1].split("\n"), ["import bpy",
      "r = bpy.context.scene.render", "r.use_file_extension = True",
      "r.use_overwrite = False", "r.use_placeholder = False"]);
  });

  const finish = tasks[4];
  assert.deepStrictEqual(finish.dependencies, ["render-1-4", "render-5-8", "render-9,10"]);
  assert.deepStrictEqual(finish.commands, [{
    name: "blender-render",
    parameters: {
      exe: "{blender}", exeArgs: "{blenderArgs}", argsBefore: [], blendfile: "",
      args: ["-c", "rackfocus", "batch", "/farm/shots.toml", "--only", "sc01_sh010",
        "--frames", "1-10", "--steps", "1"],
    },
    steps: 1,
  }]);
});

test("every command has a step count (Author.Command's third argument)", () => {
  for (const settings of [SHOT_LIST_JOB, BLEND_JOB, with_(SHOT_LIST_JOB,
    { frames: "3, 5-10, 20..22", chunk_size: 3 })]) {
    const tasks = plain(compile(settings).tasks);
    for (const t of tasks) {
      for (const c of t.commands) {
        assert.ok(c.steps >= 1, `${t.name}: ${c.name} has ${c.steps} steps`);
        if (t.name.indexOf("render-") === 0) {
          assert.strictEqual(c.steps, frameCount(t.name.slice(7)));
        }
        const args = c.parameters.args || [];
        if (args.indexOf("--steps") >= 0) {
          assert.strictEqual(argAfter(args, "--steps"), `${c.steps}`);
        }
      }
    }
  }
});

test("Blender frame notation in 'frames' gives the real chunks and task names", () => {
  const tasks = plain(compile(with_(SHOT_LIST_JOB, { frames: "3, 5-10, 20..22",
    chunk_size: 4 })).tasks);
  assert.deepStrictEqual(tasks.map((t) => t.name),
    ["estimate", "render-3,5-7", "render-8-10,20", "render-21,22", "finish"]);
  assert.deepStrictEqual(tasks.slice(1, 4).map((t) => argAfter(t.commands[0].parameters.args,
    "--render-frame")), ["3,5..7", "8..10,20", "21,22"]);
  assert.strictEqual(argAfter(tasks[4].commands[0].parameters.args, "--frames"),
    "3,5-10,20-22");
  assert.strictEqual(tasks[0].commands[0].steps, 10);
});

test("job.addTask keeps a copy: every task is complete when it is added", () => {
  // AuthoredJob.AddTask appends *at: a dependency added after addTask would be lost. The
  // mock copies too, so a complete job here means a complete job in the Manager.
  const { tasks } = compile(SHOT_LIST_JOB);
  const last = tasks[tasks.length - 1];
  assert.strictEqual(last.dependencies.length, 3);
  const ids = new Set(tasks.map((t) => t.uuid));
  tasks.forEach((t) => t.dependencies.forEach((d) => assert.ok(ids.has(d.uuid))));
});

test("a shot that does not estimate is built by a build task; rerender forces", () => {
  const tasks = plain(compile(with_(SHOT_LIST_JOB, { estimate_depth: false,
    chunk_size: 10 })).tasks);
  assert.deepStrictEqual(tasks.map((t) => t.name), ["build", "render-1-10", "finish"]);
  assert.deepStrictEqual(tasks[1].dependencies, ["build"]);
  assert.deepStrictEqual(tasks[0].commands[0].parameters.args.slice(-3),
    ["--build-only", "--steps", "10"]);

  const again = plain(compile(with_(SHOT_LIST_JOB, { estimate_depth: false,
    rerender: true })).tasks);
  assert.deepStrictEqual(again[0].commands[0].parameters.args.slice(-4),
    ["--build-only", "--force", "--steps", "10"]);
  assert.ok(again[1].commands[0].parameters.args[1].indexOf("r.use_overwrite = True") >= 0);
  assert.strictEqual(again[again.length - 1].commands[0].parameters.args.indexOf("--force"), -1,
    "the finish task renders nothing again");
});

test("without a shot list: the .blend as it is, into this job's own folder", () => {
  const tasks = plain(compile(BLEND_JOB).tasks);
  assert.deepStrictEqual(tasks.map((t) => t.name),
    ["render-1-3", "render-7,9,10", "render-11,12", "video"]);
  assert.deepStrictEqual(tasks.slice(0, 3).map((t) => t.dependencies), [[], [], []]);
  const folder = "C:\\renders\\sh020/2026-12-06_213005";
  tasks.slice(0, 3).forEach((t, i) => {
    const cmd = t.commands[0];
    assert.strictEqual(cmd.parameters.blendfile, "/farm/jobs/sh020.flamenco.blend");
    assert.deepStrictEqual(cmd.parameters.args.slice(0, 2), ["--scene", "Scene.001"]);
    assert.strictEqual(argAfter(cmd.parameters.args, "--render-output"),
      `${folder}/frame_####`);
    assert.strictEqual(argAfter(cmd.parameters.args, "--render-frame"),
      ["1..3", "7,9,10", "11,12"][i]);
    assert.strictEqual(cmd.steps, [3, 3, 2][i]);
  });
  const video = tasks[3];
  assert.deepStrictEqual(video.dependencies, ["render-1-3", "render-7,9,10", "render-11,12"]);
  const cmd = video.commands[0];
  assert.strictEqual(cmd.name, "frames-to-video");
  assert.strictEqual(cmd.parameters.fps, 25);
  assert.strictEqual(cmd.parameters.inputGlob, `${folder}/frame_*.png`);
  assert.strictEqual(cmd.parameters.outputFile, `${folder}/sh020.mp4`);
  assert.ok(cmd.parameters.args.indexOf("-y") >= 0, "ffmpeg must be told to overwrite or not");

  // A re-submission (a later submission time) renders into another folder: the movie
  // of the second job sees none of the first job's frames.
  const later = plain(compile(with_(BLEND_JOB, { frames: "1-4" }),
    new Date(2026, 11, 6, 22, 0, 0)).tasks);
  assert.strictEqual(later[later.length - 1].commands[0].parameters.inputGlob,
    "C:\\renders\\sh020/2026-12-06_220000/frame_*.png");
});

test("EXR frames: the shot list's finish makes the movie, a bare .blend gets none", () => {
  const shot = plain(compile(with_(SHOT_LIST_JOB, { format: "OPEN_EXR" })).tasks);
  assert.deepStrictEqual(shot.map((t) => t.name),
    ["estimate", "render-1-4", "render-5-8", "render-9,10", "finish"]);
  assert.strictEqual(argAfter(shot[1].commands[0].parameters.args, "--render-format"),
    "OPEN_EXR");
  const { tasks, printed } = compile(with_(BLEND_JOB, { format: "OPEN_EXR" }));
  assert.deepStrictEqual(tasks.map((t) => t.name),
    ["render-1-3", "render-7,9,10", "render-11,12"]);
  assert.ok(printed.some((line) => line.indexOf("EXR") >= 0));
});

test("'//' paths: the add-on's absolute form is used, else the job is refused with the fix",
  () => {
    const resolved = plain(compile(with_(SHOT_LIST_JOB, {
      shot_list: "//shots.toml", shot_list_path: "/proj/shots.toml",
      shot_output: "//renders/sc01_sh010", shot_output_path: "/proj/renders/sc01_sh010",
    })).tasks);
    assert.strictEqual(resolved[0].commands[0].parameters.args[3], "/proj/shots.toml");
    assert.strictEqual(resolved[1].commands[0].parameters.blendfile,
      "/proj/renders/sc01_sh010/sc01_sh010.blend");
    assert.strictEqual(resolved[4].commands[0].parameters.args[3], "/proj/shots.toml");

    assert.throws(() => compile(with_(SHOT_LIST_JOB, { shot_output: "//renders/x" })),
      (err) => `${err}`.indexOf("shot_output '//renders/x' is relative to the .blend ('//'): " +
        "give an absolute path on shared storage") >= 0);
    assert.throws(() => compile(with_(SHOT_LIST_JOB, { shot_list: "shots.toml" })),
      (err) => `${err}`.indexOf("shot_list 'shots.toml' is relative") >= 0);
    for (const ok of ["{render}/sc01", "\\\\nas\\renders\\sc01", "D:/renders", "/r"]) {
      compile(with_(SHOT_LIST_JOB, { shot_output: ok }));
    }
  });

test("settings that cannot make a job are refused with one message naming each", () => {
  const refuse = (changes, ...needles) => {
    assert.throws(() => compile(with_(SHOT_LIST_JOB, changes)),
      (err) => needles.every((needle) => `${err}`.indexOf(needle) >= 0),
      `expected ${needles.join(", ")}`);
  };
  refuse({ shot_list: "" }, "estimate_depth needs a shot list");
  refuse({ shot: "" }, "shot is empty");
  refuse({ chunk_size: 0 }, "chunk_size 0");
  refuse({ chunk_size: 2.5 }, "chunk_size 2.5");
  refuse({ shot_output: "" }, "shot_output is empty");
  refuse({ format: "JPEG" }, "format JPEG");
  refuse({ shot: "", chunk_size: 0 }, "shot is empty", "; chunk_size 0");
  refuse({ frames: "1 10" }, "invalid range", "1 10");
});
