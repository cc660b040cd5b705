// Rewrites the package.json wasm-pack generated in pkg/ into the published one: the soft-failing
// loader (js/index.js, copied to pkg/ by scripts/build) is the entry point, the version comes from
// Cargo.toml, and `files` lists exactly what ships. Fails if a listed file is missing.
// Run by scripts/build:  node scripts/package-json.mjs [pkgDir]
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkgDir = path.resolve(process.argv[2] ?? path.join(root, "pkg"));

// Only the [package] table: it comes first, so stop at the next table header.
const cargo = readFileSync(path.join(root, "Cargo.toml"), "utf8").split(/^\[(?!package\])/m)[0];
const field = (name) => cargo.match(new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m"))?.[1];
const version = field("version");
if (!version) throw new Error("no version in Cargo.toml's [package]");
const generated = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));

const files = [
  "index.js",
  "index.js.map",
  "index.d.ts",
  // The classic-script drop-in for tracking.js (<script async src=".../rrapi.js">), not a module.
  "rrapi.js",
  "retailrocket_tracker.js",
  "retailrocket_tracker.js.map",
  "retailrocket_tracker.d.ts",
  "retailrocket_tracker_bg.wasm",
];
const missing = files.filter((f) => !existsSync(path.join(pkgDir, f)));
if (missing.length) throw new Error(`pkg/ lacks ${missing.join(", ")}: run scripts/build`);

const manifest = {
  name: "retailrocket-tracker",
  version,
  description: field("description") ?? generated.description,
  license: field("license") ?? generated.license,
  repository: { type: "git", url: field("repository") ?? generated.repository?.url },
  keywords: ["retailrocket", "tracking", "recommendations", "ecommerce", "wasm", "webview"],
  type: "module",
  files,
  main: "./index.js",
  module: "./index.js",
  types: "./index.d.ts",
  exports: {
    ".": { types: "./index.d.ts", default: "./index.js" },
    "./index.js": { types: "./index.d.ts", default: "./index.js" },
    // The generated glue as is: its init() rejects and its constructor needs the wasm ready.
    "./retailrocket_tracker.js": { types: "./retailrocket_tracker.d.ts", default: "./retailrocket_tracker.js" },
    // For bundlers that want the asset by name (e.g. esbuild: import url from ".../..._bg.wasm").
    "./retailrocket_tracker_bg.wasm": "./retailrocket_tracker_bg.wasm",
    "./package.json": "./package.json",
  },
  // Neither module touches anything outside itself when imported, so an unused import may go.
  sideEffects: false,
};

writeFileSync(path.join(pkgDir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
