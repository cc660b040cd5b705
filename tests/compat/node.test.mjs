// Node (server-side rendering, build scripts): the package imports without throwing, init()
// resolves, and a Tracker is a silent in-memory or no-op tracker that sends nothing. Each case runs
// in a fresh `node` process that imports the package by name from a temporary node_modules, the
// way a server app would; the process prints one JSON line when it exits.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { PARTNER_ID } from "../e2e/harness.mjs";
import { PKG_DIR, ensureLoaderBuilt, installPackage, removeDir, run, tempDir } from "./helpers.mjs";

let dir;
let mock;

before(async () => {
  ensureLoaderBuilt();
  dir = await tempDir("rr-compat-node-");
  await installPackage(dir);
  const { startMock } = await import("../mock/server.mjs");
  mock = await startMock({ port: 0, host: "127.0.0.1" });
});

after(async () => {
  await mock?.close();
  if (dir) await removeDir(dir);
});

// Counts fetch calls and console.warn lines, and prints `globalThis.out` when the process exits:
// the wasm tracker must not keep the process alive with timers, so exiting on its own is part of the test.
const PRELUDE = `
const fetches = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (...args) => (fetches.push(String(args[0])), realFetch(...args));
const warnings = [];
console.warn = (...args) => warnings.push(args.join(" "));
globalThis.out = {};
process.on("exit", () => process.stdout.write(JSON.stringify({ ...globalThis.out, fetches, warnings }) + "\\n"));
`;

async function runScript(name, body) {
  const file = path.join(dir, `${name}.mjs`);
  await writeFile(file, PRELUDE + body);
  const { stdout } = await run(process.execPath, [file], { cwd: dir, timeout: 30000 });
  return JSON.parse(stdout.trim().split("\n").pop());
}

const config = (url) => ({ partnerId: PARTNER_ID, trackingUrl: url, apiUrl: url });

test("SSR: import never throws, init() resolves, the Tracker tracks in memory and sends nothing", async () => {
  const out = await runScript("ssr", `
const config = ${JSON.stringify(config(mock.url))};
const globalsBefore = Object.getOwnPropertyNames(globalThis);
const { default: init, Tracker } = await import("retailrocket-tracker");
out.globalsAdded = Object.getOwnPropertyNames(globalThis).filter((k) => !globalsBefore.includes(k));
const starting = init();
const early = new Tracker(config); // before init() resolved: keeps its calls
out.earlyBefore = [early.view(100), early.view("bad id"), early.pending, early.sessionExternalId];
out.ok = await starting;
out.again = await init();
const rr = new Tracker(config);
await new Promise((resolve) => setTimeout(resolve, 0));
out.early = [early.view(101), early.pending, /^[0-9a-f]{32}$/.test(early.sessionExternalId)];
out.calls = [
  rr.view(101), rr.view("102", { stockId: "msk" }), rr.groupView([103, 104]), rr.addToBasket(105),
  rr.removeFromBasket(105), rr.categoryView("Women/Clothing"), rr.search("skirt"),
  rr.order({ transaction: "T-1", items: [{ id: 101, price: 5 }] }), rr.setEmail("a@example.com"),
  rr.recomMouseDown(106, { methodName: "popular" }), rr.recomAddToCart(107, { methodName: "related" }),
];
out.invalid = [rr.view("abc"), rr.search(""), rr.order({})];
out.id = rr.sessionExternalId;
out.pending = rr.pending;
out.flushed = (await rr.flush()) ?? null;
try { new Tracker({ ...config, apiKey: "s3cr3t" }); } catch (e) { out.secret = [e.name, e.code]; }
`);
  assert.deepEqual(out.globalsAdded, [], "importing the package changes no global (sideEffects: false holds)");
  assert.equal(out.ok, true, `init() in Node reads the .wasm next to index.js (warnings: ${out.warnings})`);
  assert.equal(out.again, true);
  assert.deepEqual(out.earlyBefore, [true, true, 2, ""], "a Tracker made before init() resolved keeps its calls");
  assert.deepEqual(out.early, [true, 2, true], "then replays them (the bad one is refused there) and forwards");
  assert.deepEqual(out.calls, Array(11).fill(true), "valid calls are accepted (kept in memory)");
  assert.deepEqual(out.invalid, [false, false, false], "invalid calls return false, never throw");
  assert.match(out.id, /^[0-9a-f]{32}$/);
  assert.equal(out.pending, 11, "one event per call (the order has one product): all still queued, none delivered");
  assert.deepEqual(out.secret, ["TypeError", "config_secret"]);
  assert.deepEqual(out.fetches, [], "no fetch in Node");
  assert.deepEqual(out.warnings, [], "no warnings");
  assert.deepEqual(mock.requests(), [], "nothing reached the (mock) network");
});

