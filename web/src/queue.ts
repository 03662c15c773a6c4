/** @file The queue view (#/queue, when `gradtrace serve --queue` names a Redis queue): the runs that commands
 * submitted with --queue on any machine — label, submitter, a progress bar of jobs done / total with the running,
 * queued and failed ones, state (stale when the submitter stopped updating), elapsed time, age of the last update —
 * their sums, the queue's job counts and its workers. Polled every 2 s; while Redis cannot be reached the view says
 * so above the last numbers it had, and carries on when the server reconnects. */
import { queueStatusText } from "../../src/parallel/queue/runRecord.ts";
import { ApiError, api, type QueueResponse, type QueueRunView } from "./api.ts";
import { el } from "./dom.ts";
import type { Page } from "./overview.ts";
import { durationText, progressShares, progressText, stateText, totals } from "./queueFormat.ts";

/** How often the view asks the server, ms. */
export const QUEUE_REFRESH_MS = 2000;

function progressCell(
  r: Pick<QueueRunView, "total" | "queued" | "running" | "done" | "failed">,
): HTMLElement {
  const td = el("td", "queue-progress");
  td.dataset.key = "progress";
  const shares = progressShares(r);
  const bar = el("div", "qbar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", String(r.total));
  bar.setAttribute("aria-valuenow", String(r.done));
  for (const [part, share] of Object.entries(shares)) {
    const seg = el("div", `qbar-${part}`);
    seg.style.width = `${(100 * share).toFixed(2)}%`;
    bar.append(seg);
  }
  const count = el("span", "qcount", progressText(r));
  count.dataset.done = String(r.done);
  count.dataset.total = String(r.total);
  td.append(bar, count, el("span", "qdetail", queueStatusText(r)));
  return td;
}

function cell(key: string, text: string): HTMLTableCellElement {
  const td = el("td", undefined, text);
  td.dataset.key = key;
  return td;
}

function table(
  id: string,
  headers: readonly string[],
): { section: HTMLElement; body: HTMLElement; foot: HTMLElement } {
  const section = el("section", "data-table");
  section.dataset.table = id;
  const scroll = el("div", "table-scroll");
  const t = el("table", "queue-table");
  const head = el("thead");
  const tr = el("tr");
  for (const h of headers) tr.append(el("th", undefined, h));
  head.append(tr);
  const body = el("tbody");
  const foot = el("tfoot");
  t.append(head, body, foot);
  scroll.append(t);
  section.append(scroll);
  return { section, body, foot };
}

function renderRuns(host: HTMLElement, q: QueueResponse): void {
  const head = el("div", "section-head");
  head.append(
    el(
      "h3",
      undefined,
      q.runs.length === 0
        ? "No runs in the last 24 hours"
        : `${q.runs.length} run${q.runs.length === 1 ? "" : "s"}`,
    ),
  );
  host.append(head);
  if (q.runs.length === 0) {
    host.append(
      el(
        "p",
        "facts",
        "Runs appear here when a command runs with --queue (lab spiked --sweep, reproduce, analyze).",
      ),
    );
    return;
  }
  const { section, body, foot } = table("queue-runs", [
    "run",
    "submitter",
    "jobs",
    "state",
    "elapsed",
    "last update",
  ]);
  for (const r of q.runs) {
    const tr = el("tr");
    tr.dataset.run = r.id;
    tr.dataset.state = r.stale ? "stale" : r.state;
    const label = cell("label", r.label);
    if (r.error) {
      const err = el("div", "queue-error-text", r.error);
      err.dataset.key = "error";
      label.append(err);
    }
    tr.append(
      label,
      cell("submitter", r.submitter),
      progressCell(r),
      cell("state", stateText(r)),
      cell("elapsed", durationText(r.elapsedMs)),
      cell("updated", `${durationText(r.sinceUpdateMs)} ago`),
    );
    body.append(tr);
  }
  const sum = totals(q.runs);
  const tr = el("tr");
  tr.dataset.run = "total";
  tr.append(
    cell("label", "all runs"),
    cell("submitter", ""),
    progressCell(sum),
    cell("state", ""),
    cell("elapsed", ""),
    cell("updated", ""),
  );
  foot.append(tr);
  host.append(section);
}

function renderWorkers(host: HTMLElement, q: QueueResponse): void {
  const head = el("div", "section-head");
  head.append(
    el("h3", undefined, `${q.workers.length} worker${q.workers.length === 1 ? "" : "s"} connected`),
  );
  host.append(head);
  if (q.workers.length === 0) {
    host.append(
      el("p", "facts", "No gradtrace worker is connected: start one with gradtrace worker --redis URL."),
    );
    return;
  }
  const { section, body } = table("queue-workers", ["worker", "connected for"]);
  for (const w of q.workers) {
    const tr = el("tr");
    tr.dataset.worker = w.name;
    tr.append(cell("name", w.name), cell("connected", durationText(w.connectedS * 1000)));
    body.append(tr);
  }
  host.append(section);
}

export function queuePage(root: HTMLElement): Page {
  root.innerHTML = "";
  const title = el("h2", undefined, "Queue");
  const facts = el("p", "facts");
  const problem = el("p", "queue-unreachable");
  problem.hidden = true;
  const content = el("div", "queue-content");
  root.append(title, facts, problem, content);
  let closed = false;
  let busy = false;
  let shown = false;

  const refresh = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      const q = await api.queue();
      if (closed) return;
      problem.hidden = true;
      content.classList.remove("stale");
      const j = q.jobs;
      facts.textContent = `${q.queue} · jobs in the queue: ${j.waiting} waiting, ${j.active} active, ${j.delayed} delayed, ${j.completed} completed (not yet collected), ${j.failed} failed · checked ${new Date(q.checkedAt).toLocaleTimeString()}`;
      content.innerHTML = "";
      renderRuns(content, q);
      renderWorkers(content, q);
      shown = true;
      document.body.dataset.state = "ready";
    } catch (err) {
      if (closed) return;
      if (err instanceof ApiError && err.status === 404) {
        root.textContent = `No queue to show: ${err.message}`;
        document.body.dataset.state = "error";
        closed = true;
        return;
      }
      // Redis down (503) or the server unreachable: say so, keep the last numbers (dimmed), keep asking.
      problem.textContent = `The queue cannot be read right now: ${(err as Error).message}. Retrying every ${QUEUE_REFRESH_MS / 1000} s${shown ? "; the numbers below are the last ones read" : ""}.`;
      problem.hidden = false;
      content.classList.add("stale");
      document.body.dataset.state = "ready";
    } finally {
      busy = false;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), QUEUE_REFRESH_MS);
  return {
    destroy() {
      closed = true;
      clearInterval(timer);
    },
  };
}
