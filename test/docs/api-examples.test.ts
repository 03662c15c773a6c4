/** @file docs/api.md is executed: every ```js block runs, in order, as an ES module importing "gradtrace" — the
 * built package, resolved by Node's self-reference through package.json `exports`, exactly as a user's import
 * resolves — with one scratch folder as working directory (later examples read what earlier ones wrote), and what it
 * prints must equal the ```text block shown under it. A js block without its output block fails, so every example
 * shows, and this test checks, what it does. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, requireBuilt } from "../dist.ts";

interface Example {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  readonly expected: string | null;
}

/** The ```js blocks of a Markdown text, each with the ```text block that follows it (prose may sit between). */
function examples(markdown: string): Example[] {
  const lines = markdown.split("\n");
  const blocks: { line: number; lang: string; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    blocks.push({ line: start + 1, lang: open[1], body: body.join("\n") });
  }
  return blocks.flatMap((b, k) =>
    b.lang === "js"
      ? [{ line: b.line, code: b.body, expected: blocks[k + 1]?.lang === "text" ? blocks[k + 1].body : null }]
      : [],
  );
}

const DOC = path.join(REPO, "docs", "api.md");
const all = examples(fs.readFileSync(DOC, "utf8"));
let scratch: string;
let modules: string;

beforeAll(() => {
  requireBuilt();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gt-api-doc-"));
  // Inside the repository (git-ignored .cache/), so `import "gradtrace"` resolves to this package's exports.
  fs.mkdirSync(path.join(REPO, ".cache"), { recursive: true });
  modules = fs.mkdtempSync(path.join(REPO, ".cache", "api-doc-"));
});

afterAll(() => {
  for (const d of [scratch, modules]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe("docs/api.md", () => {
  it("has examples, each followed by the output it prints", () => {
    expect(all.length).toBeGreaterThan(5);
    for (const ex of all)
      expect(ex.expected, `docs/api.md:${ex.line}: no \`\`\`text output block`).not.toBeNull();
  });

  it.each(all.map((ex) => [ex.line, ex] as const))(
    "the example at line %i prints what the page shows",
    (_, ex) => {
      const file = path.join(modules, `example-${ex.line}.mjs`);
      fs.writeFileSync(file, `${ex.code}\n`);
      const r = spawnSync(process.execPath, [file], { cwd: scratch, encoding: "utf8", timeout: 240_000 });
      expect(r.status, `docs/api.md:${ex.line} exited ${r.status}:\n${r.stderr}`).toBe(0);
      expect(r.stdout.trimEnd(), `docs/api.md:${ex.line}`).toBe(ex.expected!.trimEnd());
    },
  );
});
