// Shared helpers of the compatibility tests: the package as npm would install it, a tiny static
// server that can set per-page headers (e.g. a Content-Security-Policy), and a small test app.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import assert from "node:assert/strict";
import { PARTNER_ID, REPO_ROOT, collectConsoleErrors, mockRequests, waitFor } from "../e2e/harness.mjs";

export const run = promisify(execFile);
export const PKG_DIR = path.join(REPO_ROOT, "pkg");

/** Throws a clear error unless scripts/build has produced pkg/ with the loader. */
export function ensureLoaderBuilt() {
  const missing = ["index.js", "index.d.ts", "retailrocket_tracker.js", "retailrocket_tracker_bg.wasm", "package.json"]
    .filter((f) => !existsSync(path.join(PKG_DIR, f)));
  if (missing.length) throw new Error(`pkg/${missing[0]} is missing: run bash scripts/build first`);
}

export const tempDir = (prefix = "rr-compat-") => mkdtemp(path.join(os.tmpdir(), prefix));
export const removeDir = (dir) => rm(dir, { recursive: true, force: true });

/**
 * Packs pkg/ with `npm pack` (exactly what would be published) and unpacks the tarball into
 * `<dir>/node_modules/retailrocket-tracker`, as `npm i` would. Returns the package's directory.
 */
export async function installPackage(dir) {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir, PKG_DIR], {
    cwd: dir,
    env: { ...process.env, npm_config_loglevel: "error", npm_config_update_notifier: "false" },
  });
  const [{ filename }] = JSON.parse(stdout);
  const target = path.join(dir, "node_modules", "retailrocket-tracker");
  await mkdir(path.dirname(target), { recursive: true });
  const unpack = path.join(dir, ".unpack");
  await mkdir(unpack);
  await run("tar", ["-xzf", path.join(dir, path.basename(filename)), "-C", unpack]);
  await rename(path.join(unpack, "package"), target);
  await rm(unpack, { recursive: true });
  return target;
}

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
};

/**
 * A static server on 127.0.0.1. `pages` maps exact paths to `{ body, type?, headers?, status? }`;
 * `mounts` maps path prefixes ending in "/" to directories. Pages win over mounts. `handlers` maps
 * path prefixes ending in "/" to `(req, res, rest)` request handlers (e.g. a relay), tried first.
 * @returns {Promise<{ url: string, requests: string[], close(): Promise<void> }>}
 */
