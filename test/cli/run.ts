/** @file Runs the CLI in-process (the same `main` the bin calls), capturing what it prints and its exit code. */
import { vi } from "vitest";
import { main } from "../../src/cli/main.ts";

/** A spiked-lab configuration small enough for tests (seconds, not minutes): append `--json <file>` etc. */
export const TINY_LAB = ["lab", "spiked", "--n", "24", "--d", "16", "--m", "20"] as const;

export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main(["node", "gradtrace", ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
