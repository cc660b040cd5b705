// Browser effects the wasm asks for in one coarse call each, written in JS where JS is the
// smaller and plainer way to do them (the wasm imports this module; scripts/build bundles it
// into the glue). The rules (what to send, when to retry, what a reply means) stay in the Rust
// core: this file only performs them. Nothing here throws or rejects.

// What our timer resolves with: no page value can be this object. Without a prototype, as is
// every object of ours that settles a promise: resolving with an object looks up its `then`,
// and a page may have put one on Object.prototype.
const EXPIRED = Object.create(null);

// `={value}`, or "" when the header is absent or cannot be read (see `Reply::from_host`).
function header(response, name) {
  try {
    const value = response.headers.get(name);
    // (A line break would shift the lines that follow; real headers cannot hold one.)
    if (typeof value == "string" && value.indexOf("\n") < 0) return "=" + value;
  } catch (e) {}
  return "";
}

// One HTTP request. Settles with the lines `Reply::from_host` reads: status (0 for no answer),
// whether our timer ran out, Retry-After, Cache-Control, body.
//
// The global `fetch` is the page's to replace (polyfills, monitoring scripts, broken
// extensions): what it returns is read only inside `try`, and our own timer settles every
// attempt, so a `fetch` that returns junk, throws, or never settles (ignoring the abort signal)
// cannot stall delivery. `fetch(url, init)`, never `fetch(new Request(…))`: Firefox drops a
// keepalive request made from a Request object when the page closes while it is under way. The
// request is made before this returns: a page being hidden hands its events off from the event
// handler itself, and Firefox runs no more tasks or microtasks of a page it is closing.
export function send(url, post, body, cookies, keepalive, noStore, readBody, ms) {
  let controller, fetched;
  try {
    controller = new AbortController();
  } catch (e) {}
  const expiry = new Promise((resolve) => {
    // The timer always fires (aborting a finished request does nothing). Firefox throws from
    // setTimeout while it tears a page down: the request still goes out, without a timeout.
    try {
      setTimeout(() => {
        resolve(EXPIRED);
        try {
          controller.abort();
        } catch (e) {}
      }, ms);
    } catch (e) {}
  });
  // Promise.race never throws: a thenable whose `then` throws rejects the race.
  const within = (value) => Promise.race([value, expiry]);
  // Without a prototype: a page that adds `headers` or `credentials` to Object.prototype
  // cannot slip them into ours. No cookies but for the session handshake: events identify the
  // visitor by the ids they carry, as Retail Rocket's tracker sends them.
  const init = Object.create(null);
  init.mode = "cors";
  init.credentials = cookies ? "include" : "omit";
  init.signal = controller && controller.signal;
  if (noStore) init.cache = "no-store";
  if (keepalive) init.keepalive = true;
  init.method = post ? "POST" : "GET";
  if (body != null) {
    init.body = body;
    init.headers = Object.create(null);
    init.headers["Content-Type"] = "application/json";
  }
  try {
    fetched = fetch(url, init);
  } catch (e) {}
  return (async () => {
    try {
      const response = await within(fetched);
      if (response === EXPIRED) return "0\n1";
      const status = response.status;
      if (!(typeof status == "number" && status >= 100 && status < 600)) return "0";
      let text = "";
      if (readBody) {
        let reading;
        try {
          reading = response.text();
        } catch (e) {}
        text = await within(reading);
        if (text === EXPIRED) return "0\n1";
        if (typeof text != "string") text = "";
      }
      return `${Math.trunc(status)}\n0\n${header(response, "Retry-After")}\n${header(response, "Cache-Control")}\n${text}`;
    } catch (e) {
      return "0";
    }
  })();
}

// The product list of a recommendation or items answer, or `undefined` when the body is not a
// JSON array: Retail Rocket's PascalCase field names in camelCase (`ItemId` → `itemId`; only an
// ASCII first letter changes), and entries without a valid ItemId (a whole number from 1 to
// 2^53 − 1) left out. `Object.fromEntries` defines each field, so a `__proto__` field in the
// answer is just a field.
export function items(body) {
  let parsed;
  try {
    parsed = JSON.parse(body);
    if (!Array.isArray(parsed)) return;
  } catch (e) {
    return;
  }
  const out = [];
  // By index, and each entry inside its own `try`: an entry whose reading throws (a getter the
  // page put on Object.prototype) is left out, like one without a valid ItemId.
  for (let i = 0; i < parsed.length; i++) {
    try {
      const item = parsed[i];
      if (typeof item != "object" || item === null) continue;
      const id = item.ItemId;
      if (!(typeof id == "number" && Number.isSafeInteger(id) && id >= 1)) continue;
      const mapped = {};
      const names = Object.keys(item);
      for (let j = 0; j < names.length; j++) {
        const name = names[j];
        const first = name.charCodeAt(0);
        field(mapped, first >= 65 && first <= 90 ? String.fromCharCode(first + 32) + name.slice(1) : name, item[name]);
      }
      out[out.length] = mapped;
    } catch (e) {}
  }
  return out;
}

