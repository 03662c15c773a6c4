/** @file Where the job queue lives: a `redis://[user:password@]host:port[/db]` URL (or `rediss://` for TLS) parsed
 * once into connection options. The password may also come from GRADTRACE_REDIS_PASSWORD, so that it need not
 * appear on a command line (which other users of a machine can read in `ps`); it is never printed — messages name
 * the queue by `display`, the URL without credentials. */
import { GradtraceError } from "../../core/index.ts";

/** The environment variable holding the Redis password when the URL has none. */
export const REDIS_PASSWORD_ENV = "GRADTRACE_REDIS_PASSWORD";

export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
  /** The URL without user name or password, for messages. */
  readonly display: string;
}

/** Parses a queue URL; E_ARG (naming the flag) for anything that is not a redis:// or rediss:// URL. */
export function parseRedisUrl(
  url: string,
  {
    flag = "--queue",
    env = process.env,
  }: { flag?: string; env?: Readonly<Record<string, string | undefined>> } = {},
): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GradtraceError(
      "E_ARG",
      `${flag}: expected redis://HOST:PORT (e.g. redis://10.0.0.5:6379), got "${redactedText(url)}"`,
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new GradtraceError("E_ARG", `${flag}: expected a redis:// or rediss:// URL, got ${u.protocol}//…`);
  }
  if (u.hostname === "") throw new GradtraceError("E_ARG", `${flag}: the URL names no host`);
  const port = u.port === "" ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new GradtraceError(
      "E_ARG",
      `${flag}: database "${dbText}" must be a non-negative integer (redis://HOST:PORT/DB)`,
    );
  }
  const password = u.password !== "" ? decodeURIComponent(u.password) : env[REDIS_PASSWORD_ENV] || undefined;
  const username = u.username !== "" ? decodeURIComponent(u.username) : undefined;
  const tls = u.protocol === "rediss:";
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    host,
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls,
    display: `${u.protocol}//${u.hostname}:${port}${db ? `/${db}` : ""}`,
  };
}

/** Whether the host is a loopback address (a queue reachable from this machine only). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** ioredis / BullMQ connection options for the target. `maxRetriesPerRequest: null` lets commands wait through a
 * reconnection instead of failing (BullMQ requires it for its blocking connections); the callers bound the wait. */
export function connectionOptions(t: RedisTarget) {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    ...(t.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    // Reconnect every 0.1 … 1 s for ever; the submitter gives up on its own clock (QueueOptions.reconnectTimeoutMs).
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}

/** Whether a Redis error says the password was refused (or is missing). */
export function isAuthError(message: string): boolean {
  return /NOAUTH|WRONGPASS|invalid password/i.test(message);
}

/** Any credentials in a URL-like text replaced by "***" (for messages quoting what the user typed). */
export function redactedText(text: string): string {
  return text.replace(/(\/\/)([^@/]*)@/, "$1***@");
}
