/** @file Who may talk to the server: loopback detection (the default bind), the `--token` check (constant-time, from
 * `Authorization: Bearer`, or `?token=` where a header cannot be set — EventSource, the first page load), and the
 * Host-header check that stops DNS-rebinding pages from reading a loopback server without a token. */
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** Whether binding `host` keeps the server reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Constant-time comparison (hashing first makes the lengths equal, so the length does not leak either). */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== "string") return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token a request carries: `Authorization: Bearer T`, else the `token` query parameter. */
export function requestToken(authorization: string | undefined, query: string | undefined): string | null {
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (m) return m[1];
  return query ?? null;
}

/** Host names a loopback server answers to; anything else in the Host header is a rebinding attempt. */
export function hostAllowed(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader.trim());
  return !!m && isLoopbackHost(m[1]);
}
