// Demo storefront server: serves www/ at "/", the wasm-pack output pkg/ at "/pkg/", and a small
// config document telling the page where the (mock) Retail Rocket endpoints are.
// Node built-ins only. Run directly:  node www/server.mjs --port 8080 --mock http://127.0.0.1:8787
import http from "node:http";
import { realpathSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { relayHandler } from "./relay.mjs";

export const PARTNER_ID = "608423a9b126ac6ab3f8f0a5";
export const DEFAULT_MOCK_URL = "http://127.0.0.1:8787";
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

function send(res, status, body, type = "text/plain; charset=utf-8", headers = {}) {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

const sendJson = (res, status, value) => send(res, status, JSON.stringify(value, null, 2), MIME[".json"]);
const notFound = (res) => send(res, 404, "404 Not Found\n");

/**
 * Resolves a URL path (already stripped of its mount prefix) inside `dir`, or returns null when it
 * would leave `dir`, names a dotfile, or cannot be decoded. Directories map to their index.html.
 */
async function resolveFile(dir, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const segments = decoded.split("/").filter(Boolean);
  if (segments.some((s) => s.startsWith("."))) return null; // "..", ".git", ".env", ...
  const base = path.resolve(dir);
  let file = path.resolve(base, ...segments);
  if (file !== base && !file.startsWith(base + path.sep)) return null;
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, "index.html");
      info = await stat(file);
    }
    return info.isFile() ? file : null;
  } catch {
    return null;
  }
}

function serveDir(dir) {
  return async (req, res, rest) => {
    const file = await resolveFile(dir, rest);
    if (!file) return notFound(res);
    const body = await readFile(file);
    send(res, 200, body, MIME[path.extname(file).toLowerCase()] ?? "application/octet-stream");
  };
}

/**
 * Starts the demo storefront server. Resolves once it is listening.
 * @returns {Promise<{ url: string, port: number, server: http.Server, close(): Promise<void> }>}
 *   `url` has no trailing slash (like the mock's), e.g. "http://127.0.0.1:8080".
 */
export async function startDemoServer({
  port = 0,
  host = "127.0.0.1",
  root = REPO_ROOT,
  mockUrl = process.env.RR_MOCK_URL ?? DEFAULT_MOCK_URL,
  partnerId = PARTNER_ID,
  apiKey = process.env.RR_API_KEY,
  relayUpstream,
} = {}) {
  const config = { mockUrl: String(mockUrl).replace(/\/+$/, ""), partnerId, relayUrl: "/rr" };
  // The first-party relay: Retail Rocket's server API, reached with a key only this server knows.
  // In the demo, "Retail Rocket" is the mock, whose server API sits under /apptracking/.
  const relay = relayHandler({ partnerId, upstream: relayUpstream ?? `${config.mockUrl}/apptracking/1.0/visitorEvents`, apiKey });

  // First match wins. `prefix` routes get the remainder of the path; add new endpoints (e.g. a
  // first-party relay under "/rr/") above the catch-all "/" entry.
  const routes = [
    { methods: ["GET", "HEAD"], path: "/demo-config.json", handle: (req, res) => sendJson(res, 200, config) },
    { methods: ["POST"], prefix: "/rr/", handle: relay },
    { methods: ["GET", "HEAD"], prefix: "/pkg/", handle: serveDir(path.join(root, "pkg")) },
    { methods: ["GET", "HEAD"], prefix: "/", handle: serveDir(path.join(root, "www")) },
  ];

  const server = http.createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url, "http://demo.invalid");
      const route = routes.find((r) => (r.path ? pathname === r.path : pathname.startsWith(r.prefix)));
      if (!route) return notFound(res);
      if (!route.methods.includes(req.method)) {
        return send(res, 405, "405 Method Not Allowed\n", undefined, { Allow: route.methods.join(", ") });
      }
      await route.handle(req, res, route.prefix ? pathname.slice(route.prefix.length) : pathname);
    } catch (err) {
      if (!res.headersSent) send(res, 500, `500 ${err?.message ?? err}\n`);
      else res.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: process.env.DEMO_PORT ?? "8080" },
      host: { type: "string", default: "127.0.0.1" },
      mock: { type: "string", default: process.env.RR_MOCK_URL ?? DEFAULT_MOCK_URL },
      root: { type: "string", default: REPO_ROOT },
    },
  });
  let demo;
  try {
    demo = await startDemoServer({ port: Number(values.port), host: values.host, mockUrl: values.mock, root: values.root });
  } catch (err) {
    const why = err.code === "EADDRINUSE" ? `port ${values.port} on ${values.host} is already in use` : err.message;
    console.error(`demo server: cannot listen: ${why}`);
    process.exit(1);
  }
  console.log(`demo storefront listening on ${demo.url}/ (mock Retail Rocket: ${values.mock})`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const isMain = () => {
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};
if (process.argv[1] && isMain()) main();
