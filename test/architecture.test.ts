/** @file The layering of src/, checked over the real import graph: every import that crosses from one layer to
 * another goes through that layer's index.ts (its only doorway), and layers import downwards only
 * (core ← io ← parallel ← trace ← analysis ← report ← serve / lab ← reproduce ← cli). */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../src");

/** Each layer and the layers it may import. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  io: ["core"],
  parallel: ["core"],
  trace: ["core", "io", "parallel"],
  analysis: ["core", "io", "parallel", "trace"],
  report: ["core", "io", "parallel", "trace", "analysis"],
  serve: ["core", "io", "parallel", "trace", "analysis", "report"],
  lab: ["core", "io", "parallel", "trace", "analysis", "report"],
  reproduce: ["core", "io", "parallel", "trace", "analysis", "report", "lab"],
  cli: ["core", "io", "parallel", "trace", "analysis", "report", "serve", "lab", "reproduce"],
};

interface Edge {
  readonly from: string; // file, relative to src/
  readonly to: string; // file, relative to src/
  readonly line: number;
}

function sourceFiles(): string[] {
  return (fs.readdirSync(SRC, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.split(path.sep).join("/"));
}

/** src/index.ts (the package's front door) sits above every layer and imports their doorways only. */
const FRONT_DOOR = "index.ts";

/** Relative imports and re-exports of every file, static and dynamic. */
function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles()) {
    const text = fs.readFileSync(path.join(SRC, file), "utf8");
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      let spec: string | undefined;
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
        spec = (node.moduleSpecifier as ts.StringLiteral).text;
      else if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        ts.isStringLiteral(node.arguments[0])
      )
        spec = node.arguments[0].text;
      if (spec?.startsWith(".")) {
        const to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        edges.push({ from: file, to, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return edges;
}

const layerOf = (file: string): string => file.split("/")[0];
const edges = importGraph();
const crossing = edges.filter((e) => layerOf(e.from) !== layerOf(e.to));

describe("src/ layering", () => {
  test("every top-level folder is a known layer with an index.ts", () => {
    const layers = new Set(
      sourceFiles()
        .filter((f) => f !== FRONT_DOOR)
        .map(layerOf),
    );
    expect([...layers].sort()).toEqual(Object.keys(ALLOWED).sort());
    for (const layer of layers) expect(fs.existsSync(path.join(SRC, layer, "index.ts")), layer).toBe(true);
  });

  test("the graph is real: it sees the imports the layers are known to make", () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(crossing.some((e) => e.from.startsWith("analysis/") && e.to === "core/index.ts")).toBe(true);
  });

  test("no cross-layer import bypasses the target layer's index.ts", () => {
    const bypass = crossing
      .filter((e) => e.to !== `${layerOf(e.to)}/index.ts`)
      .map((e) => `src/${e.from}:${e.line} → src/${e.to}`);
    expect(bypass).toEqual([]);
  });

  test("layers import downwards only", () => {
    const upward = crossing
      .filter((e) => e.from !== FRONT_DOOR && !(ALLOWED[layerOf(e.from)] ?? []).includes(layerOf(e.to)))
      .map((e) => `src/${e.from}:${e.line} (${layerOf(e.from)}) → src/${e.to} (${layerOf(e.to)})`);
    expect(upward).toEqual([]);
  });
});