export async function startStaticServer({ pages = {}, mounts = {}, handlers = {} } = {}) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, "http://x.invalid");
    requests.push(pathname);
    const reply = (status, body, type, headers = {}) => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
      res.end(body);
    };
    try {
      const handled = Object.keys(handlers).find((p) => pathname.startsWith(p));
      if (handled !== undefined) return await handlers[handled](req, res, pathname.slice(handled.length));
      const page = pages[pathname];
      if (page) {
        return reply(page.status ?? 200, page.body ?? "", page.type ?? MIME[path.extname(pathname)] ?? MIME[".html"], page.headers);
      }
      const prefix = Object.keys(mounts).filter((p) => pathname.startsWith(p)).sort((a, b) => b.length - a.length)[0];
      if (prefix !== undefined) {
        const rest = decodeURIComponent(pathname.slice(prefix.length));
        const base = path.resolve(mounts[prefix]);
        const file = path.resolve(base, rest);
        if (file.startsWith(base + path.sep) && !rest.split("/").some((s) => s.startsWith(".")) && (await stat(file).catch(() => null))?.isFile()) {
          return reply(200, await readFile(file), MIME[path.extname(file)] ?? "application/octet-stream");
        }
      }
      reply(404, "404 Not Found\n", "text/plain; charset=utf-8");
    } catch (err) {
      reply(500, String(err), "text/plain; charset=utf-8");
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The app the browser tests load: imports the package from `data-pkg`, awaits init(), creates a
 * Tracker aimed at `data-mock`, tracks one view, and only then wires the page's button. Results
 * go to `<html data-result>` (JSON) and `data-done`; clicks count in `data-clicked`.
 */
export const APP_JS = `
const root = document.documentElement;
const { pkg, mock, partner } = root.dataset;
const { default: init, Tracker } = await import(pkg);
const ok = await init();
const rr = new Tracker({ partnerId: partner, trackingUrl: mock, apiUrl: mock });
const view = rr.view(101);
root.dataset.result = JSON.stringify({ ok, view, id: rr.sessionExternalId, pending: rr.pending });
document.getElementById("buy").addEventListener("click", () => {
  root.dataset.clicked = String(Number(root.dataset.clicked || 0) + 1);
});
await rr.flush();
root.dataset.done = "1";
`;

/**
 * The body of a bundled test app, after `const ok = await init()`: a Tracker aimed at the page's
 * `data-mock`, one view of product 101, the result in `data-result`, then `data-done`.
 */
export const TRACK_ONE_VIEW = `
const root = document.documentElement;
const rr = new Tracker({ partnerId: root.dataset.partner, trackingUrl: root.dataset.mock, apiUrl: root.dataset.mock });
root.dataset.result = JSON.stringify({ ok, view: rr.view(101), id: rr.sessionExternalId, pending: rr.pending });
await rr.flush();
root.dataset.done = "1";
`;

/** A bundled app importing the package by name, the README way: init() with no argument. */
export const README_APP = `import init, { Tracker } from "retailrocket-tracker";\nconst ok = await init();\n${TRACK_ONE_VIEW}`;

/** An HTML page that runs `scripts` (external, same-origin: a strict CSP allows no inline script). */
export function appPage({ pkg, mock, partner, scripts = ["/app.js"] }) {
  const attrs = `data-pkg="${pkg}" data-mock="${mock}" data-partner="${partner}"`;
  const tags = scripts.map((s) => (typeof s === "string" ? `<script type="module" src="${s}"></script>` : s.html)).join("\n");
  return `<!doctype html>\n<html ${attrs}><head><meta charset="utf-8"><title>compat</title><link rel="icon" href="data:,">\n${tags}\n</head>` +
    `<body><button id="buy">Buy</button></body></html>\n`;
}

/** Collects the page's console warnings (the loader explains itself with one console.warn). */
export function collectWarnings(page) {
  const warnings = [];
  page.on("console", (msg) => msg.type() === "warning" && warnings.push(msg.text()));
  return warnings;
}

/** Waits for the app of appPage() to finish, and returns its parsed `data-result`. */
export async function appResult(page, { timeout = 15000 } = {}) {
  await page.waitForFunction(() => document.documentElement.dataset.done, null, { timeout });
  return JSON.parse(await page.evaluate(() => document.documentElement.dataset.result));
}

/** Lists a directory's files, relative, sorted (for messages). */
export const listDir = async (dir) => (await readdir(dir, { recursive: true })).sort();

/**
 * Opens `site.url + path` in a fresh browser context (a bundled app that tracks one view of
 * product 101 and reports through `data-result`), and asserts the view reached the mock with the
 * page's visitor id, with no console error or warning. Returns the paths the page fetched.
 */
export async function assertTracksOnce({ browser, stack, site, path: pagePath }) {
  const context = await browser.browser.newContext();
  const tab = await context.newPage();
  const errors = collectConsoleErrors(tab);
  const warnings = collectWarnings(tab);
  const seen = site.requests.length;
  await tab.goto(`${site.url}${pagePath}`);
  const result = await appResult(tab);
  assert.equal(result.ok, true, `init() resolved true (warnings: ${JSON.stringify(warnings)})`);
  assert.equal(result.view, true);
  assert.match(result.id, /^[0-9a-f]{32}$/);
  const views = await waitFor(async () => {
    const r = await mockRequests(stack.mockUrl, `/1.0/event/view/${PARTNER_ID}/101`);
    return r.length > 0 && r;
  }, { message: "the bundled page's view reached the mock" });
  assert.equal(views.length, 1);
  assert.equal(views[0].status, 200);
  assert.equal(views[0].query.sessionExternalId, result.id);
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
  await context.close();
  return site.requests.slice(seen);
}

/** Closes what a compat test opened (any may be missing if its setup failed), then removes `dir`. */
export async function closeAll({ browser, site, stack, dir }) {
  await browser?.close();
  await site?.close();
  await stack?.close();
  if (dir) await removeDir(dir);
}
