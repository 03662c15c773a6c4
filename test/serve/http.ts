/** @file Raw HTTP helpers for the server tests: node:http sends the request path byte for byte (fetch would
 * normalise "../" and "%2e%2e" away before the server ever saw them), plus a small SSE reader. */
import * as http from "node:http";

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = unknown>(): T;
}

export function rawGet(
  port: number,
  path: string,
  { headers = {}, method = "GET" }: { headers?: Record<string, string>; method?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: <T>() => JSON.parse(body.toString("utf8")) as T,
        });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** Opens an SSE stream; `next(pred)` resolves with the first (queued or future) event matching pred. */
export function openSse(port: number, path: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const waiting: { pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  let req: http.ClientRequest | null = null;
  let status = 0;
  const ready = new Promise<void>((resolve, reject) => {
    req = http.request({ host: "127.0.0.1", port, path, headers }, (res) => {
      status = res.statusCode ?? 0;
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let i = buf.indexOf("\n\n");
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
          }
          if (data.length > 0) {
            const e = { event, data: data.join("\n") };
            const w = waiting.findIndex((x) => x.pred(e));
            if (w >= 0) waiting.splice(w, 1)[0].resolve(e);
            else events.push(e);
          }
          i = buf.indexOf("\n\n");
        }
      });
      resolve();
    });
    req.on("error", reject);
    req.end();
  });
  return {
    ready,
    get status() {
      return status;
    },
    next(pred: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
      const i = events.findIndex(pred);
      if (i >= 0) return Promise.resolve(events.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no matching SSE event within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiting.push({
          pred,
          resolve: (e) => {
            clearTimeout(t);
            resolve(e);
          },
        });
      });
    },
    close() {
      req?.destroy();
    },
  };
}
