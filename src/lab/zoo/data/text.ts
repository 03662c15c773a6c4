/** @file Real English text for the language models, available offline: the README of the `commander` npm package
 * (MIT licence, © TJ Holowaychuk and contributors), a runtime dependency of gradtrace and therefore installed
 * wherever gradtrace is. ~43 kB of English prose mixed with JavaScript examples. For the character model, characters
 * outside printable ASCII are mapped to "?" so the vocabulary stays small and stable across commander versions; the
 * byte-level model (gpt2) reads the UTF-8 bytes unmapped. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Rng } from "../../../core/index.ts";
import { GradtraceError } from "../../../core/index.ts";

export const TEXT_SOURCE = "node_modules/commander/Readme.md (commander npm package, MIT licence)";

export interface CharCorpus {
  readonly text: string;
  /** Vocabulary: index → character (sorted). */
  readonly chars: readonly string[];
  /** Token ids of the whole text. */
  readonly ids: Uint8Array;
}

let cached: CharCorpus | null = null;

/** The README's text with Windows line ends normalised. */
function readCommanderReadme(caller: string): string {
  const require = createRequire(import.meta.url);
  let path = "";
  try {
    path = join(dirname(require.resolve("commander")), "Readme.md");
    return readFileSync(path, "utf8").replace(/\r\n/g, "\n");
  } catch (err) {
    throw new GradtraceError("E_NOT_FOUND", `${caller}: cannot read the commander README at "${path}"`, {
      cause: err,
    });
  }
}

export function loadCharCorpus(): CharCorpus {
  if (cached !== null) return cached;
  const text = readCommanderReadme("loadCharCorpus").replace(/[^\n\x20-\x7e]/g, "?");
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) ids[i] = index.get(text[i]) ?? 0;
  cached = { text, chars, ids };
  return cached;
}

/** The same text as bytes for a byte-level model (GPT-2's byte-level vocabulary of 256 symbols, without BPE merges):
 * the UTF-8 bytes of the commander README, unmapped — every byte value is a token. */
export interface ByteCorpus {
  /** Always 256. */
  readonly vocab: number;
  readonly ids: Uint8Array;
}

let cachedBytes: ByteCorpus | null = null;

export function loadByteCorpus(): ByteCorpus {
  cachedBytes ??= { vocab: 256, ids: new TextEncoder().encode(readCommanderReadme("loadByteCorpus")) };
  return cachedBytes;
}

/** `size` windows of `context + 1` consecutive characters at uniformly random offsets: one-hot inputs
 * [size, context, V] and one-hot next-character targets [size·context, V]. */
export function sampleCharWindows(
  corpus: CharCorpus,
  rng: Rng,
  size: number,
  context: number,
): { inputs: Float32Array; targets: Float32Array } {
  return sampleTokenWindows({ ids: corpus.ids, vocab: corpus.chars.length }, rng, size, context);
}

/** `size` windows of `context + 1` consecutive tokens of `ids` (values < vocab) at uniformly random offsets:
 * one-hot inputs [size, context, vocab] and one-hot next-token targets [size·context, vocab]. */
export function sampleTokenWindows(
  corpus: { readonly ids: Uint8Array; readonly vocab: number },
  rng: Rng,
  size: number,
  context: number,
): { inputs: Float32Array; targets: Float32Array } {
  const v = corpus.vocab;
  const inputs = new Float32Array(size * context * v);
  const targets = new Float32Array(size * context * v);
  const maxStart = corpus.ids.length - context - 1;
  for (let i = 0; i < size; i++) {
    const start = rng.int(maxStart);
    for (let t = 0; t < context; t++) {
      const row = i * context + t;
      inputs[row * v + corpus.ids[start + t]] = 1;
      targets[row * v + corpus.ids[start + t + 1]] = 1;
    }
  }
  return { inputs, targets };
}
