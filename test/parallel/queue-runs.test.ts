/** @file The queue monitor's pure parts, without Redis: a run's record survives its Redis encoding (fast-check),
 * malformed or expired hashes are refused, the staleness rule and end states, the workers read from BullMQ's client
 * list, the publisher's throttling (fake timers and a recording stand-in for the Redis client), labels, and the
 * dashboard's texts (web/src/queueFormat.ts). */
import fc from "fast-check";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  finalState,
  labelledQueue,
  parseRunRecord,
  type QueueRunRecord,
  queueStatusText,
  runRecordFields,
  viewRun,
} from "../../src/parallel/index.ts";
import { workersOf } from "../../src/parallel/queue/monitor.ts";
import { runPublisher } from "../../src/parallel/queue/publish.ts";
import { MAX_ERROR_CHARS } from "../../src/parallel/queue/runRecord.ts";
import { durationText, progressShares, progressText, stateText, totals } from "../../web/src/queueFormat.ts";

const count = fc.nat({ max: 1e6 });
const record: fc.Arbitrary<QueueRunRecord> = fc.record({
  id: fc.stringMatching(/^[0-9a-f]{16}$/),
  label: fc.string({ maxLength: 80 }),
  submitter: fc.string({ maxLength: 40 }),
  started: fc.nat({ max: 4e12 }),
  updated: fc.nat({ max: 4e12 }),
  state: fc.constantFrom("running", "done", "failed", "abandoned"),
  error: fc.option(fc.string({ minLength: 1, maxLength: 800 }), { nil: null }),
  total: count,
  queued: count,
  running: count,
  done: count,
  failed: count,
});

const BASE: QueueRunRecord = {
  id: "0123456789abcdef",
  label: "lab spiked --sweep nu=0:0.1:0.4",
  submitter: "host-a:4242",
  started: 1_000_000,
  updated: 1_000_000,
  state: "running",
  error: null,
  total: 40,
  queued: 20,
  running: 4,
  done: 15,
  failed: 1,
};

describe("run records", () => {
  it("round-trip through Redis hash fields (strings), errors cut at MAX_ERROR_CHARS", () => {
    fc.assert(
      fc.property(record, (r) => {
        const fields = runRecordFields(r);
        for (const v of Object.values(fields)) expect(typeof v).toBe("string");
        expect(parseRunRecord(r.id, fields)).toEqual({
          ...r,
          error: r.error === null ? null : r.error.slice(0, MAX_ERROR_CHARS),
        });
      }),
    );
  });

  it("an expired (empty) hash, a missing count, a negative or fractional count, an unknown state: not a record", () => {
    const fields = runRecordFields(BASE);
    expect(parseRunRecord(BASE.id, {})).toBeNull();
    for (const [key, value] of [
      ["done", undefined],
      ["done", "-1"],
      ["total", "2.5"],
      ["started", ""],
      ["state", "paused"],
    ] as const) {
      const broken: Record<string, string> = { ...fields };
      if (value === undefined) delete broken[key];
      else broken[key] = value;
      expect(parseRunRecord(BASE.id, broken), `${key}=${value}`).toBeNull();
    }
  });

  it("a running run is stale from staleMs without an update on; ended runs never are; elapsed stops at the end", () => {
    const staleMs = 30_000;
    const at = (since: number, r: QueueRunRecord = BASE) => viewRun(r, r.updated + since, staleMs);
    expect(at(staleMs - 1).stale).toBe(false);
    expect(at(staleMs)).toMatchObject({ stale: true, sinceUpdateMs: staleMs, elapsedMs: staleMs });
    const done = { ...BASE, state: "done" as const, started: 0, updated: 5000 };
    expect(at(10 * staleMs, done)).toMatchObject({
      stale: false,
      elapsedMs: 5000,
      sinceUpdateMs: 10 * staleMs,
    });
    // A clock behind the submitter's (another machine) gives zero ages, not negative ones.
    expect(viewRun(BASE, BASE.updated - 5000, staleMs)).toMatchObject({ sinceUpdateMs: 0, stale: false });
  });

  it("end states: failed with an error, done when every job finished, abandoned otherwise", () => {
    const s = { total: 3, queued: 0, running: 0, done: 3, failed: 0 };
    expect(finalState(s, null)).toBe("done");
    expect(finalState(s, "E_QUEUE: the queue … has not answered")).toBe("failed");
    expect(finalState({ ...s, done: 2, queued: 1 }, null)).toBe("abandoned");
    // Cancelled jobs count as failed in the status but carry no error of their own: the run was abandoned.
    expect(finalState({ ...s, done: 1, failed: 2 }, null)).toBe("abandoned");
    expect(finalState({ total: 0, queued: 0, running: 0, done: 0, failed: 0 }, null)).toBe("abandoned");
  });

  it("labels: the caller's wins, a phase is appended either way", () => {
    const q = { url: "redis://127.0.0.1:6379" };
    expect(labelledQueue(q, "spiked lab: 4 configurations").label).toBe("spiked lab: 4 configurations");
    expect(labelledQueue({ ...q, label: "lab spiked --sweep nu=0,1" }, "spiked lab").label).toBe(
      "lab spiked --sweep nu=0,1",
    );
    expect(labelledQueue({ ...q, label: "reproduce low-rank-gradients" }, "x", "calibration").label).toBe(
      "reproduce low-rank-gradients (calibration)",
    );
  });
});

