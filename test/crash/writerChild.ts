/** @file The process a crash trial kills: appends steps 0, 1, 2, … to a gtrace file with the TypeScript writer as
 * fast as it can, and after each `append` returns, records that step in an acknowledgement file with a synchronous
 * positioned write — so whatever moment SIGKILL lands, the parent knows a step that was certainly complete.
 * Usage: writerChild.ts <trace> <ack file> <elements of tensor "a"> */
import * as fs from "node:fs";
import { createGtraceWriter } from "../../src/trace/index.ts";
import { CRASH_TENSORS, crashStepValues } from "./values.ts";

const [file, ackFile, numelText] = process.argv.slice(2);
const numel = Number(numelText);
const writer = createGtraceWriter(file, { tensors: CRASH_TENSORS(numel) });
const ack = fs.openSync(ackFile, "w");
process.stdout.write("ready\n");
for (let step = 0; ; step++) {
  const { values, momentum } = crashStepValues(step, numel);
  writer.append(step, values, { loss: step / 10, ...(momentum ? { momentum } : {}) });
  const text = `${String(step).padStart(10, " ")}\n`;
  fs.writeSync(ack, text, 0);
}
