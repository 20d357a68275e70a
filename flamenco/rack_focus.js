// SPDX-License-Identifier: GPL-3.0-or-later
//
// Rack Focus: a custom job type for Flamenco v3 (Blender's render farm manager).
//
// Install: copy this file into the `scripts/` folder next to the `flamenco-manager` executable
// (create the folder). The Manager reads its scripts again each time the job types are listed:
// no restart. Artists then press the refresh button beside the job types in Blender's Flamenco
// add-on; after an update of this file they must refresh again (a job submitted with the old
// settings is refused, "412 outdated"). Workers need Blender with the Rack Focus extension
// installed and enabled (the `rackfocus` command), and, for estimated depth, the model file on
// shared storage. See docs/flamenco.md.
//
// A job renders one Rack Focus shot:
//   1. `estimate` (a shot whose depth is estimated) or `build` (any other shot of a shot list):
//      one task that runs `rackfocus batch SHOTS.toml --only SHOT --build-only` over the whole
//      clip (estimation windows are never cut at chunk boundaries), which saves
//      SHOT_OUTPUT/SHOT.blend.
//   2. `render-FRAMES`: Blender renders chunks of frames of that .blend into SHOT_OUTPUT, each
//      depending on 1, frames already there kept (the batch's resume).
//   3. `finish`: the batch again, for exactly the job's frames: it renders nothing (they are
//      all there) and makes the movie, contact sheet and plot of the shot from its own frame
//      list (Blender's own FFmpeg; no stale frame of an earlier run can enter the movie).
// Without a shot list the submitted .blend is rendered as it is into a folder of its own per
// job (SHOT_OUTPUT/<submission time>/), and `video` (FFmpeg) makes the movie of that folder.
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
      key: "rerender", type: "bool", default: false, visible: "submission",
      description: "Render every frame again: rebuild the shot (batch --force) and overwrite " +
        "the frames of an earlier run (off: frames already on disk are kept)",
    },
    {
      key: "blendfile", type: "string", required: true, visible: "web",
      description: "The submitted .blend (rendered as it is when there is no shot list)",
    },
    // The typed paths made absolute by Blender's Flamenco add-on when it submits, against the
    // submitted file's folder (Blender's '//'), as the built-in job type does with its
    // render_output_root ("abspath(settings.render_output_root)").
    {
      key: "shot_list_path", type: "string", visible: "hidden",
      eval: "abspath(settings.shot_list) if settings.shot_list else ''",
      description: "shot_list as an absolute path",
    },
    {
      key: "shot_output_path", type: "string", visible: "hidden",
      eval: "abspath(settings.shot_output)",
      description: "shot_output as an absolute path",
    },
    {
      key: "scene", type: "string", visible: "hidden", eval: "C.scene.name",
      description: "The scene the submitted .blend renders (no shot list)",
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

// A path a worker can use: absolute (POSIX, Windows drive or UNC) or starting with one of
// Flamenco's path variables ("{render}/..."). "//..." is relative to a .blend: the worker
// would read it against its own working folder.
function isFarmPath(value) {
  return /^([\/\\]|[A-Za-z]:[\/\\]|\{)/.test(value) && value.indexOf("//") !== 0;
}

// The path of setting `key`: the add-on's absolute form (`KEY_path`) when it sent one, else
// the value as typed; a problem when neither is a path a worker can use.
function farmPath(settings, key, problems) {
  const value = `${settings[`${key}_path`] || settings[key] || ""}`;
  if (value && !isFarmPath(value)) {
    const why = value.indexOf("//") === 0 ? "is relative to the .blend ('//')" : "is relative";
    problems.push(`${key} '${value}' ${why}: give an absolute path on shared storage (Blender's ` +
      "Flamenco add-on makes it absolute from the saved file's folder when it submits)");
  }
  return value;
}

// A chunk from frameChunker ("1-12", "7,9,10", "9-12,20") in Blender's --render-frame
// notation ("1..12", "7,9,10", "9..12,20").
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
  const paths = {
    output: settings.shot_output ? trimFolder(farmPath(settings, "shot_output", problems)) : "",
    shotList: settings.shot_list ? farmPath(settings, "shot_list", problems) : "",
  };
  if (problems.length) {
    throw `Rack Focus job: ${problems.join("; ")}`;
  }
  return paths;
}

// One Blender command; `steps` is what the Worker counts against: one step per output line
// that starts with "Time: " (Blender prints one after each frame; the batch's --steps prints
// its own) or "skipping existing frame".
function blenderCommand(blendfile, args, steps) {
  return author.Command("blender-render", {
    exe: "{blender}",
    exeArgs: "{blenderArgs}",
    argsBefore: [],
    blendfile: blendfile,
    args: args,
  }, steps);
}

// The Rack Focus CLI on the worker's Blender, no file opened first (blendfile "").
function batchCommand(paths, settings, extra, steps) {
  return blenderCommand("", ["-c", "rackfocus", "batch", paths.shotList, "--only", settings.shot]
    .concat(extra).concat(["--steps", `${steps}`]), steps);
}

// The task that builds the shot (and estimates its depth over the whole clip): its steps
// follow the build's progress, one per frame of the job.
function authorBuildTask(settings, paths) {
  const task = author.Task(settings.estimate_depth ? "estimate" : "build", "blender");
  const extra = ["--build-only"].concat(settings.rerender ? ["--force"] : []);
  task.addCommand(batchCommand(paths, settings, extra, frameCount(settings.frames)));
  return task;
}

// What a plain Blender must be told for a chunk to match the batch: the file extension on,
// frames already on disk kept (the batch's resume; "rerender" overwrites them), no placeholder
// files (a placeholder would look like a finished frame to another chunk and to the batch).
function renderSettingsExpr(settings) {
  return [
    "import bpy",
    "r = bpy.context.scene.render",
    "r.use_file_extension = True",
    `r.use_overwrite = ${settings.rerender ? "True" : "False"}`,
    "r.use_placeholder = False",
  ].join("\n");
}

function authorRenderTasks(settings, blendfile, outputPattern, scene, after) {
  const format = settings.format || "PNG";
  const before = (scene ? ["--scene", scene] : [])
    .concat(["--python-expr", renderSettingsExpr(settings)]);
  return frameChunker(settings.frames, settings.chunk_size).map((chunk) => {
    const task = author.Task(`render-${chunk}`, "blender");
    task.addCommand(blenderCommand(blendfile, before.concat([
      "--render-output", outputPattern,
      "--render-format", format,
      "--render-frame", blenderFrames(chunk),
    ]), frameCount(chunk)));
    if (after) {
      task.addDependency(after);
    }
    return task;
  });
}

// The shot list's last task: the batch makes the movie, contact sheet and plot from exactly
// the job's frames (rendering none: every render task is done).
function authorFinishTask(settings, paths, renders) {
  const frames = frameChunker(settings.frames, frameCount(settings.frames))[0];
  const task = author.Task("finish", "blender");
  task.addCommand(batchCommand(paths, settings, ["--frames", frames], 1));
  renders.forEach((render) => task.addDependency(render));
  return task;
}

// Without a shot list: FFmpeg makes the movie of this job's own folder.
function authorVideoTask(settings, folder, name, renders) {
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
    inputGlob: `${folder}/frame_*.png`,
    outputFile: `${folder}/${name}.mp4`,
    args: ["-c:v", "h264", "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-y"],
  }, 1));
  renders.forEach((render) => task.addDependency(render));
  return task;
}

