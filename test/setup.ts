/** @file Test-wide setup: fast-check runs from a fixed seed so CI is reproducible (a counterexample found once is
 * found again). Set FC_SEED to another integer to explore new cases locally; every failure found that way becomes a
 * saved regression input (see the svdTallSkinny rank-deficient seeds in test/core/linalg.test.ts). */
import fc from "fast-check";

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261125) });
