/** @file Entry of the dashboard page: a hash router over the overview (#/), one run (#/run/<id>, optionally
 * /tensor/<name>), one spiked-lab sweep (#/lab/<id>) and the Redis queue (#/queue, linked from the header when the
 * server was started with --queue). The query string (?token=) is left alone so the token survives navigation. */
import "./style.css";
import { api } from "./api.ts";
import { labPage } from "./lab.ts";
import { overviewPage, type Page } from "./overview.ts";
import { queuePage } from "./queue.ts";
import { type RunPage, runPage, TOTAL } from "./run.ts";

const app = document.getElementById("app")!;
const tooltip = document.getElementById("tooltip")!;
const crumbs = document.getElementById("crumbs")!;
const live = document.getElementById("live")!;

const setLive = (on: boolean) => {
  live.dataset.live = on ? "on" : "off";
  live.title = on ? "live: updates arrive as the traces grow" : "not connected for live updates";
};

type Route =
  | { kind: "overview" }
  | { kind: "run"; id: string; tensor: string }
  | { kind: "lab"; id: string }
  | { kind: "queue" };

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "run" && parts[1]) {
    return {
      kind: "run",
      id: parts[1],
      tensor: parts[2] === "tensor" && parts.length > 3 ? parts.slice(3).join("/") : TOTAL,
    };
  }
  if (parts[0] === "lab" && parts[1]) return { kind: "lab", id: parts[1] };
  if (parts[0] === "queue") return { kind: "queue" };
  return { kind: "overview" };
}

let current: { route: Route; page: Page } | null = null;

function navigate(): void {
  // Tensor names may hold "/": the router splits the raw hash, so they arrive encoded as one segment or several.
  const route = parse(location.hash);
  if (current && current.route.kind === "run" && route.kind === "run" && current.route.id === route.id) {
    (current.page as RunPage).selectTensor(route.tensor);
    current.route = route;
    return;
  }
  current?.page.destroy();
  document.body.dataset.state = "loading";
  crumbs.textContent = "";
  if (route.kind !== "overview") {
    const a = document.createElement("a");
    a.href = "#/";
    a.textContent = "runs";
    crumbs.append(a, document.createTextNode(` / ${route.kind === "queue" ? "queue" : route.id}`));
  }
  const page =
    route.kind === "run"
      ? runPage(app, route.id, route.tensor, tooltip, setLive)
      : route.kind === "lab"
        ? labPage(app, route.id)
        : route.kind === "queue"
          ? queuePage(app)
          : overviewPage(app, setLive);
  current = { route, page };
}

window.addEventListener("hashchange", navigate);
navigate();

// The queue link appears only when the server shows a queue (serve --queue).
api
  .server()
  .then(({ queue }) => {
    document.body.dataset.queue = queue ? "on" : "off";
    const link = document.getElementById("queue-link");
    if (link && queue) {
      link.hidden = false;
      link.title = `runs, jobs and workers of the queue at ${queue}`;
    }
  })
  .catch(() => {});
