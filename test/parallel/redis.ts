/** @file A real `redis-server` (Debian's, installed by .ci/run) for the queue tests: a free loopback port, a
 * temporary directory, no persistence (`--save ''`, so a restart loses the queue, as the fault tests want), a
 * password; and `gradtrace worker` processes (the built bin) serving it. Everything started here is stopped by the
 * returned `stop` functions, which the tests call in `afterAll`/`finally`. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { BIN, requireBuilt } from "../dist.ts";

export const REDIS_PASSWORD = "test-pw-7f3a9c";

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
  if (spawnSync("redis-server", ["--version"]).error) {
    throw new Error("redis-server is not installed (CI installs it through .ci/run: apt-get install redis-server)");
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-redis-"));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--requirepass", REDIS_PASSWORD],
      { stdio: "ignore" },
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
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
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
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise((r) => child.once("exit", r));
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
    async kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  try {
    await waitFor(/taking jobs/);
  } catch (err) {
    await w.kill();
    throw err;
  }
  return w;
}
