/** @file Token mode of `gradtrace serve`, tried as an attacker would: no token, wrong tokens, and the shapes a timing
 * attack walks through — same length with a common prefix of every length, one character off at the end or the
 * start, prefixes and extensions of the real token, case changes, a wrong Bearer header beside a right query
 * parameter — are all refused on every API route, SSE streams included, with one identical answer (status, body,
 * WWW-Authenticate) that says nothing about how close the guess was. The comparison itself hashes both sides and
 * compares the digests with `timingSafeEqual` (src/serve/auth.ts), so its time does not depend on the prefix. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { fakeEngine, writeFakeTrace } from "./fixtures.ts";
import { rawGet } from "./http.ts";

const TOKEN = "s3cret-Token-0123456789abcdef";
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-token-"));
  writeFakeTrace(path.join(dir, "run.gtrace"), 8);
  server = await startServer({ path: dir, engine: fakeEngine(), webDir: null, token: TOKEN });
  await server.store.idle();
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ROUTES = [
  "/api/runs",
  "/api/runs/run-gtrace/summary",
  "/api/runs/run-gtrace/heatmap",
  "/api/events",
  "/api/runs/run-gtrace/events",
];

/** Guesses an attacker would try, each refused. */
function wrongTokens(): Record<string, string> {
  const t = TOKEN;
  const flip = (c: string) => (c === "a" ? "b" : "a");
  const out: Record<string, string> = {
    "random, same length": "x".repeat(t.length),
    "last character off": t.slice(0, -1) + flip(t.at(-1)!),
    "first character off": flip(t[0]) + t.slice(1),
    "one character longer": `${t}0`,
    "one character shorter": t.slice(0, -1),
    "upper-cased": t.toUpperCase(),
    doubled: t + t,
    "a single character": t[0],
  };
  // Same length, the first k characters right: what a byte-by-byte timing attack would probe, for every k.
  for (let k = 1; k < t.length; k++) out[`common prefix of ${k}`] = t.slice(0, k) + "~".repeat(t.length - k);
  return out;
}

describe("token mode refuses every wrong, missing or near-miss token", () => {
  it("missing token: 401 on every API route, SSE included", async () => {
    for (const route of ROUTES) {
      const r = await rawGet(server.port, route);
      expect(r.status, route).toBe(401);
      expect(r.headers["www-authenticate"]).toBe("Bearer");
      expect(r.json()).toEqual({
        error: { code: "E_ARG", message: expect.stringMatching(/token: missing or wrong/) },
      });
    }
  });

  it("wrong and timing-attack-shaped tokens: refused as Bearer header and as ?token=, with one identical answer", async () => {
    const answers = new Set<string>();
    for (const [label, guess] of Object.entries(wrongTokens())) {
      for (const route of ["/api/runs", "/api/events"]) {
        const viaQuery = await rawGet(server.port, `${route}?token=${encodeURIComponent(guess)}`);
        const viaHeader = await rawGet(server.port, route, { headers: { Authorization: `Bearer ${guess}` } });
        for (const r of [viaQuery, viaHeader]) {
          expect(r.status, `${label} on ${route}`).toBe(401);
          answers.add(`${r.status} ${r.headers["www-authenticate"]} ${r.body.toString("utf8")}`);
        }
      }
    }
    expect(answers.size).toBe(1);
  });

  it("malformed Authorization headers and a wrong header beside a right query parameter are refused", async () => {
    for (const authorization of [
      `Basic ${TOKEN}`,
      "Bearer",
      "Bearer ",
      `Bearer ${TOKEN} extra`,
      `Token ${TOKEN}`,
    ]) {
      const r = await rawGet(server.port, "/api/runs", { headers: { Authorization: authorization } });
      expect(r.status, authorization).toBe(401);
    }
    // The header, when present, is what counts: a right query cannot rescue a wrong header.
    const mixed = await rawGet(server.port, `/api/runs?token=${TOKEN}`, {
      headers: { Authorization: "Bearer nope-nope-nope-nope" },
    });
    expect(mixed.status).toBe(401);
  });

  it("the right token opens every route (so the refusals above are about the token alone)", async () => {
    const r1 = await rawGet(server.port, `/api/runs?token=${TOKEN}`);
    expect(r1.status).toBe(200);
    const r2 = await rawGet(server.port, "/api/runs/run-gtrace/summary", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(r2.status).toBe(200);
  });
});
