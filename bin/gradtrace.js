#!/usr/bin/env node
// The bin is a one-liner into the CLI: TypeScript sources are loaded through tsx so no build step can go stale.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/index.ts");
process.exitCode = await main(process.argv);
