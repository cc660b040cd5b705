// A storefront built with Vite (`vite build`, from npm) that installs the package and calls
// init() with no argument, the README way. Vite has to find the .wasm through the loader's
// `new URL("./retailrocket_tracker_bg.wasm", import.meta.url)`, build without a warning, and the
// built page must track one event end to end in Chromium.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { build, createLogger } from "vite";
import { PARTNER_ID, launchBrowser, startStack } from "../e2e/harness.mjs";
import { README_APP, appPage, assertTracksOnce, closeAll, ensureLoaderBuilt, installPackage, listDir, startStaticServer, tempDir } from "./helpers.mjs";

let dir;
let dist;
let stack;
let site;
let browser;
const warnings = [];

before(async () => {
  ensureLoaderBuilt();
  dir = await tempDir("rr-compat-vite-");
  await installPackage(dir);
  stack = await startStack();
  await writeFile(path.join(dir, "main.js"), README_APP);
  await writeFile(path.join(dir, "index.html"), appPage({ pkg: "", mock: stack.mockUrl, partner: PARTNER_ID, scripts: ["/main.js"] }));
  // Everything Vite would print as a warning, kept for the assertion below.
  const logger = createLogger("warn", { allowClearScreen: false });
  logger.warn = (msg) => warnings.push(msg);
  logger.warnOnce = (msg) => warnings.push(msg);
  dist = path.join(dir, "dist");
  await build({ root: dir, configFile: false, logLevel: "warn", customLogger: logger, build: { outDir: dist, emptyOutDir: true } });
  site = await startStaticServer({ mounts: { "/": dist } });
  browser = await launchBrowser();
});

after(() => closeAll({ browser, site, stack, dir }));

test("vite build: no warning, the .wasm emitted as an asset, the page tracks end to end", async () => {
  assert.deepEqual(warnings, [], "vite warned while building");
  const files = await listDir(dist);
  const wasm = files.filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one .wasm asset: ${files}`);
  const js = files.filter((f) => f.endsWith(".js"));
  for (const f of js) {
    const text = await readFile(path.join(dist, f), "utf8");
    assert.doesNotMatch(text, /from\s*["']node:/, `${f}: no static Node import in a browser bundle`);
  }
  const fetched = await assertTracksOnce({ browser, stack, site, path: "/index.html" });
  assert.deepEqual(fetched.filter((p) => p.endsWith(".wasm")), [`/${wasm[0]}`], "the page fetched the emitted .wasm");
});
