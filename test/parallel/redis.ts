/** @file A real `redis-server` (Debian's, installed by .ci/run) for the queue tests: a free loopback port, a
 * temporary directory, no persistence (`--save ''`, so a restart loses the queue, as the fault tests want), a
 * password; and `gradtrace worker` processes (the built bin) serving it. Everything started here is stopped by the
 * returned `stop` functions, which the tests call in `afterAll`/`finally`. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Redis } from "ioredis";
import { BIN, requireBuilt } from "../dist.ts";

export const REDIS_PASSWORD = "test-pw-7f3a9c";

/** Where Debian puts redis-server (CI installs it through .ci/run); PATH is searched when it is not there. */
const REDIS_SERVER = fs.existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";

/** Whether a redis-server can be started here; the queue tests are skipped, saying why, when not. */
export const HAVE_REDIS = !spawnSync(REDIS_SERVER, ["--version"]).error;
export const NO_REDIS_MESSAGE =
  "redis-server is not installed: the Redis queue tests are skipped (CI installs it through .ci/run: apt-get install redis-server)";

/** Stops a child started with `detached: true` and everything in its process group (SIGKILL unless said). */
async function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
  await exited;
}

/** A port nothing listens on right now (the system's choice for port 0). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM; its data is not saved). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  if (!HAVE_REDIS) throw new Error(NO_REDIS_MESSAGE);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-redis-"));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--requirepass", REDIS_PASSWORD],
      { stdio: "ignore", detached: true },
    );
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (c) await killGroup(c, "SIGTERM");
  };
  await start();
  return {
    url: `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}`,
    port,
    stop,
    start,
    async dispose() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestWorker {
  readonly child: ChildProcess;
  log(): string;
  /** Resolves when the log matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A `gradtrace worker` process (the built bin) on `url`, with short lock and stalled-check periods so that a killed
 * worker's job is given to another one within about a second. Resolves once it takes jobs. */
export async function startWorker(url: string, extra: readonly string[] = []): Promise<TestWorker> {
  requireBuilt();
  const child = spawn(
    process.execPath,
    [BIN, "worker", "--redis", url, "--lock-duration", "1000", "--stalled-interval", "500", ...extra],
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let log = "";
  child.stderr!.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(log)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`worker: no ${pattern} in its log:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const w: TestWorker = {
    child,
    log: () => log,
    waitFor,
    kill: (signal = "SIGKILL") => killGroup(child, signal),
  };
  try {
    await waitFor(/taking jobs/);
  } catch (err) {
    await w.kill();
    throw err;
  }
  return w;
}

/** The keys matching `pattern` in the Redis at `url` (to check what a run left behind). */
export async function redisKeys(url: string, pattern: string): Promise<string[]> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    return (await client.keys(pattern)).sort();
  } finally {
    client.disconnect();
  }
}
