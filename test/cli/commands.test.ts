/** @file The command table of the lazily loaded CLI (src/cli/main.ts): `gradtrace --help` built from stubs shows
 * each command exactly as the fully loaded command would be listed (commander's own rendering of its options and
 * arguments), `--version` is package.json's, and the built bin really loads only what it runs — observed through
 * an ESM resolve hook in a child process (`--version` and `--help` load no command module and not the core;
 * `analyze --help` loads the analyze module and no other). */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Help } from "commander";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { buildProgram, COMMANDS, main, selectedCommand } from "../../src/cli/main.ts";
import { BIN, REPO, requireBuilt } from "../dist.ts";

describe("the command table", () => {
  it("lists every command the full program defines, with commander's own term for it", async () => {
    const full = await buildProgram("all");
    const defined = full.commands.map((c) => c.name()).filter((n) => n !== "help");
    expect(COMMANDS.map((c) => c.name)).toEqual(defined);
    const help = new Help();
    for (const cmd of full.commands.filter((c) => c.name() !== "help")) {
      expect(COMMANDS.find((c) => c.name === cmd.name())?.term, cmd.name()).toBe(help.subcommandTerm(cmd));
    }
  });

  it("gradtrace --help from stubs equals the help of the fully loaded program", async () => {
    expect((await buildProgram("none")).helpInformation()).toBe(
      (await buildProgram("all")).helpInformation(),
    );
  });

  it("a command's own --help is its full definition (options included)", async () => {
    const lazy = (await buildProgram("analyze")).commands.find((c) => c.name() === "analyze")!;
    expect(lazy.options.map((o) => o.long)).toContain("--predictors");
    expect(lazy.helpInformation()).toMatch(/--sketch <spec>/);
  });

  it("selects the command being run, or the one `help` is asked about", () => {
    expect(selectedCommand(["node", "gradtrace", "analyze", "x.gtrace", "-q"])).toBe("analyze");
    expect(selectedCommand(["node", "gradtrace", "--help"])).toBeUndefined();
    expect(selectedCommand(["node", "gradtrace", "help", "serve"])).toBe("serve");
    expect(selectedCommand(["node", "gradtrace", "nope"])).toBeUndefined();
  });

  it("--version prints package.json's version", async () => {
    let out = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out += String(s);
      return true;
    });
    try {
      expect(await main(["node", "gradtrace", "--version"])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string };
    expect(out).toBe(`${pkg.version}\n`);
  });
});

describe("the built bin loads only what it runs", () => {
  beforeAll(() => requireBuilt());
  const HOOK = path.join(import.meta.dirname, "fixtures", "recordImports.mjs");

  /** dist/ modules the bin resolved while running `args`, relative to dist/. */
  function loaded(...args: string[]): string[] {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gt-imports-")), "log");
    fs.writeFileSync(log, "");
    const r = spawnSync(process.execPath, ["--import", HOOK, BIN, ...args], {
      env: { ...process.env, GT_IMPORT_LOG: log },
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const dist = `${new URL(`file://${path.join(REPO, "dist")}/`).href}`;
    const urls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean);
    fs.rmSync(path.dirname(log), { recursive: true, force: true });
    return [...new Set(urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length)))].sort();
  }

  it("--version and --help: the CLI's entry and nothing else of gradtrace", () => {
    expect(loaded("--version")).toEqual(["cli/index.js", "cli/main.js"]);
    expect(loaded("--help")).toEqual(["cli/index.js", "cli/main.js"]);
  });

  it("analyze --help: the analyze module, no other command's", () => {
    const mods = loaded("analyze", "--help");
    expect(mods).toContain("cli/commands/analyze.js");
    expect(mods.filter((m) => m.startsWith("cli/commands/"))).toEqual(["cli/commands/analyze.js"]);
    expect(mods.some((m) => m.startsWith("serve/") || m.startsWith("lab/"))).toBe(false);
  });
});