// Defines `target[name]` as a plain data field: no setter on Object.prototype is called, and a
// `__proto__` field is just a field.
function field(target, name, value) {
  const described = Object.create(null);
  described.value = value;
  described.writable = described.enumerable = described.configurable = true;
  Object.defineProperty(target, name, described);
}

// Asks for the site-wide lock `name` (the Web Locks API: exactly one tab of the site sends at a
// time), `steal`ing it from its holder or only `ifAvailable`. Settles with:
// - a holding, once granted: the lock is ours until `release()`, until the timer `arm(ms)` set
//   runs out, or until the page is hidden (`pagehide`; WebKit 2.38 keeps a page's locks in the
//   back/forward cache); `lost` then turns true, as it does when another tab steals the lock.
//   The timer is plain JS, so a tracker whose wasm can no longer run (a trap, an exception
//   unwound through it) still gives the lock up. It starts at `ms`.
// - `null` when another tab holds it (or took it before our callback ran: a page frozen right
//   after its grant, back now);
// - `undefined` when there is no lock to be had (no Web Locks API, Safari before 15.4, or it
//   refuses, as opaque origins such as file:// WebViews do): the caller runs without one.
export function lock(name, steal, ms) {
  return new Promise((resolve) => {
    let decided = false;
    const decide = (value) => {
      decided = true;
      resolve(value);
    };
    let holding;
    const grant = (locked) => {
      if (decided || !locked) {
        if (!decided) decide(null);
        return false;
      }
      let timer, settle;
      const kept = new Promise((resolve) => (settle = resolve));
      const disarm = () => {
        try {
          clearTimeout(timer);
        } catch (e) {}
      };
      holding = Object.assign(Object.create(null), {
        lost: false,
        arm(ms) {
          disarm();
          // setTimeout takes at most 2^31 - 1 ms (a longer delay fires at once). Firefox throws
          // from it during teardown.
          try {
            timer = setTimeout(holding.release, Math.min(ms, 2147483647));
          } catch (e) {}
        },
        release() {
          holding.lost = true;
          disarm();
          try {
            removeEventListener("pagehide", holding.release);
          } catch (e) {}
          settle(true);
        },
      });
      try {
        addEventListener("pagehide", holding.release);
      } catch (e) {}
      holding.arm(ms);
      decide(holding);
      return kept;
    };
    // Options without a prototype: a page's additions to Object.prototype (`mode`, `signal`)
    // cannot reach the request.
    const options = Object.create(null);
    options[steal ? "steal" : "ifAvailable"] = true;
    try {
      const request = navigator.locks.request(name, options, grant);
      request.then(
        () => {},
        (error) => {
          if (holding) holding.release();
          else if (!decided) decide(error && error.name == "AbortError" ? null : undefined);
        },
      );
    } catch (e) {
      if (!decided) decide();
    }
  });
}

// `on`, called only when it is not still in a call that never returned: Firefox terminates the
// script a page runs when it shuts the page's process down, skipping `finally`, and a
// wasm-bindgen callback cut off so stays marked in use, throwing "closure invoked recursively or
// after being dropped" into the page at its next call.
// (`catch`: nothing of ours throws into the page from a listener; a terminated script runs no
// `catch` either, so a call cut off still leaves `busy` set.)
function guarded(on) {
  let busy = false;
  return (event, detail) => {
    if (busy) return;
    busy = true;
    try {
      on(event, detail);
    } catch (e) {}
    busy = false;
  };
}

// Follows the page for one tracker, calling `on(event, key)` with the event's number (see
// `web::lifecycle::PageEvent`) and, for another tab's storage write, its key (null: the whole
// storage was cleared). Returns the function that stops listening. A final pagehide (not into
// the back/forward cache) stops it too, after `on`: that document is done, and Firefox may cut
// its scripts off in mid-call during the teardown, so nothing of ours is called again.
export function listen(on) {
  on = guarded(on);
  const heard = [];
  const stop = () => {
    for (const [target, kind, listener] of heard.splice(0)) {
      try {
        target.removeEventListener(kind, listener);
      } catch (e) {}
    }
  };
  const follow = (target, kind, event) => {
    const listener = (e) => {
      let key = null;
      let persisted = false;
      try {
        key = e.key;
        persisted = e.persisted;
      } catch (error) {}
      on(event, typeof key == "string" ? key : null);
      if (kind == "pagehide" && !persisted) stop();
    };
    try {
      target.addEventListener(kind, listener);
      heard.push([target, kind, listener]);
    } catch (e) {}
  };
  follow(window, "pagehide", 0);
  follow(window, "beforeunload", 1);
  follow(window, "pageshow", 2);
  follow(window, "online", 3);
  follow(window, "storage", 4);
  if (typeof document == "object") follow(document, "visibilitychange", 5);
  return stop;
}

