// Package entry. Loads the wasm tracker if it can; if not (no WebAssembly, a CSP without
// 'wasm-unsafe-eval', a failed download, an old browser) Tracker is a no-op, so a page never
// breaks. Hand-written ES2017, part of the download: keep it small.

// The no-op's methods (add new ones here): false, nothing, [], an unsubscribe.
const FALSE = ("view groupView addToBasket removeFromBasket categoryView search order setEmail recomMouseDown " +
  "recomAddToCart recomTrack pageView welcomeSequence subscribeOnItemBackInStock subscribeOnPriceDrop").split(" ");
const VOID = ["free", "forget", "optIn", "optOut", Symbol.dispose || "free"];
const LISTS = ["recommend", "items"];
const UNSUB = ["trackBlock"];
// Secret-looking config keys, lower-cased without - and _, as the wasm build refuses them.
const SECRET = /^key$|apikey|secret|token|password|authorization/;
const FS = "node:fs/promises"; // a variable: browser bundlers leave it alone

const EARLY_MAX = 100; // calls kept per early tracker

let glue, loading, failed, settle;
// Settles (true/false) with the first init(): early trackers wait on it.
const settled = new Promise((resolve) => (settle = resolve));

export default function init(input) {
  if (!loading) {
    loading = load(input).then((ok) => {
      if (!ok) loading = 0; // may be tried again
      settle(ok);
      return ok;
    });
  }
  return loading;
}

async function load(input) {
  try {
    if (typeof WebAssembly != "object") throw "WebAssembly is not available";
    if (input && Object.getPrototypeOf(input) == Object.prototype) input = input.module_or_path;
    if (!input) {
      const url = new URL("./retailrocket_tracker_bg.wasm", import.meta.url);
      input = url.protocol == "file:"
        ? import(/* webpackIgnore: true */ /* @vite-ignore */ FS).then((fs) => fs.readFile(url))
        : fetch(url);
      input.catch(() => {});
    }
    const mod = await import("./retailrocket_tracker.js");
    await mod.default({ module_or_path: input });
    glue = mod;
    return true;
  } catch (e) {
    failed = 1;
    const csp = /CompileError|EvalError/.test(e && e.name) ? "; CSP needs script-src 'wasm-unsafe-eval'" : "";
    console.warn(`retailrocket-tracker: tracking is off: ${e}${csp}`);
    return false;
  }
}

export class Tracker {
  constructor(config) {
    if (glue) return new glue.Tracker(config);
    for (const key of Object.keys(Object(config))) {
      if (SECRET.test(key.replace(/[-_]/g, "").toLowerCase())) {
        const e = new TypeError(`retailrocket-tracker: config key \`${key}\` looks like a secret and was refused; keep secrets on your server`);
        e.code = "config_secret";
        throw e;
      }
    }
    if (!failed) return early(config);
    for (const m of FALSE) this[m] = () => false;
    for (const m of VOID) this[m] = () => {};
    for (const m of LISTS) this[m] = () => Promise.resolve([]);
    for (const m of UNSUB) this[m] = () => () => {};
    this.flush = () => Promise.resolve();
    this.sessionExternalId = "";
    this.session = null;
    this.pending = 0;
  }
}

// A tracker made before init() settled: keeps its calls (up to EARLY_MAX) and replays them in
// order once the module is ready (dropped if it cannot load).
function early(config) {
  const calls = [];
  let real;
  const ready = settled.then((ok) => {
    try {
      real = ok ? new glue.Tracker(config) : null;
    } catch (e) {
      real = null;
      console.warn(`retailrocket-tracker: ${e.message}`);
    }
    for (const call of calls.splice(0)) if (real) real[call[0]](...call[1]);
  }).then(() => real, () => real); // never rejects, even if a replayed call throws
  const t = {};
  for (const m of FALSE.concat(VOID)) {
    t[m] = (...args) => {
      if (real) return real[m](...args);
      const kept = real === undefined && calls.length < EARLY_MAX && !!calls.push([m, args]);
      return FALSE.includes(m) ? kept : undefined;
    };
  }
  for (const m of LISTS) t[m] = (...args) => ready.then((r) => (r ? r[m](...args) : []));
  for (const m of UNSUB) {
    t[m] = (...args) => {
      let stop, stopped;
      ready.then((r) => r && !stopped && (stop = r[m](...args)));
      return () => (stopped = 1) && stop && stop();
    };
  }
  t.flush = () => ready.then((r) => r && r.flush());
  Object.defineProperty(t, "sessionExternalId", { get: () => (real ? real.sessionExternalId : "") });
  Object.defineProperty(t, "session", { get: () => (real ? real.session : null) });
  Object.defineProperty(t, "pending", { get: () => (real ? real.pending : calls.length) });
  return t;
}
