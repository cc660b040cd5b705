// The package entry: loads the WebAssembly tracker when it can, and otherwise hands out a tracker
// that does nothing, so tracking never breaks a page (no WebAssembly in iOS Lockdown Mode, a CSP
// without 'wasm-unsafe-eval', a failed download, an old browser). Hand-written, no dependencies,
// plain ES2017 plus import(); it counts toward the download budget, so keep it small.

// No-op answers. Add new tracker methods to the list matching what they return.
const FALSE = "view groupView addToBasket removeFromBasket categoryView search order setEmail recomMouseDown recomAddToCart".split(" ");
const LISTS = ["recommend", "items"]; // resolve []
// Keys a secret travels under, compared lower-case without - and _ (as the wasm build does).
const SECRET = /^key$|apikey|secret|token|password|authorization/;
const FS = "node:fs/promises"; // a variable, so bundlers for the browser leave it alone

let glue; // the generated module, once its wasm is instantiated
let loading;
let failed;

/** Resolves true when the tracker is ready, false (after one console.warn) when it cannot be. Never rejects. */
export default function init(input) {
  if (!loading) {
    loading = load(input).then((ok) => {
      if (!ok) loading = null; // a later call may try again
      return ok;
    });
  }
  return loading;
}

async function load(input) {
  try {
    if (typeof WebAssembly != "object") throw "WebAssembly is not available (iOS Lockdown Mode?)";
    if (input && Object.getPrototypeOf(input) == Object.prototype) input = input.module_or_path;
    if (!input) {
      // Start the download now, while the glue loads. Node reads the file next to this one.
      const url = new URL("./retailrocket_tracker_bg.wasm", import.meta.url);
      input = url.protocol == "file:"
        ? import(/* webpackIgnore: true */ /* @vite-ignore */ FS).then((fs) => fs.readFile(url))
        : fetch(url);
      input.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    }
    const mod = await import("./retailrocket_tracker.js");
    await mod.default({ module_or_path: input });
    glue = mod;
    return true;
  } catch (e) {
    failed = 1;
    const csp = /CompileError|EvalError/.test(e && e.name) ? " (a Content-Security-Policy needs script-src 'wasm-unsafe-eval')" : "";
    console.warn(`retailrocket-tracker: tracking is off, the page is unaffected: ${e}${csp}`);
    return false;
  }
}

/** The wasm Tracker once init() has resolved true; before that, or without wasm, a no-op. */
export class Tracker {
  constructor(config) {
    if (glue) return new glue.Tracker(config);
    for (const key of Object.keys(Object(config))) {
      if (SECRET.test(key.replace(/[-_]/g, "").toLowerCase())) {
        const e = new TypeError(`retailrocket-tracker: Tracker config key \`${key}\` looks like a secret and was refused. Credentials must stay on your server; this tracker needs only the public partnerId.`);
        e.code = "config_secret";
        throw e;
      }
    }
    if (!failed) console.warn("retailrocket-tracker: new Tracker() before init() resolved true; this one does nothing");
    for (const m of FALSE) this[m] = () => false;
    for (const m of LISTS) this[m] = () => Promise.resolve([]);
    this.flush = () => Promise.resolve();
    this.free = () => {};
    this.sessionExternalId = "";
    this.pending = 0;
  }
}
