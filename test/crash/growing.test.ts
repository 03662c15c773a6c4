/** @file A reader following a file that another process is writing (live mode) never reads a record that is not
 * complete: while a writer process appends as fast as it can, the reader refreshes in a tight loop and reads every
 * step as soon as it appears; every read must return exactly what was written (no checksum failure, no torn
 * record), and the only problem ever reported is the record still being written at the end of the file. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { openTrace } from "../../src/trace/index.ts";
import { crashStepValues } from "./values.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-growing-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("refreshing while another process appends: whole records only, values as written", async () => {
  const file = path.join(dir, "live.gtrace");
  const numel = 1 << 16;
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.resolve(import.meta.dirname, "writerChild.ts"),
      file,
      path.join(dir, "ack"),
      String(numel),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((r) => child.once("exit", r));
  await new Promise<void>((resolve) =>
    child.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve()),
  );
  const r = openTrace(file);
  let read = 0;
  let refreshes = 0;
  try {
    const until = Date.now() + 3000;
    while (Date.now() < until || read < 5) {
      r.refresh!();
      refreshes++;
      for (const p of r.info.problems) {
        expect(p.kind, p.message).toBe("truncated-record");
      }
      for (; read < r.info.steps.length; read++) {
        const { values } = crashStepValues(read, numel);
        expect(r.info.steps[read]).toBe(read);
        const a = r.readTensor(read, "a");
        expect(
          a.every((x, i) => x === values.a[i]),
          `step ${read}`,
        ).toBe(true);
      }
      await new Promise((res) => setImmediate(res));
    }
  } finally {
    child.kill("SIGKILL");
    await exited;
    r.close();
  }
  expect(read).toBeGreaterThanOrEqual(5);
  expect(refreshes).toBeGreaterThan(read);
}, 60_000);
