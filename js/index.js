// Package entry. Loads the wasm tracker if it can; if not (no WebAssembly, a CSP without
// 'wasm-unsafe-eval', a failed download, an old browser) Tracker is a no-op, so a page never
// breaks. Hand-written, ES2017 + import(); counts toward the size budget: keep it small.

// The no-op's methods (add new ones here): return false, return nothing, resolve [],
// return a function that does nothing (an unsubscribe).
const FALSE = "view groupView addToBasket removeFromBasket categoryView search order setEmail recomMouseDown recomAddToCart".split(" ");
const VOID = ["free", "forget", "optIn", "optOut", Symbol.dispose || "free"];
const LISTS = ["recommend", "items"];
const UNSUB = ["trackBlock"];
// Secret-looking config keys, lower-cased without - and _, as the wasm build refuses them.
const SECRET = /^key$|apikey|secret|token|password|authorization/;
const FS = "node:fs/promises"; // a variable: browser bundlers leave it alone

let glue, loading, failed;

export default function init(input) {
  if (!loading) {
    loading = load(input).then((ok) => {
      if (!ok) loading = 0; // may be tried again
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
      // Fetch the .wasm (Node: read it) while the glue loads.
      const url = new URL("./retailrocket_tracker_bg.wasm", import.meta.url);
      input = url.protocol == "file:"
        ? import(/* webpackIgnore: true */ /* @vite-ignore */ FS).then((fs) => fs.readFile(url))
        : fetch(url);
      input.catch(() => {}); // handled below
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
    if (!failed) console.warn("retailrocket-tracker: Tracker made before init() resolved true does nothing");
    for (const m of FALSE) this[m] = () => false;
    for (const m of VOID) this[m] = () => {};
    for (const m of LISTS) this[m] = () => Promise.resolve([]);
    for (const m of UNSUB) this[m] = () => () => {};
    this.flush = () => Promise.resolve();
    this.sessionExternalId = "";
    this.pending = 0;
  }
}
