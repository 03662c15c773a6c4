/** @file The page's only link to the server: typed GETs of the JSON API (docs/dashboard.md), the binary heatmap
 * decoder, and the SSE streams of live mode. The token, when the page was opened with `?token=`, is sent as a
 * Bearer header (and as a query parameter for EventSource, which cannot set headers). Types are imported from the
 * API's type declarations only — no server code is bundled. */
import type {
  AdviseResponse,
  HeatmapHeader,
  HeatmapMetric,
  LabResponse,
  LiveStepsEvent,
  QueueResponse,
  RunEvent,
  RunsResponse,
  SeriesResponse,
  ServerInfo,
  SummaryResponse,
} from "../../src/serve/api-types.ts";

export type * from "../../src/serve/api-types.ts";

const token = new URLSearchParams(location.search).get("token");

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function request(path: string): Promise<Response> {
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

const getJson = async <T>(path: string): Promise<T> => (await request(path)).json() as Promise<T>;
const seg = encodeURIComponent;

export const api = {
  runs: () => getJson<RunsResponse>("/api/runs"),
  summary: (run: string) => getJson<SummaryResponse>(`/api/runs/${seg(run)}/summary`),
  /** GaLore advice (computed on request; seconds for a large trace). */
  advise: (run: string, target: number) =>
    getJson<AdviseResponse>(`/api/runs/${seg(run)}/advise?target=${seg(String(target))}`),
  /** A tensor's series: the whole run, or a logged-step range, at most `points` points per series (min/max per
   * bucket beyond). */
  series: (run: string, tensor: string, range: { from?: number; to?: number; points?: number } = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(range)) if (v !== undefined) q.set(k, String(v));
    const query = q.size > 0 ? `?${q}` : "";
    return getJson<SeriesResponse>(`/api/runs/${seg(run)}/tensors/${seg(tensor)}/series${query}`);
  },
  lab: (id: string) => getJson<LabResponse>(`/api/labs/${seg(id)}`),
  /** What the server was started with (whether it shows a queue). */
  server: () => getJson<ServerInfo>("/api/server"),
  /** The Redis queue's runs, jobs and workers (serve --queue); 503 while Redis cannot be reached. */
  queue: () => getJson<QueueResponse>("/api/queue"),
  async heatmap(
    run: string,
    { metric, predictor, eps }: { metric: HeatmapMetric; predictor?: string; eps?: number },
  ): Promise<HeatmapData> {
    const q = new URLSearchParams({ metric, format: "f32" });
    if (predictor) q.set("predictor", predictor);
    if (eps !== undefined) q.set("eps", String(eps));
    const buf = await (await request(`/api/runs/${seg(run)}/heatmap?${q}`)).arrayBuffer();
    return decodeHeatmap(buf);
  },
};

export interface HeatmapData {
  readonly header: HeatmapHeader;
  /** rows × cols, row-major, NaN = missing. */
  readonly values: Float32Array;
}

/** Inverse of the server's encodeHeatmapBinary: uint32 LE header length, JSON header, float32 LE values. */
export function decodeHeatmap(buf: ArrayBuffer): HeatmapData {
  const view = new DataView(buf);
  const len = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, len))) as HeatmapHeader;
  const n = header.rows * header.cols;
  const start = 4 + len;
  // The server aligns the values to 4 bytes; on a little-endian machine they can be viewed in place.
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  let values: Float32Array;
  if (littleEndian && start % 4 === 0) values = new Float32Array(buf, start, n);
  else {
    values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = view.getFloat32(start + i * 4, true);
  }
  return { header, values };
}

/** Subscribes to a run's (or, with null, all runs') SSE stream; returns the closer. `onLive` receives the
 * incremental `live` events (new steps of a growing run, before its exact re-analysis). */
export function subscribe(
  run: string | null,
  onEvent: (e: RunEvent) => void,
  onState?: (open: boolean) => void,
  onLive?: (e: LiveStepsEvent) => void,
) {
  const path = run === null ? "/api/events" : `/api/runs/${seg(run)}/events`;
  const source = new EventSource(token ? `${path}?token=${seg(token)}` : path);
  const handler = (ev: MessageEvent<string>) => onEvent(JSON.parse(ev.data) as RunEvent);
  source.addEventListener("status", handler);
  source.addEventListener("update", handler);
  if (onLive) {
    source.addEventListener("live", (ev: MessageEvent<string>) =>
      onLive(JSON.parse(ev.data) as LiveStepsEvent),
    );
  }
  source.onopen = () => onState?.(true);
  source.onerror = () => onState?.(false);
  return () => source.close();
}
