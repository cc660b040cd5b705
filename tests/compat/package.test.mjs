// The published package as npm sees it: the manifest scripts/package-json.mjs writes, what
// `npm pack` ships, the loader's types (checked by tsc as a consumer would), and the loader's own
// size and syntax (old browsers must at least parse it, to fall back instead of breaking).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { REPO_ROOT } from "../e2e/harness.mjs";
import { measure } from "../../scripts/size.mjs";
import { PKG_DIR, ensureLoaderBuilt, installPackage, removeDir, run, tempDir } from "./helpers.mjs";

const read = (file) => readFileSync(path.join(PKG_DIR, file), "utf8");
let manifest;
let dir;

before(async () => {
  ensureLoaderBuilt();
  manifest = JSON.parse(read("package.json"));
  dir = await tempDir("rr-compat-package-");
});

after(() => dir && removeDir(dir));

test("pkg/package.json points every entry at the loader and describes the package", () => {
  const cargo = readFileSync(path.join(REPO_ROOT, "Cargo.toml"), "utf8").split(/^\[(?!package\])/m)[0];
  assert.equal(manifest.name, "retailrocket-tracker");
  assert.equal(manifest.version, cargo.match(/^version\s*=\s*"([^"]+)"/m)[1], "version from Cargo.toml");
  assert.equal(manifest.type, "module");
  assert.equal(manifest.main, "./index.js");
  assert.equal(manifest.module, "./index.js");
  assert.equal(manifest.types, "./index.d.ts");
  assert.deepEqual(manifest.exports["."], { types: "./index.d.ts", default: "./index.js" });
  assert.equal(manifest.sideEffects, false);
  assert.equal(manifest.license, "MIT");
  assert.match(manifest.repository?.url ?? "", /^https:\/\//);
  assert.ok(manifest.description?.length > 20);
  for (const k of ["retailrocket", "tracking", "recommendations", "ecommerce", "wasm", "webview"]) {
    assert.ok(manifest.keywords.includes(k), `keyword ${k}`);
  }
});

test("`files` lists every shipped file, and npm pack ships exactly those", async () => {
  const { stdout } = await run("npm", ["pack", "--dry-run", "--json", PKG_DIR], {
    cwd: dir,
    env: { ...process.env, npm_config_loglevel: "error" },
  });
  const packed = JSON.parse(stdout)[0].files.map((f) => f.path).sort();
  const always = packed.filter((f) => /^(package\.json|README(\.md)?|LICENSE.*)$/i.test(f));
  assert.deepEqual(packed, [...manifest.files, ...always].sort());
  // What the loader loads at run time ships too.
  for (const f of ["index.js", "index.d.ts", "retailrocket_tracker.js", "retailrocket_tracker.d.ts", "retailrocket_tracker_bg.wasm"]) {
    assert.ok(manifest.files.includes(f), f);
  }
  for (const target of Object.values(manifest.exports).flatMap((e) => (typeof e === "string" ? [e] : Object.values(e)))) {
    assert.ok(packed.includes(target.replace(/^\.\//, "")), `exports target ${target} ships`);
  }
});

test("index.d.ts re-exports every public type of the generated declarations", () => {
  const generated = read("retailrocket_tracker.d.ts");
  const internal = new Set(["InitOutput", "SyncInitInput", "initSync", "__wbg_init"]);
  const names = [...generated.matchAll(/^export (?:declare )?(?:interface|type|class|function) (\w+)/gm)]
    .map((m) => m[1])
    .filter((n) => !internal.has(n));
  assert.ok(names.includes("Tracker") && names.includes("TrackerConfig"), names.join(", "));
  const ours = read("index.d.ts");
  const reexported = new Set([...ours.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1].split(",").map((s) => s.trim())));
  assert.deepEqual(names.filter((n) => !reexported.has(n)), [], "add these to js/index.d.ts");
});

test("a TypeScript consumer type-checks against the installed package (bundler and nodenext resolution)", async () => {
  await installPackage(dir);
  const consumer = `
import init, { Tracker, type TrackerConfig, type TrackerError } from "retailrocket-tracker";
const ready: boolean = await init();
// @ts-expect-error init() resolves a boolean, not the wasm exports
const exportsOfWasm: { memory: WebAssembly.Memory } = await init();
const config: TrackerConfig = { partnerId: "608423a9b126ac6ab3f8f0a5", onError: (e: TrackerError) => console.log(e.code) };
const rr = new Tracker(config);
const accepted: boolean = rr.view(101, { stockId: "msk" }) && ready;
const id: string = rr.sessionExternalId;
const pending: number = rr.pending;
await rr.flush();
// @ts-expect-error no place for a secret in the config type
new Tracker({ partnerId: "608423a9b126ac6ab3f8f0a5", apiKey: "x" });
export { accepted, id, pending, exportsOfWasm };
`;
  await writeFile(path.join(dir, "consumer.mts"), consumer);
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  // The generated declarations use Symbol.dispose (wasm-bindgen 0.2.130): without skipLibCheck a
  // consumer needs lib esnext.disposable (TypeScript >= 5.2), checked here the strict way.
  for (const resolution of [["--module", "esnext", "--moduleResolution", "bundler"], ["--module", "nodenext", "--moduleResolution", "nodenext"]]) {
    const args = [tsc, "--noEmit", "--strict", "--target", "es2022", "--lib", "es2022,dom,esnext.disposable", ...resolution, "consumer.mts"];
    await run(process.execPath, args, { cwd: dir }).catch((err) => {
      assert.fail(`tsc ${resolution.join(" ")} failed:\n${err.stdout}${err.stderr}`);
    });
  }
});

test("the download size counts the loader, which stays small", () => {
  const { rows } = measure();
  const loader = rows.find((r) => r.name === "index.js");
  assert.ok(loader, "scripts/size.mjs measures index.js");
  assert.equal(loader.gzip, gzipSync(readFileSync(path.join(PKG_DIR, "index.js")), { level: 9 }).length);
  assert.ok(loader.gzip < 2048, `index.js is ${loader.gzip} bytes gzip: keep the loader tiny`);
});

test("old browsers that cannot run the glue can still parse the loader (Safari 13, Chrome 64)", async () => {
  // The glue uses newer syntax (`?.`, destructuring assignment) that these cannot parse, which is
  // why the loader imports it with import(): if that fails, init() resolves false. The loader
  // itself must need no syntax beyond what they support: esbuild must have nothing to lower.
  const code = read("index.js");
  const old = ["chrome64", "firefox67", "safari13", "ios13", "edge79"];
  // Whitespace and names only: syntax minification would drop an unused `catch (e)` binding for
  // esnext and not for the old targets, which is no syntax the loader needs.
  const minify = { minifyWhitespace: true, minifyIdentifiers: true, format: "esm" };
  const same = async (target) => (await esbuild.transform(code, { ...minify, target })).code;
  assert.equal(await same(old), await same("esnext"), "js/index.js uses syntax these browsers lack");
  assert.doesNotMatch(code, /^\s*import\s[^(]/m, "no static import: a failing glue must not fail the page's import");
});
