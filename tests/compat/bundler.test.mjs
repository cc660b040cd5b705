// A storefront that installs the package from npm and bundles it with esbuild, then tracks one
// event end to end in Chromium. esbuild does not rewrite `new URL("./x.wasm", import.meta.url)`
// (evanw/esbuild#795), so the two ways an esbuild user gets the .wasm are both checked:
//   a) copy retailrocket_tracker_bg.wasm next to the bundle, and call init();
//   b) import the .wasm with `--loader:.wasm=file` and pass its URL: init(new URL(url, import.meta.url)),
//      here also with --splitting --minify (the glue, loaded with import(), becomes its own chunk).
import assert from "node:assert/strict";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import * as esbuild from "esbuild";
import { PARTNER_ID, launchBrowser, startStack } from "../e2e/harness.mjs";
import {
  README_APP,
  TRACK_ONE_VIEW,
  appPage,
  assertTracksOnce,
  ensureLoaderBuilt,
  installPackage,
  listDir,
  closeAll,
  startStaticServer,
  tempDir,
} from "./helpers.mjs";

const APPS = {
  // a) the README way: no argument; the .wasm is expected next to the module that loads it.
  a: README_APP,
  // b) the bundler emits the .wasm under a hashed name and hands its URL to init().
  b: `import init, { Tracker } from "retailrocket-tracker";
import wasmUrl from "retailrocket-tracker/retailrocket_tracker_bg.wasm";
const ok = await init(new URL(wasmUrl, import.meta.url));\n${TRACK_ONE_VIEW}`,
};

let dir;
let stack;
let site;
let browser;
const built = {};

async function bundle(name, options) {
  const src = path.join(dir, "src", `${name}.js`);
  await mkdir(path.dirname(src), { recursive: true });
  await writeFile(src, APPS[name]);
  const outdir = path.join(dir, "dist", name);
  const result = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: [src],
    bundle: true,
    format: "esm",
    platform: "browser",
    loader: { ".wasm": "file" },
    outdir,
    logLevel: "silent",
    ...options,
  });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.warnings.map((w) => w.text), [], `esbuild warned bundling ${name}`);
  return outdir;
}

before(async () => {
  ensureLoaderBuilt();
  dir = await tempDir("rr-compat-bundler-");
  const installed = await installPackage(dir);
  built.a = await bundle("a");
  await copyFile(path.join(installed, "retailrocket_tracker_bg.wasm"), path.join(built.a, "retailrocket_tracker_bg.wasm"));
  built.b = await bundle("b", { splitting: true, minify: true, entryNames: "[name]", chunkNames: "[name]-[hash]" });
  stack = await startStack();
  const page = (name) => ({ body: appPage({ pkg: "", mock: stack.mockUrl, partner: PARTNER_ID, scripts: [`/${name}/${name}.js`] }) });
  site = await startStaticServer({
    mounts: { "/a/": built.a, "/b/": built.b },
    pages: { "/a.html": page("a"), "/b.html": page("b") },
  });
  browser = await launchBrowser();
});

after(() => closeAll({ browser, site, stack, dir }));

beforeEach(() => stack.mock.reset());

const trackOnce = (name) => assertTracksOnce({ browser, stack, site, path: `/${name}.html` });

test("esbuild bundle, .wasm copied next to it, init() without argument: tracks end to end", async () => {
  const bundleText = await readFile(path.join(built.a, "a.js"), "utf8");
  assert.doesNotMatch(bundleText, /from\s*["']node:/, "no static Node import in a browser bundle");
  assert.deepEqual(await listDir(built.a), ["a.js", "retailrocket_tracker_bg.wasm"], "one bundle (the glue is inlined) and the .wasm");
  const fetched = await trackOnce("a");
  assert.deepEqual(fetched.filter((p) => p.endsWith(".wasm")), ["/a/retailrocket_tracker_bg.wasm"]);
});

test("esbuild --splitting --minify with --loader:.wasm=file and init(url): tracks end to end", async () => {
  const files = await listDir(built.b);
  const wasm = files.filter((f) => f.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `esbuild emitted the .wasm: ${files}`);
  assert.ok(files.some((f) => /^retailrocket_tracker-.*\.js$/.test(f)), `the glue is a lazily loaded chunk: ${files}`);
  const fetched = await trackOnce("b");
  assert.deepEqual(fetched.filter((p) => p.endsWith(".wasm")), [`/b/${wasm[0]}`]);
});