test("Node without WebAssembly: init() resolves false, and the no-op has the whole Tracker API", async () => {
  const out = await runScript("no-wasm", `
delete globalThis.WebAssembly;
const { default: init, Tracker } = await import("retailrocket-tracker");
const glue = await import("retailrocket-tracker/retailrocket_tracker.js"); // importing the glue needs no wasm either
out.ok = await init();
const rr = new Tracker(${JSON.stringify(config(mock.url))});
const proto = glue.Tracker.prototype;
const skip = ["constructor", "__destroy_into_raw"];
out.api = Object.getOwnPropertyNames(proto).filter((k) => !skip.includes(k)).sort().map((k) => {
  const getter = typeof Object.getOwnPropertyDescriptor(proto, k).get == "function";
  return [k, getter ? "getter" : "method", getter ? typeof rr[k] : typeof rr[k] == "function" ? "method" : typeof rr[k]];
});
out.values = {};
for (const [k, kind, noop] of out.api) {
  if (kind === "getter") out.values[k] = rr[k];
  else if (noop === "method") {
    const r = rr[k](101, {});
    out.values[k] = r instanceof Promise ? ["promise", (await r) ?? null] : typeof r == "function" ? ["function", r() ?? null] : r ?? null;
  }
}
out.odd = [null, undefined, "x", 42, [], { partnerId: 1, unknown: true }].map((c) => {
  try { return new Tracker(c).view(1); } catch (e) { return e.name; }
});
out.secrets = ["apiKey", "apikey", "API_KEY", "key", "Key", "token", "accessToken", "secret", "clientSecret",
  "authorization", "Authorization", "x-api-key", "X-API-KEY", "x_authorization", "password"].map((k) => {
  try { new Tracker({ partnerId: "${PARTNER_ID}", [k]: "v" }); return k + ": accepted"; }
  catch (e) { return e instanceof TypeError && e.code === "config_secret" && /secret/.test(e.message) && /server/.test(e.message) ? "refused" : k + ": " + e; }
});
`);
  assert.equal(out.ok, false);
  assert.equal(out.warnings.length, 1, String(out.warnings));
  assert.match(out.warnings[0], /^retailrocket-tracker: .*WebAssembly is not available/);
  assert.ok(out.api.length >= 14, `the wasm Tracker's API was read: ${JSON.stringify(out.api)}`);
  const missing = out.api.filter(([, kind, noop]) => (kind === "getter" ? noop === "undefined" : noop !== "method"));
  assert.deepEqual(missing, [], "every method and getter of the wasm Tracker exists on the no-op: extend the lists in js/index.js");
  // What each no-op method returns, from the generated declaration of the wasm Tracker.
  const dts = readFileSync(path.join(PKG_DIR, "retailrocket_tracker.d.ts"), "utf8");
  const cls = dts.slice(dts.indexOf("export class Tracker"), dts.indexOf("\n}", dts.indexOf("export class Tracker")));
  const returns = Object.fromEntries([...cls.matchAll(/^ {4}(\w+)\(.*\): (.+);$/gm)].map((m) => [m[1], m[2]]));
  for (const [k, v] of Object.entries(out.values)) {
    const special = { sessionExternalId: "", session: null, pending: 0, flush: ["promise", null] };
    const byType = { boolean: false, void: null, "() => void": ["function", null] };
    const expected = k in special ? special[k] : returns[k] in byType ? byType[returns[k]] : /^Promise</.test(returns[k]) ? ["promise", []] : "?";
    assert.deepEqual(v, expected, `no-op ${k}() (declared to return ${returns[k]})`);
  }
  assert.deepEqual(out.odd, [false, false, false, false, false, false], "the no-op takes any other config without throwing");
  assert.deepEqual(out.secrets, Array(out.secrets.length).fill("refused"));
  assert.deepEqual(out.fetches, []);
  assert.deepEqual(mock.requests(), []);
});

test("Node with the .wasm missing: init() resolves false, no unhandled rejection", async () => {
  const broken = path.join(dir, "broken");
  await cp(path.join(dir, "node_modules"), path.join(broken, "node_modules"), { recursive: true });
  await rm(path.join(broken, "node_modules", "retailrocket-tracker", "retailrocket_tracker_bg.wasm"));
  const file = path.join(broken, "missing.mjs");
  await writeFile(file, PRELUDE + `
const { default: init, Tracker } = await import("retailrocket-tracker");
out.ok = await init();
out.view = new Tracker({ partnerId: "${PARTNER_ID}" }).view(101);
`);
  const { stdout } = await run(process.execPath, [file], { cwd: broken, timeout: 30000 });
  const out = JSON.parse(stdout.trim().split("\n").pop());
  assert.equal(out.ok, false);
  assert.equal(out.view, false);
  assert.equal(out.warnings.length, 1);
  assert.match(out.warnings[0], /ENOENT/);
});
