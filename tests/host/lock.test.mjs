// js/host.js's `lock()` in Node, against a scripted Web Locks API: every way a lock request can
// end, including those no browser can be driven into on purpose (a request taken over before its
// callback ran: a page frozen right after its grant). The engine suite runs the real API.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { lock } from "../../js/host.js";

/** A Web Locks API that does what `script(name, options, callback)` says; logs each request. */
function fakeLocks(script) {
  const requests = [];
  globalThis.navigator = {
    locks: {
      request(name, options, callback) {
        requests.push({ name, options: { ...options }, proto: Object.getPrototypeOf(options) });
        return script(callback);
      },
    },
  };
  return requests;
}

const listeners = new Map();
globalThis.addEventListener = (kind, f) => listeners.set(kind, f);
globalThis.removeEventListener = (kind, f) => listeners.get(kind) === f && listeners.delete(kind);

afterEach(() => {
  delete globalThis.navigator;
  listeners.clear();
});

test("granted: a holding, under options without a prototype, given up by release()", async () => {
  let kept;
  const requests = fakeLocks((callback) => {
    kept = callback({ name: "rrt:lock" });
    return kept;
  });
  const holding = await lock("rrt:lock", false, 60000);
  assert.equal(Object.getPrototypeOf(holding), null, "no `then` a page put on Object.prototype is found");
  assert.deepEqual(requests, [{ name: "rrt:lock", options: { ifAvailable: true }, proto: null }]);
  assert.equal(holding.lost, false);
  assert.ok(listeners.has("pagehide"), "given up at pagehide too");
  holding.release();
  assert.equal(holding.lost, true);
  assert.equal(await kept, true, "the promise the callback returned settles: the lock is free");
  assert.ok(!listeners.has("pagehide"));
});

test("steal asks with `steal`", async () => {
  const requests = fakeLocks((callback) => callback({}));
  const holding = await lock("n", true, 60000);
  assert.deepEqual(requests[0].options, { steal: true });
  holding.release();
});

test("the lease timer gives the lock up by itself, and pagehide does", async () => {
  fakeLocks((callback) => callback({}));
  const timed = await lock("n", false, 20);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(timed.lost, true, "released by its timer");
  const hidden = await lock("n", false, 60000);
  listeners.get("pagehide")();
  assert.equal(hidden.lost, true, "released at pagehide");
  const rearmed = await lock("n", false, 20);
  rearmed.arm(60000);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(rearmed.lost, false, "arm() moves the deadline");
  rearmed.release();
});

test("busy: another tab holds it (the callback gets null)", async () => {
  fakeLocks((callback) => Promise.resolve(callback(null)));
  assert.equal(await lock("n", false, 60000), null);
});

test("taken over before the callback ran (AbortError): busy, and a late callback does nothing", async () => {
  let late;
  fakeLocks((callback) => {
    late = callback;
    return Promise.reject(Object.assign(new Error("stolen"), { name: "AbortError" }));
  });
  assert.equal(await lock("n", false, 60000), null);
  assert.equal(late({}), false, "the late grant is handed back at once");
  assert.ok(!listeners.has("pagehide"));
});

test("stolen while held: the holding turns lost", async () => {
  let reject;
  fakeLocks((callback) => {
    callback({});
    return new Promise((_, r) => (reject = r));
  });
  const holding = await lock("n", false, 60000);
  reject(Object.assign(new Error("stolen"), { name: "AbortError" }));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(holding.lost, true);
});

test("no lock to be had: no API, a request that throws, or one refused otherwise", async () => {
  assert.equal(await lock("n", false, 60000), undefined, "no navigator.locks");
  fakeLocks(() => {
    throw new Error("SecurityError");
  });
  assert.equal(await lock("n", false, 60000), undefined, "request throws");
  fakeLocks(() => Promise.reject(Object.assign(new Error("opaque origin"), { name: "SecurityError" })));
  assert.equal(await lock("n", false, 60000), undefined, "request rejects before any grant");
});
