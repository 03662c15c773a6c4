/** @file The Python package's own test suite (python/tests: sketches against the TypeScript hashing, the gtrace
 * writer, GradientLogger on real training loops, 2-process torch.distributed runs over gloo on loopback, the JAX
 * logger, and `pip install ./python` into a fresh venv with no package index), run as part of `npm test`. */
import * as path from "node:path";
import { expect, it } from "vitest";
import { describeTorch, REPO, runPython } from "./harness.ts";

describeTorch("python/tests (unittest)", () => {
  it("passes", { timeout: 900_000 }, () => {
    let output = "";
    try {
      output = runPython(["-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"], {
        cwd: path.join(REPO, "python"),
        env: { GRADTRACE_TEST_PIP: "1" },
        timeoutMs: 900_000,
        stderrToo: true,
      });
    } catch (err) {
      // The whole unittest report, so the failing Python test is visible in the vitest output.
      throw new Error(String(err));
    }
    expect(output).toMatch(/\nOK( \(skipped=\d+\))?\s*$/);
    expect(output).not.toMatch(/skipped '.*torch/);
  });
});
