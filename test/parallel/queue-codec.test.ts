/** @file The queue's pure parts, without Redis: URL parsing (password from the URL or the environment, never in the
 * display form), JSON-only arguments, exact result encoding, task names independent of .ts/.js, and the error
 * codes that fail a job without retry. */
import { describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/index.ts";
import { assertJson, parseRedisUrl, queueTaskName } from "../../src/parallel/index.ts";
import { decodeResult, encodeResult, FINAL_CODES, splitReason } from "../../src/parallel/queue/codec.ts";

describe("parseRedisUrl", () => {
  it("reads host, port, db and password; the display form has no credentials", () => {
    const t = parseRedisUrl("redis://:s%40cret@10.0.0.5:6380/2", { env: {} });
    expect(t).toMatchObject({ host: "10.0.0.5", port: 6380, db: 2, password: "s@cret", tls: false });
    expect(t.display).toBe("redis://10.0.0.5:6380/2");
    expect(parseRedisUrl("rediss://q.example:7000", { env: {} })).toMatchObject({ tls: true, port: 7000, db: 0 });
    expect(parseRedisUrl("redis://localhost", { env: {} }).port).toBe(6379);
  });

  it("takes the password from GRADTRACE_REDIS_PASSWORD when the URL has none", () => {
    expect(parseRedisUrl("redis://h:1", { env: { GRADTRACE_REDIS_PASSWORD: "pw" } }).password).toBe("pw");
    expect(parseRedisUrl("redis://:url@h:1", { env: { GRADTRACE_REDIS_PASSWORD: "pw" } }).password).toBe("url");
  });

  it("refuses other URLs with E_ARG naming the flag, without echoing a password", () => {
    for (const bad of ["http://h:1", "h:6379", "redis://h:1/x", "redis://:pw@"]) {
      const err = (() => {
        try {
          parseRedisUrl(bad, { flag: "--redis", env: {} });
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(GradtraceError);
      expect((err as GradtraceError).code).toBe("E_ARG");
      expect((err as Error).message).toMatch(/^--redis: /);
      expect((err as Error).message).not.toContain("pw");
    }
  });
});

describe("what crosses the queue", () => {
  it("arguments must be plain JSON: non-finite numbers, −0, typed arrays and functions are refused by name", () => {
    expect(() => assertJson({ a: [1, "x", null, { b: true }], u: undefined }, "arg")).not.toThrow();
    const cases: [unknown, RegExp][] = [
      [{ lr: Number.NaN }, /arg\.lr is NaN/],
      [[1, Number.POSITIVE_INFINITY], /arg\[1\] is Infinity/],
      [-0, /arg is 0/],
      [{ x: new Float64Array(2) }, /arg\.x is a Float64Array/],
      [{ f: () => 1 }, /arg\.f is a function/],
      [new Map(), /arg is a Map/],
    ];
    for (const [value, message] of cases) expect(() => assertJson(value, "arg")).toThrow(message);
  });

  it("results come back exactly: float64 bits, NaN, −0, typed arrays, nested objects", () => {
    const value = {
      x: Float64Array.of(0.1 + 0.2, Number.NaN, -0, 5e-324, Number.MAX_VALUE),
      y: [1 / 3, { z: new Float32Array([1.5]) }],
      m: new Map([["a", 1]]),
    };
    const back = decodeResult(encodeResult(value)) as typeof value;
    expect(back).toEqual(value);
    expect(Object.is(back.x[2], -0)).toBe(true);
    expect(back.x).toBeInstanceOf(Float64Array);
  });

  it("a task is named by its module's path inside the package, the same for sources and compiled files", () => {
    const ts = queueTaskName(new URL("../../src/lab/spiked/sweepWorker.ts", import.meta.url), "runConfig");
    expect(ts).toBe("lab/spiked/sweepWorker#runConfig");
    expect(() => queueTaskName(new URL("./tasks.ts", import.meta.url), "sumSquares")).toThrow(
      /only task modules of the gradtrace package/,
    );
  });

  it("data errors fail a job at once; a missing input or a crash is retried", () => {
    expect(FINAL_CODES.has("E_FORMAT")).toBe(true);
    expect(FINAL_CODES.has("E_ARG")).toBe(true);
    expect(FINAL_CODES.has("E_NOT_FOUND")).toBe(false);
    expect(splitReason("E_FORMAT: x.gtrace: bad header")).toEqual({ code: "E_FORMAT", message: "x.gtrace: bad header" });
    expect(splitReason("worker h:1: boom")).toEqual({ code: null, message: "worker h:1: boom" });
  });
});
