// A storefront built with webpack 5 (from npm, its default production settings) that installs the
// package and calls init() with no argument, the README way. webpack has to emit the .wasm it finds
// through `new URL("./retailrocket_tracker_bg.wasm", import.meta.url)`, split the lazily imported
// glue into a chunk, and leave the loader's Node-only import() alone: without the loader's
// `webpackIgnore` hint it warns "Critical dependency: the request of a dependency is an
// expression". The built page must track one event end to end in Chromium.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import webpack from "webpack";
import { PARTNER_ID, launchBrowser, startStack } from "../e2e/harness.mjs";
import { README_APP, appPage, assertTracksOnce, closeAll, ensureLoaderBuilt, installPackage, listDir, startStaticServer, tempDir } from "./helpers.mjs";

let dir;
let dist;
let stack;
let site;
let browser;
let stats;

before(async () => {
  ensureLoaderBuilt();
  dir = await tempDir("rr-compat-webpack-");
  await installPackage(dir);
  await writeFile(path.join(dir, "main.js"), README_APP);
  dist = path.join(dir, "dist");
  stats = await new Promise((resolve, reject) => {
    webpack({ mode: "production", context: dir, entry: "./main.js", output: { path: dist, publicPath: "/" } }, (err, s) =>
      err ? reject(err) : resolve(s.toJson({ all: false, errors: true, warnings: true, assets: true })),
    );
  });
  stack = await startStack();
  const page = { body: appPage({ pkg: "", mock: stack.mockUrl, partner: PARTNER_ID, scripts: ["/main.js"] }) };
  site = await startStaticServer({ pages: { "/index.html": page }, mounts: { "/": dist } });
  browser = await launchBrowser();
});

after(() => closeAll({ browser, site, stack, dir }));

test("webpack 5 build: no warning, the .wasm and the glue emitted, the page tracks end to end", async () => {
  assert.deepEqual(stats.errors.map((e) => e.message), []);
  assert.deepEqual(stats.warnings.map((w) => w.message), [], "webpack warned while building");
  const files = await listDir(dist);
  const wasm = files.filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one .wasm asset: ${files}`);
  assert.ok(files.filter((f) => f.endsWith(".js")).length >= 2, `the glue is a lazily loaded chunk: ${files}`);
  const fetched = await assertTracksOnce({ browser, stack, site, path: "/index.html" });
  assert.deepEqual(fetched.filter((p) => p.endsWith(".wasm")), [`/${wasm[0]}`], "the page fetched the emitted .wasm");
});
