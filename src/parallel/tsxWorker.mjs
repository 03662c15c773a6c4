/** @file Preload (`--import`) of pool workers that run TypeScript sources (tests, benches, a source checkout):
 * registers tsx in the worker thread itself. `--import tsx` would not do it: on Node 20 tsx registers its hooks in
 * the main thread only. Never used by the compiled package, whose workers run JavaScript. */
import { register } from "tsx/esm/api";

register();