// Calls `on(add, id)` for each click inside `block` on an element with `data-rr-item-id` (also
// inside `block`): `add` is 1 when the click is inside an element with
// `data-rr-action="add-to-cart"` within that item, else 0. Returns the function that stops
// listening, or `undefined` when `block` is not an element.
export function clicks(block, on) {
  try {
    if (!(typeof Element == "function" && block instanceof Element)) return;
  } catch (e) {
    return;
  }
  on = guarded(on);
  const listener = (event) => {
    let id, add;
    try {
      const target = event.target;
      if (!(target instanceof Element)) return;
      const item = target.closest("[data-rr-item-id]");
      if (!item || !block.contains(item)) return;
      const button = target.closest('[data-rr-action="add-to-cart"]');
      add = button && item.contains(button) ? 1 : 0;
      id = item.getAttribute("data-rr-item-id") || "";
    } catch (e) {
      return;
    }
    on(add, id);
  };
  // An element that refuses a listener (a Proxy of one) gets a stop that does nothing, as
  // before.
  try {
    block.addEventListener("click", listener);
  } catch (e) {
    return () => {};
  }
  return () => {
    try {
      block.removeEventListener("click", listener);
    } catch (e) {}
  };
}

// localStorage for `web::storage::LocalStore`, every access inside `try`: storage that is missing
// (Android WebView with DOM storage off), throws (Safari private mode, sandboxed frames) or is
// full behaves as an empty store that refuses writes. `storageOpen`: whether it can be read at
// all (probed with a read, not a write: a full storage still holds events to send).
export function storageOpen(probe) {
  try {
    const storage = localStorage;
    if (!storage) return false;
    storage.getItem(probe);
    return true;
  } catch (e) {
    return false;
  }
}

export function storageGet(key) {
  try {
    const value = localStorage.getItem(key);
    if (typeof value == "string") return value;
  } catch (e) {}
}

export function storageSet(key, value) {
  try {
    localStorage.setItem(key, value);
    return true;
  } catch (e) {
    return false;
  }
}

export function storageRemove(key) {
  try {
    localStorage.removeItem(key);
  } catch (e) {}
}

// The keys that start with `prefix`, one per line (ours hold no line break).
export function storageKeys(prefix) {
  const keys = [];
  try {
    const storage = localStorage;
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (typeof key == "string" && key.slice(0, prefix.length) == prefix) keys[keys.length] = key;
    }
  } catch (e) {}
  return keys.join("\n");
}

// What the page says about itself: `location[name]` (`href`, `search`, `hostname`, `protocol`)
// or, for "referrer", `document.referrer`; `undefined` where there is no window (a server, a
// worker) or reading throws.
export function page(name) {
  try {
    const value = name == "referrer" ? window.document.referrer : window.location[name];
    if (typeof value == "string") return value;
  } catch (e) {}
}

// Whether the page is "hidden", is "online" (unless the browser says it is not), or there is a
// "window" at all.
export function is(name) {
  try {
    if (name == "hidden") return window.document.visibilityState == "hidden";
    if (name == "online") return window.navigator.onLine !== false;
    return typeof window == "object" && !!window;
  } catch (e) {
    return name == "online";
  }
}

// `document.cookie` for `web::storage::CookieStore` (which parses and writes it): `undefined`
// where there is no HTML document or reading throws.
export function cookies() {
  try {
    const value = window.document.cookie;
    if (typeof value == "string") return value;
  } catch (e) {}
}

export function setCookie(cookie) {
  try {
    window.document.cookie = cookie;
  } catch (e) {}
}

// `object[name]`, or `undefined` when reading throws.
function read(object, name) {
  try {
    return object[name];
  } catch (e) {}
}

// The id a native app hands the page through `window.RetailRocketBridge` (see `js::bridge`):
// its `sessionExternalId` (a value, or a method), else Android's `getSessionExternalId()`;
// `undefined` when there is none (or the bridge throws). The tracker checks what comes.
export function bridgeId() {
  const bridge = read(globalThis, "RetailRocketBridge");
  if (!bridge || (typeof bridge != "object" && typeof bridge != "function")) return;
  let id = read(bridge, "sessionExternalId");
  const get = typeof id == "function" ? id : read(bridge, "getSessionExternalId");
  if (typeof get == "function") {
    try {
      id = Reflect.apply(get, bridge, []);
    } catch (e) {
      id = undefined;
    }
  }
  return id === null ? undefined : id;
}

// Tells the app the id the page uses, if its bridge has `onSessionExternalId(id)`.
export function bridgeTell(id) {
  const bridge = read(globalThis, "RetailRocketBridge");
  const tell = bridge && read(bridge, "onSessionExternalId");
  try {
    if (typeof tell == "function") Reflect.apply(tell, bridge, [id]);
  } catch (e) {}
}

// Resolves after `ms` milliseconds, for the send loop's waits: at once if the page's
// `setTimeout` throws (a sender that never woke up would hold the site's lock for good).
export function sleep(ms) {
  return new Promise((resolve) => {
    try {
      setTimeout(resolve, ms);
    } catch (e) {
      resolve();
    }
  });
}
