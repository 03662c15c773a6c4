/** @file The public API as a visible decision: every name src/index.ts exports, with its kind (function, class,
 * const, interface, type), read by the TypeScript compiler and compared with test/package/public-api.txt. A change
 * to the front door fails here until that file is updated (`npx vitest run test/package/api.test.ts -u`) and the
 * change is reviewed with it. The runtime module must export exactly the value kinds of that list. */
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ENTRY = path.resolve(import.meta.dirname, "../../src/index.ts");

function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return "class";
  if (f & ts.SymbolFlags.Function) return "function";
  if (f & ts.SymbolFlags.Enum) return "enum";
  if (f & ts.SymbolFlags.Variable) return "const";
  if (f & ts.SymbolFlags.Interface) return "interface";
  if (f & ts.SymbolFlags.TypeAlias) return "type";
  return `other(${f})`;
}

/** "kind name" per export of src/index.ts, sorted by name (case-insensitively). */
function publicApi(): string[] {
  const program = ts.createProgram([ENTRY], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(ENTRY)!)!;
  return checker
    .getExportsOfModule(module)
    .map((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return `${kindOf(target)} ${s.getName()}`;
    })
    .sort((a, b) => a.split(" ")[1].localeCompare(b.split(" ")[1], "en"));
}

describe("the public API (src/index.ts)", () => {
  const api = publicApi();

  it("is the reviewed list of names and kinds", async () => {
    expect(api.length).toBeGreaterThan(50);
    await expect(`${api.join("\n")}\n`).toMatchFileSnapshot("./public-api.txt");
  });

  it("exports at run time exactly its functions, classes and constants", async () => {
    const runtime = Object.keys(await import("../../src/index.ts")).sort();
    const values = api
      .filter((l) => /^(function|class|const|enum) /.test(l))
      .map((l) => l.split(" ")[1])
      .sort();
    expect(runtime).toEqual(values);
  });

  it("has no `export *`: every name is listed explicitly", async () => {
    const fs = await import("node:fs");
    expect(fs.readFileSync(ENTRY, "utf8")).not.toMatch(/export\s+(type\s+)?\*/);
  });
});
