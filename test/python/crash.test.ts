/** @file The Python gtrace writer seen from the TypeScript reader: killed with SIGKILL at random moments (a handful of
 * trials; `npm run bench -- python-crash` runs ≥ 100), every complete record is recovered with its contents, a
 * partial record is reported, and appending resumes on the same file; and a reader that has the file open picks up
 * the records the Python writer appends (`refresh()`, what `gradtrace serve` does to follow a run live). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, it } from "vitest";
import { crashTrials } from "../../bench/python-crash.bench.ts";
import { openTrace } from "../../src/trace/index.ts";
import { describeTorch, runPython } from "./harness.ts";

describeTorch("Python gtrace writer, read by TypeScript", () => {
  it("recovers every complete record, reports the partial one, resumes", { timeout: 300_000 }, async () => {
    const s = await crashTrials(6, 7);
    console.log(`crash trials: ${JSON.stringify(s)}`);
    expect(s.trials).toBe(6);
    expect(s.partial + s.clean + s.beforeHeader).toBe(6);
    expect(s.resumed).toBe(s.partial + s.clean);
    expect(s.recordsChecked).toBeGreaterThan(0);
  });

  it("is followed live: an open reader sees the records appended after it opened", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-live-"));
    try {
      const file = path.join(dir, "live.gtrace");
      const write = (mode: string, first: number, count: number) =>
        runPython([
          "test/python/crash_writer.py",
          file,
          mode,
          String(first),
          String(count),
          "100",
          "record",
          "65536",
        ]);
      write("create", 0, 2);
      const r = openTrace(file);
      try {
        expect(r.info.steps).toEqual([0, 1]);
        write("resume", 2, 3);
        expect(r.refresh!()).toBe(3);
        expect(r.info.steps).toEqual([0, 1, 2, 3, 4]);
        expect(r.readTensor(4, "w")[50]).toBe(Math.fround(4.5));
        expect(r.info.problems).toEqual([]);
      } finally {
        r.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
