// Offline tests of the Flamenco job type flamenco/rack_focus.js: the compiler runs in Node's
// `vm` module against a mock of Flamenco's job-compiler API (author.Task, author.Command,
// frameChunker, print), and the task list, commands, arguments and dependencies are checked.
//
//   node tests/flamenco/test_job_type.js            run the tests (exit 1 on a failure)
//   node tests/flamenco/test_job_type.js --dump JSON
//                                                   print the tasks compiled for the job
//                                                   settings JSON (tests/pure/test_flamenco.py)
//
// The mock frameChunker follows Flamenco's documented contract: a frame list like "1-10" or
// "1-3,7,9-12" is expanded, cut into chunks of `chunkSize` frames in ascending order, and each
// chunk written back with consecutive frames as ranges ("1-10" by 3: "1-3", "4-6", "7-9", "10").

"use strict";

const assert = require("assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const SCRIPT = path.join(__dirname, "..", "..", "flamenco", "rack_focus.js");

// --- the mock API ------------------------------------------------------------------------------

function expandFrames(text) {
  const frames = new Set();
  for (const part of `${text}`.split(",")) {
    const item = part.trim();
    const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
    if (!match) {
      throw new Error(`bad frame range item '${item}' in '${text}'`);
    }
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (end < start) {
      throw new Error(`frame range '${item}' ends before it starts`);
    }
    for (let f = start; f <= end; f++) {
      frames.add(f);
    }
  }
  return Array.from(frames).sort((a, b) => a - b);
}

function formatFrames(frames) {
  const items = [];
  let i = 0;
  while (i < frames.length) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === frames[j] + 1) {
      j++;
    }
    items.push(i === j ? `${frames[i]}` : `${frames[i]}-${frames[j]}`);
    i = j + 1;
  }
  return items.join(",");
}

function frameChunker(text, chunkSize) {
  const size = Number(chunkSize);
  if (!(size >= 1)) {
    throw new Error(`chunk size ${chunkSize} must be at least 1`);
  }
  const frames = expandFrames(text);
  const chunks = [];
  for (let i = 0; i < frames.length; i += size) {
    chunks.push(formatFrames(frames.slice(i, i + size)));
  }
  return chunks;
}

function mockAuthor() {
  return {
    Task(name, type) {
      return {
        name: name,
        type: type,
        commands: [],
        dependencies: [],
        addCommand(command) { this.commands.push(command); },
        addDependency(task) { this.dependencies.push(task); },
      };
    },
    Command(name, parameters) {
      return { name: name, parameters: parameters };
    },
  };
}

function loadJobType() {
  const source = fs.readFileSync(SCRIPT, "utf8");
  const printed = [];
  const context = vm.createContext({
    author: mockAuthor(),
    frameChunker: frameChunker,
    print: (...parts) => printed.push(parts.join(" ")),
  });
  vm.runInContext(source, context, { filename: SCRIPT });
  const api = vm.runInContext("({ JOB_TYPE: JOB_TYPE, compileJob: compileJob })", context);
  return { source: source, api: api, printed: printed };
}

function compile(settings) {
  const loaded = loadJobType();
  const tasks = [];
  const job = { name: "job", settings: settings, addTask: (task) => tasks.push(task) };
  loaded.api.compileJob(job);
  return { tasks: tasks, printed: loaded.printed };
}

// A value made in the script's context, copied into this one (deepStrictEqual compares
// prototypes, and every vm context has its own Array and Object).
function host(value) {
  return JSON.parse(JSON.stringify(value));
}

function plain(tasks) {
  return host(tasks.map((t) => ({
    name: t.name,
    type: t.type,
    commands: t.commands.map((c) => ({ name: c.name, parameters: c.parameters })),
    dependencies: t.dependencies.map((d) => d.name),
  })));
}

// --- the tests ---------------------------------------------------------------------------------

const SHOT_LIST_JOB = {
  shot_list: "/farm/shots.toml",
  shot: "sc01_sh010",
  estimate_depth: true,
  frames: "1-10",
  chunk_size: 4,
  shot_output: "/farm/renders/sc01_sh010/",
  format: "PNG",
  fps: 24,
  blendfile: "/farm/jobs/sc01_sh010.flamenco.blend",
};

const tests = [];
function test(name, body) {
  tests.push({ name: name, body: body });
}

