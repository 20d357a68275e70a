// SPDX-License-Identifier: GPL-3.0-or-later
//
// Rack Focus: a custom job type for Flamenco v3 (Blender's render farm manager).
//
// Install: copy this file into the `scripts/` folder next to the `flamenco-manager` executable
// (create the folder; restart the Manager if it does not list the job type), then artists
// press the refresh button beside the job types in Blender's Flamenco add-on. Workers need
// Blender with the Rack Focus extension installed and enabled (the `rackfocus` command), and,
// for estimated depth, the model file on shared storage.
//
// A job renders one Rack Focus shot:
//   1. `estimate` (a shot whose depth is estimated) or `build` (any other shot of a shot list):
//      one task that runs `rackfocus batch SHOTS.toml --only SHOT --build-only` over the whole
//      clip (estimation windows are never cut at chunk boundaries), which saves
//      SHOT_OUTPUT/SHOT.blend. Without a shot list the submitted .blend is rendered as it is.
//   2. `render-FRAMES`: Blender renders chunks of frames of that .blend, each depending on 1.
//   3. `video`: FFmpeg turns the PNG frames into SHOT.mp4, after every render task.
//
// Plain ES2015 (const/let, arrow functions, template literals), as Flamenco's engine (goja)
// runs it.

const JOB_TYPE = {
  label: "Rack Focus",
  description: "Render a Rack Focus shot: build (or estimate depth) once, render in chunks, " +
    "make the movie",
  settings: [
    {
      key: "shot_list", type: "string", subtype: "file_path", visible: "submission",
      description: "Shot list (TOML) on shared storage. Empty: render the submitted .blend " +
        "as it is (its pull already written)",
    },
    {
      key: "shot", type: "string", visible: "submission",
      eval: "C.scene.name",
      description: "Name of the shot in the shot list (names the .blend and the movie)",
    },
    {
      key: "estimate_depth", type: "bool", default: false, visible: "submission",
      description: "The shot estimates its footage's depth (depth = \"estimate\"): the " +
        "first task is named estimate",
    },
    {
      key: "frames", type: "string", required: true, visible: "submission",
      eval: "f'{C.scene.frame_start}-{C.scene.frame_end}'",
      evalInfo: { showLinkButton: true, description: "Scene frame range" },
      description: "Frames to render, e.g. '1-48' or '1-10,20-30'",
    },
    {
      key: "chunk_size", type: "int32", default: 12, visible: "submission",
      propargs: { min: 1, max: 10000 },
      description: "Frames per render task",
    },
    {
      key: "shot_output", type: "string", subtype: "dir_path", required: true,
      visible: "submission",
      description: "The shot's output folder (the shot list's output for this shot): the " +
        "built .blend, the frames and the movie go here",
    },
    {
      key: "format", type: "string", default: "PNG", choices: ["PNG", "OPEN_EXR"],
      visible: "submission",
      description: "Image format of the frames (the movie needs PNG)",
    },
    {
      key: "fps", type: "float", visible: "hidden",
      eval: "C.scene.render.fps / C.scene.render.fps_base",
      description: "Frame rate of the movie",
    },
    {
      key: "blendfile", type: "string", required: true, visible: "web",
      description: "The submitted .blend (rendered as it is when there is no shot list)",
    },
  ],
};

// Folder paths as typed: no trailing separator, forward or back slashes kept.
function trimFolder(folder) {
  let out = `${folder}`;
  while (out.length > 1 && (out.endsWith("/") || out.endsWith("\\"))) {
    out = out.slice(0, -1);
  }
  return out;
}

// A chunk from frameChunker ("1-12", "7,9-10") in Blender's --render-frame notation
// ("1..12", "7,9..10").
function blenderFrames(chunk) {
  return `${chunk}`.split(",").map((part) => {
    const item = part.trim();
    const dash = item.indexOf("-", 1);
    return dash < 0 ? item : `${item.slice(0, dash)}..${item.slice(dash + 1)}`;
  }).join(",");
}

