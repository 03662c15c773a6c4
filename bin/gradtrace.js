#!/usr/bin/env node
// The `gradtrace` command: the compiled CLI in dist/ (built by `npm run build`, which `npm ci` / `npm install` run
// through `prepare` in a clone; shipped built in the package).
import { main } from "../dist/cli/index.js";

process.exitCode = await main(process.argv);
