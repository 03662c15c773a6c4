/** @file Serving the built page (dist/web): the list of servable files is fixed when the server starts, by walking
 * the build directory, and a request is answered only when its path is a key of that list — a request path is never
 * joined onto a file-system path, so no traversal spelling (../, %2e%2e, absolute paths, NUL bytes) can reach
 * another file. */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

export interface StaticFile {
  readonly absPath: string;
  readonly contentType: string;
}

/** URL path ("/assets/index-abc.js") → file, for every regular file under `dir`; "/" maps to index.html. */
export function staticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (abs: string, rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const childAbs = path.join(abs, e.name);
      const childRel = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(childAbs, childRel);
      else if (e.isFile()) {
        const type = CONTENT_TYPES[path.extname(e.name).toLowerCase()];
        if (type) files.set(childRel, { absPath: childAbs, contentType: type });
      }
    }
  };
  walk(dir, "");
  const index = files.get("/index.html");
  if (index) files.set("/", index);
  return files;
}

/** The built page's directory: dist/web beside the compiled server (dist/serve/ → dist/web/) in an installed
 * package or a built clone; from the TypeScript sources (tests, tsx) the checkout's dist/web. Null when neither
 * holds an index.html (a clone that was never built). */
export function defaultWebDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, "../web"), path.resolve(here, "../../dist/web")];
  return candidates.find((dir) => fs.existsSync(path.join(dir, "index.html"))) ?? null;
}
