/** @file The Python gtrace writer killed with SIGKILL at random moments (a handful of trials; the benchmark
 * `npm run bench -- python-crash` runs ≥ 100): every complete record is recovered by the TypeScript reader with its
 * contents, a partial record is reported, and appending resumes on the same file. Needs only numpy. */
import { expect, it } from "vitest";
import { crashTrials } from "../../bench/python-crash.bench.ts";
import { describeTorch } from "./harness.ts";

describeTorch("Python gtrace writer under SIGKILL", () => {
  it("recovers every complete record, reports the partial one, resumes", { timeout: 300_000 }, async () => {
    const s = await crashTrials(6, 7);
    console.log(`crash trials: ${JSON.stringify(s)}`);
    expect(s.trials).toBe(6);
    expect(s.partial + s.clean + s.beforeHeader).toBe(6);
    expect(s.resumed).toBe(s.partial + s.clean);
    expect(s.recordsChecked).toBeGreaterThan(0);
  });
});
