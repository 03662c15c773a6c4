/** @file The one layout detector (locateTrace / scanTraceEntries) on every layout a user points gradtrace at: trace
 * files, trace directories, the run directories `gradtrace train` and `gradtrace demo` write (full and sketched),
 * and symbolic links to step files, step directories and whole runs. Each is opened and its values compared with
 * what was written; ambiguous and empty directories fail with messages that name what was found. The dashboard's
 * discovery is checked to list exactly the traces openTrace opens. */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createTraceLogger } from "../../src/lab/index.ts";
import { discover } from "../../src/serve/discover.ts";
import {
  createGtraceWriter,
  locateTrace,
  openTrace,
  type TraceFormat,
  type TraceReader,
  writeNpy,
  writeNpz,
  writeSafetensors,
} from "../../src/trace/index.ts";
import { expectError, randomValues } from "./helpers.ts";

const STEPS = [0, 1, 2];
const N = 6;
/** The gradient of step `s` in every fixture: the same numbers whatever the layout. */
const grad = (s: number): Float32Array => randomValues(N, 100 + s);

function expectSteps(reader: TraceReader): void {
  expect(reader.info.steps).toEqual(STEPS);
  expect(reader.info.tensors.map((t) => t.name)).toEqual(["g"]);
  STEPS.forEach((s, pos) => {
    expect(Array.from(reader.readTensor(pos, "g"))).toEqual(Array.from(grad(s)));
  });
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? "/tmp"), "gt-locate-"));
  const dir = (name: string) => {
    const d = path.join(root, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  // a bare .gtrace file
  const w = createGtraceWriter(path.join(dir("file"), "run.gtrace"), {
    tensors: [{ name: "g", shape: [N] }],
  });
  for (const s of STEPS) w.append(s, { g: grad(s) });
  w.close();
  // the run directories the zoo trainer writes: trace.gtrace + run.json, and trace.json + trace.gtrace sketched
  for (const [name, sketch] of [
    ["train", undefined],
    ["sketched", "jl:4"],
  ] as const) {
    const logger = createTraceLogger({
      outDir: dir(name),
      params: [{ name: "g", shape: [N], init: { kind: "constant", value: 0 } }],
      sketch,
    });
    for (const s of STEPS) logger.onStep({ step: s, loss: 1, metric: 0, lr: 0.1, grads: { g: grad(s) } });
    logger.close();
    fs.writeFileSync(path.join(root, name, "run.json"), "{}");
  }
  for (const s of STEPS) {
    const t = { dtype: "F32" as const, shape: [N], data: grad(s) };
    writeSafetensors(path.join(dir("st"), `step_${s}.safetensors`), { g: t });
    writeNpz(path.join(dir("npz"), `step_${s}.npz`), { g: t });
    writeNpy(path.join(dir(`npy/step_${s}`), "g.npy"), t);
    // symbolic links: to step files, to step directories
    fs.symlinkSync(
      path.join(root, "st", `step_${s}.safetensors`),
      path.join(dir("linked-files"), `step_${s}.safetensors`),
    );
    fs.symlinkSync(path.join(root, "npy", `step_${s}`), path.join(dir("linked-steps"), `step_${s}`));
  }
  fs.symlinkSync(path.join(root, "train"), path.join(root, "linked-run"));
});

describe("locateTrace / openTrace on every everyday layout", () => {
  const cases: [string, TraceFormat, string][] = [
    ["file/run.gtrace", "gtrace", "file/run.gtrace"],
    ["file", "gtrace", "file/run.gtrace"], // a directory holding exactly one .gtrace
    ["train", "gtrace", "train/trace.gtrace"], // gradtrace train --out train
    ["linked-run", "gtrace", "linked-run/trace.gtrace"],
    ["sketched", "manifest", "sketched/trace.json"], // gradtrace train --sketch: the manifest wins over its data
    ["sketched/trace.json", "manifest", "sketched/trace.json"],
    ["st", "safetensors-dir", "st"],
    ["npz", "npz-dir", "npz"],
    ["npy", "npy-dir", "npy"],
    ["linked-files", "safetensors-dir", "linked-files"],
    ["linked-steps", "npy-dir", "linked-steps"],
  ];
  it.each(cases)("%s → %s", (given, format, opened) => {
    expect(locateTrace(path.join(root, given))).toEqual({ format, path: path.join(root, opened) });
    const reader = openTrace(path.join(root, given));
    try {
      expect(reader.info.format).toBe(format === "manifest" ? "manifest" : format);
      if (given.startsWith("sketched")) {
        // k = 4 sketched numbers per step instead of the gradient, declared as such
        expect(reader.info.steps).toEqual(STEPS);
        expect(reader.info.sketch?.k).toBe(4);
        expect(reader.readTensor(0, "g").length).toBe(4);
      } else expectSteps(reader);
    } finally {
      reader.close();
    }
  });

  it("a forced format resolves a run directory to its manifest or its single .gtrace", () => {
    expect(locateTrace(path.join(root, "train"), "gtrace").path).toBe(
      path.join(root, "train", "trace.gtrace"),
    );
    expect(locateTrace(path.join(root, "sketched"), "gtrace").path).toBe(
      path.join(root, "sketched", "trace.gtrace"),
    );
    expect(locateTrace(path.join(root, "sketched"), "manifest").path).toBe(
      path.join(root, "sketched", "trace.json"),
    );
    expectError(() => locateTrace(path.join(root, "st"), "gtrace"), "E_FORMAT", /st: no \.gtrace file/);
  });
});

