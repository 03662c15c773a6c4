/** Readers checked against files written by numpy and by the Python logging snippets (a foreign writer with known
 * values), and the snippets themselves run through python3. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { openTrace, type TraceReader, writeNpy, writeNpz, writeSafetensors } from "../../src/trace/index.ts";
import { tempDir } from "./helpers.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const EXAMPLES = path.resolve(import.meta.dirname, "../../examples");
type Encoded = { shape: number[]; c_order: (number | string)[] };
const expected: Record<string, Encoded> = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, "expected.json"), "utf8"),
);

const decode = (x: number | string): number =>
  typeof x === "number"
    ? x
    : x === "nan"
      ? Number.NaN
      : x === "inf"
        ? Infinity
        : x === "-inf"
          ? -Infinity
          : -0;

/** Float64 values through readSlice compared bit for bit (Object.is: NaN equals NaN, -0 differs from +0). */
function expectTensor(r: TraceReader, pos: number, name: string, want: Encoded): void {
  const info = r.info.tensors.find((t) => t.name === name);
  expect(info?.shape).toEqual(want.shape);
  const out = new Float64Array(want.c_order.length);
  r.readSlice(pos, name, 0, out.length, out);
  const bad = want.c_order.map(decode).filter((v, i) => !Object.is(v, out[i]));
  expect(bad, `${name}: ${Array.from(out)}`).toEqual([]);
}

describe("fixtures written by numpy / by hand in Python", () => {
  it("npy-dir: v1/v2/v3 headers, little/big endian, Fortran order, f2 specials, 0-d", () => {
    const r = openTrace(path.join(FIXTURES, "npy-dir"), { tmpDir: tempDir() });
    expect(r.info.format).toBe("npy-dir");
    expect(r.info.steps).toEqual([7]);
    for (const name of ["le_c", "be_f8", "fortran", "half", "scalar"])
      expectTensor(r, 0, name, expected[`npy-dir/${name}`]);
    r.close();
  });
  it.each(["npz-stored", "npz-deflated"])("%s: np.savez output over two steps, with loss", (layout) => {
    const r = openTrace(path.join(FIXTURES, layout), { tmpDir: tempDir() });
    expect(r.info.steps).toEqual([1, 2]);
    expect(r.info.loss).toEqual([1, 0.5]);
    for (const step of [1, 2]) {
      for (const name of ["le_c", "fortran", "half"])
        expectTensor(r, step - 1, name, expected[`${layout}/${step}/${name}`]);
    }
    r.close();
  });
  it("safetensors written by hand: F32, F16, F64 and metadata", () => {
    const r = openTrace(path.join(FIXTURES, "safetensors-dir"));
    expect(r.info.loss).toEqual([0.75]);
    expect(r.info.lr).toEqual([0.001]);
    for (const name of ["w", "h", "d"]) expectTensor(r, 0, name, expected[`safetensors-dir/${name}`]);
    r.close();
  });
});

const python = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
const havePython = python.status === 0;

