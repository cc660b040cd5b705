// Properties of the built package itself (pkg/), checked on every test run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import vm from "node:vm";
import * as esbuild from "esbuild";
import { CEILING_GZIP_BYTES, measure, report } from "../../scripts/size.mjs";

const pkgDir = new URL("../../pkg/", import.meta.url);
const shipped = readdirSync(pkgDir).filter((f) => /\.(wasm|js|d\.ts|map)$/.test(f));

test("pkg/ ships the wasm, its glue and TypeScript types", () => {
  for (const f of ["retailrocket_tracker_bg.wasm", "retailrocket_tracker.js", "retailrocket_tracker.d.ts"]) {
    assert.ok(shipped.includes(f), `${f} missing from pkg/`);
  }
});

test("the loader keeps its bundler hints, and the minified glue maps back to the original", () => {
  // Without them webpack warns "Critical dependency" and Vite cannot analyse the Node-only import.
  const loader = readFileSync(new URL("index.js", pkgDir), "utf8");
  assert.match(loader, /import\(\s*\/\* webpackIgnore: true \*\/\s*\/\* @vite-ignore \*\/\s*\w+\s*\)/);
  assert.match(loader, /\/\/# sourceMappingURL=index\.js\.map\s*$/);
  const glue = readFileSync(new URL("retailrocket_tracker.js", pkgDir), "utf8");
  assert.ok(glue.startsWith('/* @ts-self-types="./retailrocket_tracker.d.ts" */'), "Deno finds the types");
  assert.match(glue, /\/\/# sourceMappingURL=retailrocket_tracker\.js\.map\s*$/);
  const map = JSON.parse(readFileSync(new URL("retailrocket_tracker.js.map", pkgDir), "utf8"));
  // The glue and js/host.js, bundled in (from wasm-bindgen's copy under a hashed folder).
  assert.equal(map.sources.length, 2, map.sources.join());
  const glueAt = map.sources.indexOf("retailrocket_tracker.src.js");
  assert.ok(glueAt >= 0, "the original has its own name, not the minified file's");
  assert.match(map.sourcesContent[glueAt], /export class Tracker/, "the readable glue is embedded");
  const hostAt = map.sources.findIndex((source) => source.endsWith("/js/host.js"));
  assert.equal(map.sourcesContent[hostAt], readFileSync(new URL("../../js/host.js", import.meta.url), "utf8"));
  const manifest = JSON.parse(readFileSync(new URL("package.json", pkgDir), "utf8"));
  assert.ok(manifest.files.includes("retailrocket_tracker.js.map"), "the source map ships");
  assert.ok(manifest.files.includes("index.js.map"), "the loader's source map ships");
});

test("the .wasm imports under short names, and the glue supplies each of them", async () => {
  const module = new WebAssembly.Module(readFileSync(new URL("retailrocket_tracker_bg.wasm", pkgDir)));
  const imports = WebAssembly.Module.imports(module);
  assert.ok(imports.length > 50, `${imports.length} imports`);
  for (const { module: from, name } of imports) {
    assert.equal(from, "a");
    assert.match(name, /^[a-zA-Z]{1,2}$/, `import ${name} kept its long name (scripts/short-imports.mjs)`);
  }
  // Instantiating links every import against the glue's import object; a name the glue lacks
  // fails here with a LinkError.
  const glue = await import(new URL("retailrocket_tracker.js", pkgDir));
  glue.initSync({ module });
});

test("the glue keeps JS objects in its own heap, not in an externref table (WPE 2.38 traps on one)", () => {
  // See .cargo/config.toml: a module built with reference types exports wasm-bindgen's
  // externref table, and its glue reads and writes it.
  const module = new WebAssembly.Module(readFileSync(new URL("retailrocket_tracker_bg.wasm", pkgDir)));
  const tables = WebAssembly.Module.exports(module).filter((e) => e.kind === "table");
  assert.deepEqual(tables, [], "the .wasm exports a table");
  const map = JSON.parse(readFileSync(new URL("retailrocket_tracker.js.map", pkgDir), "utf8"));
  assert.doesNotMatch(map.sourcesContent[0], /ExternrefTable|__wbindgen_externrefs/, "the glue uses an externref table");
});

test("rrapi.js ships, and is a classic script that old browsers can parse", async () => {
  assert.ok(shipped.includes("rrapi.js"), "rrapi.js missing from pkg/");
  const manifest = JSON.parse(readFileSync(new URL("package.json", pkgDir), "utf8"));
  assert.ok(manifest.files.includes("rrapi.js"), "rrapi.js is not in package.json's files");
  const code = readFileSync(new URL("rrapi.js", pkgDir), "utf8");
  // Parsed as a classic script: a top-level import or export statement is a SyntaxError here
  // (import() is fine in a classic script, and is how it loads index.js next to it).
  assert.doesNotThrow(() => new vm.Script(code, { filename: "rrapi.js" }), "pkg/rrapi.js is not a classic script");
  assert.match(code, /import\(/, "it loads the package with import()");
  assert.doesNotMatch(code, /import\.meta/, "import.meta exists only in modules");
  const old = ["chrome64", "firefox67", "safari13", "ios13", "edge79"];
  const same = async (target) => (await esbuild.transform(code, { minify: true, target })).code;
  // Against ES2017, not esnext: esnext would drop the unused catch bindings ES2017 needs.
  assert.equal(await same(old), await same("es2017"), "rrapi.js uses syntax these browsers lack");
  const gzip = gzipSync(Buffer.from(code), { level: 9 }).length;
  assert.ok(gzip < 2048, `rrapi.js is ${gzip} bytes gzip: keep it small, every page downloads it`);
});

test("nothing in pkg/ can carry Retail Rocket's secret apiKey or reach its apiKey hosts", () => {
  const forbidden = /apikey=|apptracking\.|externalapi\./gi;
  for (const f of shipped) {
    const text = readFileSync(new URL(f, pkgDir)).toString("latin1");
    const hits = text.match(forbidden);
    assert.equal(hits, null, `${f} contains ${hits?.join(", ")}`);
  }
});

test("the TypeScript types have no `any` and no place for a secret", () => {
  const dts = readFileSync(new URL("retailrocket_tracker.d.ts", pkgDir), "utf8");
  const publicPart = dts.split("export type InitInput")[0].replace(/\/\*[\s\S]*?\*\//g, "");
  assert.doesNotMatch(publicPart, /:\s*any\b/, "an exported signature is typed `any`");
  assert.doesNotMatch(publicPart, /^\s*["']?[\w-]*(api_?key|secret|token|authorization|password)[\w-]*["']?\??:/im, "a property for a secret");
  assert.match(publicPart, /export interface TrackerConfig/);
});

test("every onError code the core can report is in the TypeScript union and the README", () => {
  const source = readFileSync(new URL("../../src/core/problem.rs", import.meta.url), "utf8");
  const codes = [...source.matchAll(/=> "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(codes.length >= 10, "codes found in src/core/problem.rs");
  const dts = readFileSync(new URL("retailrocket_tracker.d.ts", pkgDir), "utf8");
  const union = dts.slice(dts.indexOf("export interface TrackerError"), dts.indexOf("message: string"));
  for (const code of codes) assert.ok(union.includes(`"${code}"`), `TrackerError.code lacks "${code}"`);
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  for (const code of codes) assert.ok(readme.includes(`| \`${code}\` |`), `the README's onError table lacks ${code}`);
});

test("download size stays under today's ceiling (it may only go down)", () => {
  const size = measure();
  console.log(report(size));
  assert.ok(size.total > 0);
  assert.ok(size.total <= CEILING_GZIP_BYTES, `${size.total} B gzip is over the ${CEILING_GZIP_BYTES} B ceiling`);
});