describe("ambiguous, empty and missing", () => {
  const fresh = (name: string): string => {
    const d = path.join(root, "bad", name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  it("several .gtrace files: names them and asks for one", () => {
    const d = fresh("two");
    for (const n of ["a.gtrace", "b.gtrace"])
      fs.copyFileSync(path.join(root, "file", "run.gtrace"), path.join(d, n));
    expectError(
      () => openTrace(d),
      "E_FORMAT",
      /two: holds 2 \.gtrace files \(a\.gtrace, b\.gtrace\); name the one/,
    );
    // naming one works
    expectSteps(openTrace(path.join(d, "a.gtrace")));
  });
  it("step files and a .gtrace, or two step layouts: ambiguous, says what it found", () => {
    const d = fresh("mixed");
    fs.copyFileSync(path.join(root, "st", "step_0.safetensors"), path.join(d, "step_0.safetensors"));
    fs.copyFileSync(path.join(root, "file", "run.gtrace"), path.join(d, "run.gtrace"));
    expectError(
      () => openTrace(d),
      "E_FORMAT",
      /ambiguous, holds safetensors-dir steps and run\.gtrace; pass a format/,
    );
    const e = fresh("layouts");
    fs.copyFileSync(path.join(root, "st", "step_0.safetensors"), path.join(e, "step_0.safetensors"));
    fs.copyFileSync(path.join(root, "npz", "step_0.npz"), path.join(e, "step_0.npz"));
    expectError(() => openTrace(e), "E_FORMAT", /ambiguous, holds npz-dir steps and safetensors-dir steps/);
    expect(openTrace(e, { format: "npz-dir" }).info.format).toBe("npz-dir");
  });
  it("empty, hidden-only, dangling links and foreign names: no trace found, with what was expected", () => {
    const d = fresh("empty");
    expectError(
      () => openTrace(d),
      "E_FORMAT",
      /empty: no trace found \(expected a \.gtrace file, a trace\.json/,
    );
    fs.copyFileSync(path.join(root, "file", "run.gtrace"), path.join(d, ".hidden.gtrace"));
    fs.symlinkSync(path.join(root, "nowhere.safetensors"), path.join(d, "step_0.safetensors"));
    fs.writeFileSync(path.join(d, "model.safetensors"), "");
    expectError(() => openTrace(d), "E_FORMAT", /no trace found/);
    expectError(() => openTrace(path.join(root, "absent")), "E_NOT_FOUND", /absent: no such file/);
  });
});

describe("the dashboard's discovery uses the same detector", () => {
  it("lists every trace of the tree once, each of which openTrace opens", () => {
    const found = discover(root).runs;
    const rel = found.map((r) => r.relPath);
    expect(rel).toEqual([
      "bad/layouts", // listed: opening it explains the ambiguity
      "bad/mixed",
      "bad/two/a.gtrace",
      "bad/two/b.gtrace",
      "file/run.gtrace",
      "linked-files",
      "linked-run/trace.gtrace",
      "linked-steps",
      "npy",
      "npz",
      "sketched",
      "st",
      "train/trace.gtrace",
    ]);
    for (const run of found) {
      if (run.relPath.startsWith("bad/layouts") || run.relPath.startsWith("bad/mixed")) {
        expectError(() => openTrace(run.absPath), "E_FORMAT", /ambiguous/);
        continue;
      }
      const reader = openTrace(run.absPath);
      expect(reader.info.steps).toEqual(STEPS);
      reader.close();
    }
  });
});
