// A mock of Flamenco's job compiler (the Manager's Go package internal/manager/job_compilers,
// public at https://projects.blender.org/studio/flamenco), for running flamenco/rack_focus.js
// offline in Node's `vm` module. Each part follows the Go function named beside it:
//
//   frameChunker, frameCount   js_globals.go: jsFrameChunker, jsFrameCount, frameRangeExplode,
//                              frameRangeMerge (and js_globals_test.go's cases)
//   author.Task, author.Command
//                              author.go: Author.Task (name and type trimmed and required,
//                              priority 50, a UUID), Author.Command(cmdName, parameters,
//                              totalStepCount) (a missing step count is 0, "no steps")
//   task.addCommand, task.addDependency, job.addTask
//                              author.go: AuthoredTask.AddCommand, AddDependency,
//                              AuthoredJob.AddTask, which appends a COPY of the task (`*at`):
//                              what the script changes on a task after adding it is lost
//   formatTimestampLocal       js_globals.go: jsFormatTimestampLocal ("2006-01-02_150405")
//   globals                    scripts.go: newGojaVM sets print, alert, frameChunker,
//                              frameCount, formatTimestampLocal, shellSplit, author, path,
//                              process; job_compilers.go: Compile copies the submitted settings
//
//   node tests/flamenco/flamenco_mock.js --dump JSON
//       print the tasks compiled for the job settings JSON (tests/pure/test_flamenco.py)

"use strict";

const fs = require("fs");
const path = require("path");
const vm = require("vm");

const SCRIPT = path.join(__dirname, "..", "..", "flamenco", "rack_focus.js");

// Go's ErrInvalidRange message: `invalid range "RANGE": MESSAGE`.
function invalidRange(range, message) {
  return new Error(`invalid range "${range}": ${message}`);
}

// strconv.ParseInt(strings.TrimSpace(s), 10, 64): an optional sign, then digits only.
function parseInt64(text, range, part) {
  const s = text.trim();
  if (!/^[+-]?\d+$/.test(s)) {
    throw invalidRange(range, part);
  }
  return Number(s);
}

// frameRangeExplode: "A..B" read as "A-B"; comma-separated items, each a frame or "A-B"
// (an item with more than one "-" is invalid); duplicates dropped; sorted ascending.
function frameRangeExplode(frameRange) {
  const regular = `${frameRange}`.split("..").join("-");
  const frames = new Set();
  for (const part of regular.split(",")) {
    const startEnd = part.split("-");
    if (startEnd.length === 1) {
      frames.add(parseInt64(startEnd[0], regular, part));
    } else if (startEnd.length === 2) {
      const start = parseInt64(startEnd[0], regular, part);
      const end = parseInt64(startEnd[1], regular, part);
      for (let frame = start; frame <= end; frame++) {
        frames.add(frame);
      }
    } else {
      throw invalidRange(regular, part);
    }
  }
  return Array.from(frames).sort((a, b) => a - b);
}

// frameRangeMerge: runs of three or more frames as "A-B"; one frame as "A"; two consecutive
// frames as "A,B" (not "A-B").
function frameRangeMerge(frames) {
  const ranges = [];
  const append = (from, to) => {
    if (from === to) {
      ranges.push(`${from}`);
    } else if (from + 1 === to) {
      ranges.push(`${from}`, `${to}`);
    } else {
      ranges.push(`${from}-${to}`);
    }
  };
  let start = frames[0];
  let prev = frames[0];
  for (const frame of frames) {
    if (frame > prev + 1) {
      append(start, prev);
      start = frame;
    }
    prev = frame;
  }
  append(start, prev);
  return ranges.join(",");
}