describe("workers from BullMQ's client list", () => {
  it("one per worker name (its connections merged, the longest-lived kept), sorted", () => {
    const raw = (name: string) => `gradtrace:am9icw==:w:${name}`;
    expect(
      workersOf([
        { rawname: raw("host-b:12"), age: "30" },
        { rawname: raw("host-a:7"), age: "5" },
        { rawname: raw("host-b:12"), age: "31" },
        { rawname: "gradtrace:am9icw==", age: "2" }, // a worker without a name: BullMQ's unnamed form
      ]),
    ).toEqual([
      { name: "gradtrace:am9icw==", connectedS: 2 },
      { name: "host-a:7", connectedS: 5 },
      { name: "host-b:12", connectedS: 31 },
    ]);
  });
});

/** A stand-in for the ioredis client: records each MULTI's HSET fields and ZADD score. */
function recordingRedis() {
  const writes: { fields: Record<string, string>; score: number; ttl: number }[] = [];
  const redis = {
    multi() {
      const w = { fields: {} as Record<string, string>, score: 0, ttl: 0 };
      const chain = {
        hset(_key: string, fields: Record<string, string>) {
          w.fields = fields;
          return chain;
        },
        expire(_key: string, ttl: number) {
          w.ttl = ttl;
          return chain;
        },
        zadd(_key: string, score: number) {
          w.score = score;
          return chain;
        },
        exec: async () => {
          writes.push(w);
          return [];
        },
      };
      return chain;
    },
  };
  return { redis: redis as unknown as Redis, writes };
}

describe("the run publisher", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes at most once per publishMs while jobs change, heartbeats while idle, ends with the final record", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { redis, writes } = recordingRedis();
    let state: QueueRunRecord["state"] = "running";
    let done = 0;
    const p = runPublisher(redis, () => ({ ...BASE, state, done }), { publishMs: 500, heartbeatMs: 5000 });
    p.heartbeat(); // nothing published yet: no heartbeat either
    await vi.advanceTimersByTimeAsync(10_000);
    expect(writes).toHaveLength(0);
    // 200 state changes over 2 s: at most 2 writes a second (the first at once), the last one carrying done = 200.
    for (let i = 0; i < 200; i++) {
      done++;
      p.touch();
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(600);
    expect(writes.length).toBeGreaterThanOrEqual(4);
    expect(writes.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < writes.length; i++)
      expect(writes[i].score - writes[i - 1].score).toBeGreaterThanOrEqual(500);
    expect(writes.at(-1)!.fields.done).toBe("200");
    expect(writes.every((w) => w.fields.updated === String(w.score) && w.ttl === 24 * 3600)).toBe(true);
    // Idle: a heartbeat rewrites the record once heartbeatMs has passed, not before.
    const before = writes.length;
    p.heartbeat();
    await vi.advanceTimersByTimeAsync(1000);
    expect(writes).toHaveLength(before);
    await vi.advanceTimersByTimeAsync(4000);
    p.heartbeat();
    await vi.advanceTimersByTimeAsync(1);
    expect(writes).toHaveLength(before + 1);
    state = "done";
    await p.finish();
    expect(writes.at(-1)!.fields.state).toBe("done");
    const total = writes.length;
    p.touch();
    p.heartbeat();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(writes).toHaveLength(total); // nothing after the final write
  });

  it("a run that never published anything leaves no record when it finishes", async () => {
    const { redis, writes } = recordingRedis();
    await runPublisher(redis, () => BASE).finish();
    expect(writes).toHaveLength(0);
  });
});

describe("the queue view's texts (web/src/queueFormat.ts)", () => {
  it("durations in at most two units, rounded down", () => {
    const cases: [number, string][] = [
      [0, "0 s"],
      [999, "0 s"],
      [59_999, "59 s"],
      [60_000, "1 min"],
      [61_000, "1 min 1 s"],
      [3_599_000, "59 min 59 s"],
      [3_600_000, "1 h"],
      [3_660_000, "1 h 1 min"],
      [86_400_000, "1 d"],
      [90_061_000, "1 d 1 h"],
      [-5, "0 s"],
    ];
    for (const [ms, text] of cases) expect(durationText(ms), String(ms)).toBe(text);
  });

  it("progress, state and sums of the listed runs", () => {
    expect(progressText({ ...BASE, done: 12, total: 12 })).toBe("12 / 12");
    expect(queueStatusText(BASE)).toBe("4 running, 20 queued, 1 failed");
    expect(progressShares(BASE)).toEqual({ done: 15 / 40, running: 4 / 40, failed: 1 / 40 });
    expect(progressShares({ ...BASE, total: 0, done: 0, running: 0, failed: 0 })).toEqual({
      done: 0,
      running: 0,
      failed: 0,
    });
    expect(stateText({ state: "running", stale: true, sinceUpdateMs: 125_000 })).toBe(
      "stale: no update for 2 min 5 s",
    );
    expect(stateText({ state: "failed", stale: false, sinceUpdateMs: 0 })).toBe("failed");
    fc.assert(
      fc.property(
        fc.array(fc.record({ total: count, queued: count, running: count, done: count, failed: count })),
        (runs) => {
          const t = totals(runs);
          for (const k of ["total", "queued", "running", "done", "failed"] as const)
            expect(t[k]).toBe(runs.reduce((s, r) => s + r[k], 0));
        },
      ),
    );
  });
});
