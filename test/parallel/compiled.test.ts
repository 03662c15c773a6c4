/** @file The pool as the compiled package runs it: src/core and src/parallel and the test task module transpiled
 * to JavaScript (as `tsc` emits them into dist/, `.ts` specifiers rewritten to `.js`), then driven by plain Node
 * without tsx. The worker must load the `.js` siblings and get no TypeScript loader. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { afterAll, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const out = fs.mkdtempSync(path.join(os.tmpdir(), "gt-compiled-pool-"));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function transpileTree(fromDir: string, toDir: string): void {
  for (const rel of fs.readdirSync(fromDir, { recursive: true }) as string[]) {
    if (!rel.endsWith(".ts")) continue;
    const js = ts.transpileModule(fs.readFileSync(path.join(fromDir, rel), "utf8"), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        rewriteRelativeImportExtensions: true,
      },
    }).outputText;
    const dest = path.join(toDir, rel.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, js);
  }
}

it("workers of a compiled pool run the compiled task module, without tsx", () => {
  transpileTree(path.join(ROOT, "src/core"), path.join(out, "src/core"));
  transpileTree(path.join(ROOT, "src/parallel"), path.join(out, "src/parallel"));
  fs.mkdirSync(path.join(out, "test/parallel"), { recursive: true });
  transpileTree(path.join(ROOT, "test/parallel"), path.join(out, "test/parallel"));
  fs.writeFileSync(path.join(out, "package.json"), '{ "type": "module" }');
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(out, "node_modules"), "dir");
  fs.writeFileSync(
    path.join(out, "main.js"),
    `import { createPool } from "./src/parallel/index.js";
const pool = createPool({ module: new URL("./test/parallel/tasks.js", import.meta.url) });
const where = await pool.run("whereAmI", []);
const err = await pool.run("failCoded", [3]).catch((e) => ({ name: e.name, code: e.code }));
await pool.close();
console.log(JSON.stringify({ where, err }));`,
  );
  const stdout = execFileSync(process.execPath, [path.join(out, "main.js")], { encoding: "utf8" });
  const { where, err } = JSON.parse(stdout) as {
    where: { execArgv: string[]; url: string };
    err: { name: string; code: string };
  };
  expect(where.url).toBe(`file://${path.join(fs.realpathSync(out), "test/parallel/tasks.js")}`);
  expect(where.execArgv.join(" ")).not.toMatch(/tsx/);
  expect(err).toEqual({ name: "GradtraceError", code: "E_NUMERIC" });
});