describe("Python logging snippets", () => {
  // The one allowed skip: these need python3 with numpy on the machine running the tests.
  it.skipIf(!havePython)(
    "pytorch_logger (numpy part) and jax_logger write traces gradtrace reads back exactly",
    () => {
      const out = tempDir();
      const script = `
import sys, numpy as np
sys.path.insert(0, ${JSON.stringify(EXAMPLES)})
from pytorch_logger import save_step, GtraceWriter
from jax_logger import log_gradients
out = ${JSON.stringify(out)}
def grads(step):
    return {"layer.w": (np.arange(12, dtype=np.float32).reshape(3, 4) + step) / 7, "layer.b": np.full(4, -0.5 * step, np.float32)}
gw = GtraceWriter(out + "/run.gtrace", [("layer.w", (3, 4)), ("layer.b", (4,))], meta={"from": "python"})
for step in (0, 1, 2, 4):
    save_step(grads(step), step, out + "/st", "safetensors", loss=1.0 / (step + 1), lr=0.01)
    save_step(grads(step), step, out + "/npz", "npz", loss=1.0 / (step + 1))
    log_gradients({"layer": {"w": grads(step)["layer.w"], "b": grads(step)["layer.b"]}}, step, out + "/jax")
    gw.append(step, grads(step), loss=1.0 / (step + 1), momentum={"layer.b": grads(step)["layer.b"] * 2})
gw.close()
`;
      const run = spawnSync("python3", ["-c", script], { encoding: "utf8" });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const steps = [0, 1, 2, 4];
      const w = (s: number): number[] =>
        Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i + s) / 7));
      const b = (s: number): number[] => new Array(4).fill(Math.fround(-0.5 * s));
      for (const dir of ["st", "npz", "jax", "run.gtrace"]) {
        const r = openTrace(path.join(out, dir));
        expect(r.info.steps).toEqual(steps);
        expect(r.info.problems.map((p) => p.kind)).toEqual(["missing-step"]);
        steps.forEach((s, pos) => {
          expect(Array.from(r.readTensor(pos, "layer.w"))).toEqual(w(s));
          expect(Array.from(r.readTensor(pos, "layer.b"))).toEqual(b(s));
        });
        if (dir !== "jax") expect(r.info.loss).toEqual(steps.map((s) => 1 / (s + 1)));
        if (dir === "run.gtrace") {
          expect(Array.from(r.readState!(3, "layer.b", "momentum")!)).toEqual(b(4).map((x) => 2 * x));
          expect(r.info.lr).toEqual([null, null, null, null]);
        }
        r.close();
      }
    },
  );
});

describe("files written by gradtrace, read by numpy", () => {
  // Same allowed skip as above: needs python3 with numpy.
  it.skipIf(!havePython)(
    "np.load reads writeNpy / writeNpz (stored and deflated); a struct parser reads writeSafetensors",
    () => {
      const dir = tempDir();
      const values = Float32Array.from([1.5, -2, 3.25, 0, -0, 1e-8]);
      const t = { dtype: "F32" as const, shape: [2, 3], data: values };
      writeNpy(path.join(dir, "a.npy"), t);
      writeNpy(path.join(dir, "h.npy"), { dtype: "F16", shape: [6], data: values });
      writeNpz(path.join(dir, "s.npz"), {
        x: t,
        y: { dtype: "F64", shape: [], data: new Float64Array([0.1]) },
      });
      writeNpz(path.join(dir, "d.npz"), { x: t }, { compress: true });
      writeSafetensors(path.join(dir, "w.safetensors"), { x: t }, { loss: "0.5" });
      const script = `
import json, struct, sys, numpy as np
d = ${JSON.stringify(dir)}
out = {"a": np.load(d + "/a.npy"), "h": np.load(d + "/h.npy")}
with np.load(d + "/s.npz") as z: out["sx"], out["sy"] = z["x"], z["y"]
with np.load(d + "/d.npz") as z: out["dx"] = z["x"]
out["href"] = out["a"].ravel().astype(np.float16)
raw = open(d + "/w.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
hdr = json.loads(raw[8:8 + n])
b, e = hdr["x"]["data_offsets"]
out["w"] = np.frombuffer(raw[8 + n + b:8 + n + e], "<f4").reshape(hdr["x"]["shape"])
print(json.dumps({k: {"shape": list(v.shape), "dtype": v.dtype.str, "values": v.ravel().astype(float).tolist()} for k, v in out.items()} | {"meta": hdr["__metadata__"]}))
`;
      const run = spawnSync("python3", ["-c", script], { encoding: "utf8" });
      expect(run.stderr).toBe("");
      const got = JSON.parse(run.stdout);
      const f32 = Array.from(values);
      expect(got.a).toEqual({ shape: [2, 3], dtype: "<f4", values: f32 });
      expect(got.sx).toEqual(got.a);
      expect(got.dx).toEqual(got.a);
      expect(got.w).toEqual(got.a);
      expect(got.sy).toEqual({ shape: [], dtype: "<f8", values: [0.1] });
      expect(got.h.dtype).toBe("<f2");
      // numpy's own float16 rounding of the float32 values agrees with ours
      expect(got.h).toEqual(got.href);
      expect(got.meta).toEqual({ loss: "0.5" });
    },
  );
});