function checkSettings(settings) {
  const problems = [];
  if (!settings.shot_output) {
    problems.push("shot_output is empty: give the shot's output folder");
  }
  if (settings.shot_list && !settings.shot) {
    problems.push("shot is empty: name the shot of the shot list to render");
  }
  if (settings.estimate_depth && !settings.shot_list) {
    problems.push("estimate_depth needs a shot list (the shot names its footage and model)");
  }
  if (!settings.shot_list && !settings.blendfile) {
    problems.push("no shot list and no .blend to render");
  }
  const chunk = Number(settings.chunk_size);
  if (!(chunk >= 1) || Math.floor(chunk) !== chunk) {
    problems.push(`chunk_size ${settings.chunk_size} must be a whole number of frames, 1 or more`);
  }
  if (["PNG", "OPEN_EXR"].indexOf(settings.format || "PNG") < 0) {
    problems.push(`format ${settings.format} must be PNG or OPEN_EXR`);
  }
  if (problems.length) {
    throw `Rack Focus job: ${problems.join("; ")}`;
  }
}

function blenderCommand(blendfile, args) {
  return author.Command("blender-render", {
    exe: "{blender}",
    exeArgs: "{blenderArgs}",
    argsBefore: [],
    blendfile: blendfile,
    args: args,
  });
}

// The task that builds the shot (and estimates its depth over the whole clip): the
// Rack Focus CLI on the worker's Blender, no file opened first (blendfile "").
function authorBuildTask(settings) {
  const task = author.Task(settings.estimate_depth ? "estimate" : "build", "blender");
  task.addCommand(blenderCommand("", [
    "-c", "rackfocus", "batch", settings.shot_list, "--only", settings.shot, "--build-only",
  ]));
  return task;
}

function authorRenderTasks(settings, blendfile, output, after) {
  const format = settings.format || "PNG";
  return frameChunker(settings.frames, settings.chunk_size).map((chunk) => {
    const task = author.Task(`render-${chunk}`, "blender");
    task.addCommand(blenderCommand(blendfile, [
      "--render-output", `${output}/frame_####`,
      "--render-format", format,
      "--render-frame", blenderFrames(chunk),
    ]));
    if (after) {
      task.addDependency(after);
    }
    return task;
  });
}

function authorVideoTask(settings, output, name, renders) {
  if ((settings.format || "PNG") !== "PNG") {
    print("Rack Focus: no video task for EXR frames (FFmpeg does not read them)");
    return null;
  }
  if (!settings.fps) {
    print("Rack Focus: no video task, the frame rate is unknown");
    return null;
  }
  const task = author.Task("video", "ffmpeg");
  task.addCommand(author.Command("frames-to-video", {
    exe: "ffmpeg",
    fps: settings.fps,
    inputGlob: `${output}/frame_*.png`,
    outputFile: `${output}/${name}.mp4`,
    args: ["-c:v", "h264", "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-y"],
  }));
  renders.forEach((render) => task.addDependency(render));
  return task;
}

// The file's stem: "/shots/sh010.flamenco.blend" -> "sh010".
function blendStem(path) {
  const name = `${path}`.split("/").pop().split("\\").pop();
  return name.replace(/\.blend$/, "").replace(/\.flamenco$/, "");
}

function compileJob(job) {
  const settings = job.settings;
  checkSettings(settings);
  const output = trimFolder(settings.shot_output);
  let build = null;
  let blendfile = settings.blendfile;
  let name = blendStem(settings.blendfile || "shot");
  if (settings.shot_list) {
    build = authorBuildTask(settings);
    job.addTask(build);
    blendfile = `${output}/${settings.shot}.blend`;
    name = settings.shot;
  }
  const renders = authorRenderTasks(settings, blendfile, output, build);
  renders.forEach((task) => job.addTask(task));
  const video = authorVideoTask(settings, output, name, renders);
  if (video) {
    job.addTask(video);
  }
}