test("frameChunker follows Flamenco's contract", () => {
  assert.deepStrictEqual(frameChunker("1-10", 3), ["1-3", "4-6", "7-9", "10"]);
  assert.deepStrictEqual(frameChunker("1-3,7,9-12", 3), ["1-3", "7,9-10", "11-12"]);
  assert.deepStrictEqual(frameChunker("1-3,7,9-12", 100), ["1-3,7,9-12"]);
  assert.deepStrictEqual(frameChunker("5", 4), ["5"]);
  assert.deepStrictEqual(frameChunker(" 1 - 4 , 6 ", 2), ["1-2", "3-4", "6"]);
  assert.deepStrictEqual(frameChunker("3,1,2,2", 2), ["1-2", "3"]);
  assert.throws(() => frameChunker("a-b", 2));
  assert.throws(() => frameChunker("4-1", 2));
  assert.throws(() => frameChunker("1-4", 0));
});

test("the script uses only the JavaScript goja runs (ES2015-style)", () => {
  const { source } = loadJobType();
  const code = source.replace(/\/\/[^\n]*/g, "");
  for (const token of ["?.", "??", "**", "...", "async ", "await ", "replaceAll",
    ".includes(", ".padStart(", ".padEnd(", "Object.entries", "Object.values", "class ",
    "import ", "require(", "export "]) {
    assert.strictEqual(code.indexOf(token), -1, `the job type uses '${token}'`);
  }
  assert.ok(/^const JOB_TYPE = \{/m.test(source));
  assert.ok(/^function compileJob\(job\) \{/m.test(source));
});

test("JOB_TYPE declares its settings the way Flamenco reads them", () => {
  const JOB_TYPE = host(loadJobType().api.JOB_TYPE);
  assert.strictEqual(typeof JOB_TYPE.label, "string");
  const keys = JOB_TYPE.settings.map((s) => s.key);
  assert.deepStrictEqual(keys, ["shot_list", "shot", "estimate_depth", "frames", "chunk_size",
    "shot_output", "format", "fps", "blendfile"]);
  const types = new Set(["string", "int32", "float", "bool"]);
  const visible = new Set(["submission", "web", "hidden", "visible", undefined]);
  for (const s of JOB_TYPE.settings) {
    assert.ok(types.has(s.type), `${s.key} has type ${s.type}`);
    assert.ok(visible.has(s.visible), `${s.key} is visible '${s.visible}'`);
    assert.strictEqual(typeof s.description, "string", `${s.key} has no description`);
    if (s.eval !== undefined) {
      assert.strictEqual(typeof s.eval, "string");
    }
  }
  const byKey = {};
  JOB_TYPE.settings.forEach((s) => { byKey[s.key] = s; });
  assert.strictEqual(byKey.frames.required, true);
  assert.strictEqual(byKey.blendfile.required, true);
  assert.strictEqual(byKey.shot_output.required, true);
  assert.strictEqual(byKey.chunk_size.default, 12);
  assert.deepStrictEqual(byKey.format.choices, ["PNG", "OPEN_EXR"]);
});

test("an estimating shot: one estimate task, chunked renders after it, a video after all", () => {
  const tasks = plain(compile(SHOT_LIST_JOB).tasks);
  assert.deepStrictEqual(tasks.map((t) => t.name),
    ["estimate", "render-1-4", "render-5-8", "render-9-10", "video"]);
  assert.deepStrictEqual(tasks.map((t) => t.type),
    ["blender", "blender", "blender", "blender", "ffmpeg"]);

  const estimate = tasks[0];
  assert.deepStrictEqual(estimate.dependencies, []);
  assert.deepStrictEqual(estimate.commands, [{
    name: "blender-render",
    parameters: {
      exe: "{blender}", exeArgs: "{blenderArgs}", argsBefore: [], blendfile: "",
      args: ["-c", "rackfocus", "batch", "/farm/shots.toml", "--only", "sc01_sh010",
        "--build-only"],
    },
  }]);

  const frames = ["1..4", "5..8", "9..10"];
  tasks.slice(1, 4).forEach((task, i) => {
    assert.deepStrictEqual(task.dependencies, ["estimate"]);
    assert.deepStrictEqual(task.commands, [{
      name: "blender-render",
      parameters: {
        exe: "{blender}", exeArgs: "{blenderArgs}", argsBefore: [],
        blendfile: "/farm/renders/sc01_sh010/sc01_sh010.blend",
        args: ["--render-output", "/farm/renders/sc01_sh010/frame_####",
          "--render-format", "PNG", "--render-frame", frames[i]],
      },
    }]);
  });

  const video = tasks[4];
  assert.deepStrictEqual(video.dependencies, ["render-1-4", "render-5-8", "render-9-10"]);
  assert.strictEqual(video.commands.length, 1);
  const cmd = video.commands[0];
  assert.strictEqual(cmd.name, "frames-to-video");
  assert.strictEqual(cmd.parameters.exe, "ffmpeg");
  assert.strictEqual(cmd.parameters.fps, 24);
  assert.strictEqual(cmd.parameters.inputGlob, "/farm/renders/sc01_sh010/frame_*.png");
  assert.strictEqual(cmd.parameters.outputFile, "/farm/renders/sc01_sh010/sc01_sh010.mp4");
  assert.ok(cmd.parameters.args.indexOf("-y") >= 0, "ffmpeg must be told to overwrite or not");
});

test("dependencies point at the very task objects the job holds", () => {
  const { tasks } = compile(SHOT_LIST_JOB);
  const estimate = tasks[0];
  const renders = tasks.slice(1, 4);
  renders.forEach((task) => assert.strictEqual(task.dependencies[0], estimate));
  renders.forEach((task, i) => assert.strictEqual(tasks[4].dependencies[i], task));
});

test("a shot that does not estimate is built by a build task", () => {
  const settings = Object.assign({}, SHOT_LIST_JOB, { estimate_depth: false, chunk_size: 10 });
  const tasks = plain(compile(settings).tasks);
  assert.deepStrictEqual(tasks.map((t) => t.name), ["build", "render-1-10", "video"]);
  assert.deepStrictEqual(tasks[1].dependencies, ["build"]);
  assert.deepStrictEqual(tasks[0].commands[0].parameters.args.slice(0, 3),
    ["-c", "rackfocus", "batch"]);
});

test("without a shot list the submitted .blend renders as it is", () => {
  const settings = {
    frames: "1-3,7,9-12", chunk_size: 3, shot_output: "C:\\renders\\sh020\\", format: "PNG",
    fps: 25, blendfile: "/farm/jobs/sh020.flamenco.blend", shot: "", shot_list: "",
    estimate_depth: false,
  };
  const tasks = plain(compile(settings).tasks);
  assert.deepStrictEqual(tasks.map((t) => t.name),
    ["render-1-3", "render-7,9-10", "render-11-12", "video"]);
  assert.deepStrictEqual(tasks.slice(0, 3).map((t) => t.dependencies), [[], [], []]);
  assert.deepStrictEqual(tasks.slice(0, 3).map((t) => t.commands[0].parameters.args[5]),
    ["1..3", "7,9..10", "11..12"]);
  tasks.slice(0, 3).forEach((t) => {
    assert.strictEqual(t.commands[0].parameters.blendfile, "/farm/jobs/sh020.flamenco.blend");
    assert.strictEqual(t.commands[0].parameters.args[1], "C:\\renders\\sh020/frame_####");
  });
  assert.strictEqual(tasks[3].commands[0].parameters.outputFile, "C:\\renders\\sh020/sh020.mp4");
});

test("EXR frames get no video task (FFmpeg does not read them)", () => {
  const settings = Object.assign({}, SHOT_LIST_JOB, { format: "OPEN_EXR" });
  const { tasks, printed } = compile(settings);
  assert.deepStrictEqual(tasks.map((t) => t.name),
    ["estimate", "render-1-4", "render-5-8", "render-9-10"]);
  assert.strictEqual(tasks[1].commands[0].parameters.args[3], "OPEN_EXR");
  assert.ok(printed.some((line) => line.indexOf("EXR") >= 0));
});

test("settings that cannot make a job are refused with one message naming each", () => {
  const refuse = (changes, ...needles) => {
    const settings = Object.assign({}, SHOT_LIST_JOB, changes);
    assert.throws(() => compile(settings),
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
});

// --- the runner --------------------------------------------------------------------------------

function main() {
  if (process.argv[2] === "--dump") {
    const settings = JSON.parse(process.argv[3]);
    process.stdout.write(JSON.stringify(plain(compile(settings).tasks)) + "\n");
    return 0;
  }
  let failed = 0;
  for (const t of tests) {
    try {
      t.body();
      process.stdout.write(`ok   ${t.name}\n`);
    } catch (err) {
      failed++;
      process.stdout.write(`FAIL ${t.name}\n${err && err.stack ? err.stack : err}\n`);
    }
  }
  process.stdout.write(`${tests.length - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

process.exitCode = main();