// jsFrameChunker(frameRange string, chunkSize int): goja converts the size to a Go int
// (JavaScript's ToInteger: truncated).
function frameChunker(frameRange, chunkSize) {
  const range = `${frameRange}`.trim();
  if (range.length === 0) {
    throw invalidRange(range, "empty range");
  }
  const size = Math.trunc(Number(chunkSize)) || 0;
  if (size < 1) {
    throw new Error(`invalid chunk size, must be positive number: ${size}`);
  }
  const frames = frameRangeExplode(range);
  if (frames.length === 0) {
    throw invalidRange(range, "empty range");
  }
  const chunks = [];
  for (let i = 0; i < frames.length; i += size) {
    chunks.push(frameRangeMerge(frames.slice(i, i + size)));
  }
  return chunks;
}

// jsFrameCount: the number of distinct frames.
function frameCount(frameRange) {
  return frameRangeExplode(frameRange).length;
}

// jsFormatTimestampLocal: Go's layout "2006-01-02_150405" in local time.
function formatTimestampLocal(date) {
  const pad = (n) => `${n}`.padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

function mockAuthor() {
  let nextId = 0;
  return {
    Task(name, taskType) {
      const n = `${name}`.trim();
      const t = `${taskType}`.trim();
      if (!n) {
        throw new Error("author.Task(name, type): name is required");
      }
      if (!t) {
        throw new Error("author.Task(name, type): type is required");
      }
      nextId += 1;
      return {
        uuid: `task-${nextId}`, name: n, type: t, priority: 50, commands: [], dependencies: [],
        addCommand(command) { this.commands.push(Object.assign({}, command)); },
        addDependency(task) { this.dependencies.push(task); },
      };
    },
    Command(cmdName, parameters, totalStepCount) {
      // A Go int parameter: undefined becomes 0, a fraction is truncated.
      return { name: cmdName, parameters: parameters,
        totalStepCount: Math.trunc(Number(totalStepCount)) || 0 };
    },
  };
}

// A fresh VM per compile, as compilerVMForJobType makes one per call.
function loadJobType() {
  const source = fs.readFileSync(SCRIPT, "utf8");
  const printed = [];
  const context = vm.createContext({
    author: mockAuthor(),
    frameChunker: frameChunker,
    frameCount: frameCount,
    formatTimestampLocal: formatTimestampLocal,
    print: (...parts) => printed.push(parts.join(" ")),
    alert: (...parts) => printed.push(parts.join(" ")),
  });
  vm.runInContext(source, context, { filename: SCRIPT });
  const api = vm.runInContext("({ JOB_TYPE: JOB_TYPE, compileJob: compileJob })", context);
  return { source: source, api: api, printed: printed };
}

const CREATED = new Date(2026, 11, 6, 21, 30, 5);

// AuthoredJob.AddTask stores `*at`: a copy of the task as it is now (its command and
// dependency lists as they are; later appends to the script's object do not reach it).
function compile(settings, created) {
  const loaded = loadJobType();
  const tasks = [];
  const job = {
    name: "job", created: created || CREATED, settings: Object.assign({}, settings),
    addTask: (task) => tasks.push(Object.assign({}, task, {
      commands: task.commands.slice(), dependencies: task.dependencies.slice(),
    })),
  };
  loaded.api.compileJob(job);
  return { tasks: tasks, printed: loaded.printed, settings: job.settings };
}

// A value made in the script's context, copied into this one (deepStrictEqual compares
// prototypes, and every vm context has its own Array and Object).
function host(value) {
  return JSON.parse(JSON.stringify(value));
}

// The job as the Manager stores it: dependencies by task UUID, shown here by name.
function plain(tasks) {
  const names = {};
  tasks.forEach((t) => { names[t.uuid] = t.name; });
  return host(tasks.map((t) => ({
    name: t.name,
    type: t.type,
    commands: t.commands.map((c) => ({ name: c.name, parameters: c.parameters,
      steps: c.totalStepCount })),
    dependencies: t.dependencies.map((d) => names[d.uuid] || `missing:${d.name}`),
  })));
}

module.exports = { SCRIPT, frameChunker, frameCount, formatTimestampLocal, loadJobType,
  compile, host, plain, CREATED };

if (require.main === module && process.argv[2] === "--dump") {
  const settings = JSON.parse(process.argv[3]);
  process.stdout.write(JSON.stringify(plain(compile(settings).tasks)) + "\n");
}
