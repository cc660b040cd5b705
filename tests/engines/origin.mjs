// A storefront origin for the engine suite: serves the built pkg/ under /pkg/ and the suite's
// pages (pages/), /slow, which answers after ?ms= milliseconds (to keep a page loading), and
// POST /__uncaught, where pages/capture.js reports uncaught errors (kept in `uncaught`).
// Each scenario gets its own origin (a new port), so storage, locks and the HTTP cache start
// empty without a new browser session.
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".map": "application/json" };

async function file(res, full) {
  try {
    const body = await readFile(full);
    res.writeHead(200, { "Content-Type": TYPES[path.extname(full)] ?? "application/octet-stream", "Cache-Control": "no-store" });
    res.end(body);
  } catch {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found\n");
  }
}

/** Starts an origin on a free port of 127.0.0.1. */
export async function startOrigin() {
  const uncaught = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://origin.invalid");
    if (url.pathname === "/__uncaught" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        uncaught.push(body);
        res.writeHead(204);
        res.end();
      });
      return;
    }
    const name = url.pathname.split("/").filter((s) => s && !s.startsWith(".")).join("/");
    if (url.pathname === "/slow") {
      const timer = setTimeout(() => {
        res.writeHead(204, { "Cache-Control": "no-store" });
        res.end();
      }, Number(url.searchParams.get("ms") ?? 5000));
      req.on("close", () => clearTimeout(timer));
      return;
    }
    if (name.startsWith("pkg/")) return file(res, path.join(ROOT, name));
    return file(res, path.join(HERE, "pages", name || "blank.html"));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    uncaught,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
