/** @file Public API of the trace layer: open / detect, readers' contract, writers and conversion. */

export { type ConvertOptions, type ConvertResult, convertTrace } from "./convert.ts";
export { bf16ToFloat, f16ToFloat, floatToBf16, floatToF16 } from "./dtype.ts";
export type { StateKind } from "./gtraceFormat.ts";
export { type GtraceAppendPoint, GtraceReader } from "./gtraceReader.ts";
export {
  createGtraceWriter,
  type GtraceResumeInfo,
  type GtraceTensorSpec,
  type GtraceWriter,
  type GtraceWriterOptions,
} from "./gtraceWriter.ts";
export { type Manifest, validateManifest } from "./manifest.ts";
export { type NpyTensor, writeNpy } from "./npy.ts";
export { type WriteNpzOptions, writeNpz } from "./npz.ts";
export {
  type DirEntry,
  GTRACE_EXTENSION,
  listEntries,
  locateTrace,
  MANIFEST_NAME,
  scanTraceEntries,
  type TraceDirectoryScan,
  type TraceLocation,
} from "./locate.ts";
export { openTrace } from "./open.ts";
export { type SafetensorsTensor, writeSafetensors } from "./safetensors.ts";
export { refuseCorruption } from "./steps.ts";
export type {
  DType,
  OpenTraceOptions,
  RangeSketchInfo,
  RangeSketchTensor,
  SketchInfo,
  StepExtras,
  TensorInfo,
  TraceFormat,
  TraceInfo,
  TraceProblem,
  TraceReader,
  TraceWriter,
} from "./types.ts";