// The file's stem: "/shots/sh010.flamenco.blend" -> "sh010".
function blendStem(path) {
  const name = `${path}`.split("/").pop().split("\\").pop();
  return name.replace(/\.blend$/, "").replace(/\.flamenco$/, "");
}

// A shot of a shot list: build once, render chunks into the shot's folder, finish.
function compileShot(job, settings, paths) {
  const build = authorBuildTask(settings, paths);
  job.addTask(build);
  const blendfile = `${paths.output}/${settings.shot}.blend`;
  const renders = authorRenderTasks(settings, blendfile, `${paths.output}/frame_####`, "", build);
  renders.forEach((task) => job.addTask(task));
  job.addTask(authorFinishTask(settings, paths, renders));
}

// The submitted .blend as it is, into a folder of this job's own (its submission time, as the
// built-in job type's "{timestamp}"), so a re-submission never mixes in older frames.
function compileBlend(job, settings, paths) {
  const folder = `${paths.output}/${formatTimestampLocal(job.created)}`;
  const renders = authorRenderTasks(settings, settings.blendfile, `${folder}/frame_####`,
    settings.scene, null);
  renders.forEach((task) => job.addTask(task));
  const video = authorVideoTask(settings, folder, blendStem(settings.blendfile), renders);
  if (video) {
    job.addTask(video);
  }
}

function compileJob(job) {
  const settings = job.settings;
  const paths = checkSettings(settings);
  if (settings.shot_list) {
    compileShot(job, settings, paths);
  } else {
    compileBlend(job, settings, paths);
  }
}
