// End-to-end delivery guarantees in Chromium against the mock's fault injection: retries,
// Retry-After, refusals, offline, reloads, page close, broken storage, two tabs, the queue bound,
// and consent.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { PARTNER_ID, mockRequests, useStack, waitFor } from "./harness.mjs";
import { call, createTracker, openTestPage, reloadTestPage, searchEvents } from "./page.mjs";

const env = useStack();
beforeEach(() => env.stack.mock.reset());

const { searches, delivered, newPage, readyPage, track } = searchEvents(env);

/** Every lock request a page of `context` makes, with its `steal` option, in window.rrLockRequests. */
function recordLockRequests(context) {
  return context.addInitScript(() => {
    const request = navigator.locks.request.bind(navigator.locks);
    window.rrLockRequests = [];
    navigator.locks.request = (name, ...rest) => {
      window.rrLockRequests.push({ name, steal: rest.length > 1 && Boolean(rest[0].steal) });
      return request(name, ...rest);
    };
  });
}

test("503 three times, then 200: every event delivered once, in order", async () => {
  // Retry-After: 0, so the retries come at once: the backoff's delays are the core's, driven in
  // virtual time (src/core/delivery/tests.rs, src/core/engine/tests.rs), and the engine suite
  // checks them on the real clock in every engine.
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context);
  env.stack.mock.fault({ match: "/1.0/event/", status: 503, retryAfter: "0", count: 3 });
  await track(page, "one", "two", "three");
  await waitFor(async () => (await delivered()).length === 3, { timeout: 15000, message: "three delivered" });
  const all = await searches();
  assert.deepEqual(all.map((r) => [r.phrase, r.status]), [
    ["one", 503], ["one", 503], ["one", 503], ["one", 200], ["two", 200], ["three", 200],
  ]);
  assert.equal(await page.evaluate(() => window.rr.pending), 0);
  await context.close();
});

test("429 with Retry-After is honoured", async () => {
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context);
  env.stack.mock.fault({ match: "/1.0/event/", status: 429, retryAfter: "2", count: 1 });
  await track(page, "later");
  await waitFor(async () => (await delivered()).includes("later"), { timeout: 10000 });
  const [first, second] = await searches();
  assert.equal(first.status, 429);
  assert.ok(second.at - first.at >= 1900, `waited ${second.at - first.at} ms`);
  await context.close();
});

test("a 400 is dropped and reported; later events are still delivered", async () => {
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context);
  env.stack.mock.fault({ match: "/1.0/event/search/", status: 400, count: 1 });
  await track(page, "refused", "accepted");
  await waitFor(async () => (await delivered()).includes("accepted"));
  assert.deepEqual((await searches()).map((r) => r.phrase), ["refused", "accepted"], "no retry of the 400");
  const errors = await page.evaluate(() => window.rrErrors);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "event_refused");
  assert.match(errors[0].message, /HTTP 400/);
  await context.close();
});

test("offline: queued, nothing attempted; back online: delivered", async () => {
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context);
  await context.setOffline(true);
  await track(page, "o1", "o2");
  assert.equal(await page.evaluate(() => window.rr.pending), 2);
  await page.evaluate(() => window.rr.flush()); // resolves at once while offline
  await page.waitForTimeout(300);
  assert.deepEqual(await searches(), [], "nothing attempted while offline");
  await context.setOffline(false);
  await waitFor(async () => (await delivered()).length === 2, { message: "delivered after going online" });
  assert.deepEqual(await delivered(), ["o1", "o2"]);
  await context.close();
});

test("events queued while the network is blocked are delivered after a reload", async () => {
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context);
  await context.route(`${env.stack.mockUrl}/**`, (route) => route.abort("connectionrefused"));
  await track(page, "r1", "r2");
  // r1's failure without an answer is held 2 s, then believed: flush() resolves as the backoff
  // begins, with both events still stored.
  await page.evaluate(() => window.rr.flush());
  assert.equal(await page.evaluate(() => window.rr.pending), 2);
  await context.unroute(`${env.stack.mockUrl}/**`);
  await reloadTestPage(page);
  await createTracker(page, env.stack.mockUrl);
  await waitFor(async () => (await delivered()).length === 2, { message: "delivered by the next page" });
  assert.deepEqual(await delivered(), ["r1", "r2"]);
  await context.close();
});

test("a page left within 2 s of a request failing without an answer leaves that event to the request; the rest goes with the next page", async () => {
  // The trade-off of the rule for failures without an answer (README, "Delivered when the page
  // goes away"): the page cannot tell this failure from Chromium failing a request it delivers
  // as a navigation begins.
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context);
  let attempts = 0;
  await context.route(`${env.stack.mockUrl}/**`, (route) => (attempts++, route.abort("connectionrefused")));
  await track(page, "r1", "r2");
  await waitFor(() => attempts >= 1, { message: "r1 attempted" });
  await context.unroute(`${env.stack.mockUrl}/**`);
  await reloadTestPage(page);
  assert.equal(attempts, 1, "left within the hold");
  await createTracker(page, env.stack.mockUrl);
  await call(page, "search", "r3");
  await waitFor(async () => (await delivered()).includes("r3"), { message: "the next page's own event" });
  await waitFor(() => page.evaluate(() => window.rr.pending === 0), { message: "nothing pending" });
  assert.deepEqual(await delivered(), ["r2", "r3"], "r1 was never sent again, r2 exactly once");
  await context.close();
});

/** Makes the browser take 400 ms to grant any Web Lock in this context's pages. */
const delayLockGrants = (context) =>
  context.addInitScript(() => {
    const request = navigator.locks.request.bind(navigator.locks);
    navigator.locks.request = (...args) => new Promise((r) => setTimeout(r, 400)).then(() => request(...args));
  });

/** Tracks `phrases` on a ready page and closes it at once: all arrive, and a new page has nothing left to send twice. */
async function assertClosedRightAfterTrackingDelivers(context, phrases) {
  const page = await readyPage(context);
  await track(page, ...phrases);
  await page.close({ runBeforeUnload: true });
  await waitFor(async () => (await delivered()).length === phrases.length, { message: "all delivered after close" });
  const next = await newPage(context);
  await next.waitForTimeout(900);
  assert.equal(await next.evaluate(() => window.rr.pending), 0);
  assert.deepEqual((await delivered()).sort(), [...phrases].sort());
  await context.close();
}

test("a page closed right after a tracking call still delivers (keepalive), once", async () => {
  await assertClosedRightAfterTrackingDelivers(await env.browser.browser.newContext(), ["c1", "c2", "c3"]);
});

test("a page closed while its sender is still asking for the lock still delivers, once", async () => {
  // The page closes after tracking and before the lock grant, so the hand-off cannot wait for it.
  const context = await env.browser.browser.newContext();
  await delayLockGrants(context);
  await assertClosedRightAfterTrackingDelivers(context, ["k1", "k2", "k3"]);
});

test("a tab closed while another tab waits out a 429 leaves its events to that tab: all delivered once", async () => {
  // Tab A closes right after tracking, before it hears that tab B is the sender. B is waiting
  // out the server's Retry-After, so A must not hand its event to the server (it would be lost
  // with A's page); B delivers it after the wait.
  const context = await env.browser.browser.newContext();
  await delayLockGrants(context);
  const b = await readyPage(context);
  env.stack.mock.fault({ match: "/1.0/event/", status: 429, retryAfter: "4", count: 1 });
  await track(b, "b1");
  await waitFor(async () => (await searches()).some((r) => r.status === 429), { message: "B got the 429" });
  const a = await newPage(context);
  await track(a, "a1");
  await a.close({ runBeforeUnload: true });
  await waitFor(async () => (await delivered()).length === 2, { timeout: 12000, message: "both delivered by B" });
  assert.deepEqual((await delivered()).sort(), ["a1", "b1"]);
  const all = await searches();
  assert.deepEqual(all.filter((r) => r.status !== 200).map((r) => r.phrase), ["b1"], "one 429, for b1");
  const waitedFrom = all.find((r) => r.status === 429).at;
  for (const r of all.filter((r) => r.status === 200)) {
    assert.ok(r.at - waitedFrom >= 3900, `${r.phrase} was sent ${r.at - waitedFrom} ms into the 4 s wait`);
  }
  await b.waitForTimeout(500);
  assert.equal((await delivered()).length, 2, "and nothing twice");
  await context.close();
});

test("with localStorage and cookies broken, events are still delivered within the session, and onError told", async () => {
  const context = await env.browser.browser.newContext();
  await context.addInitScript(() => {
    Object.defineProperty(window, "localStorage", { get() { throw new DOMException("denied", "SecurityError"); } });
    Object.defineProperty(Document.prototype, "cookie", { get: () => "", set: () => {} });
  });
  const page = await newPage(context);
  await track(page, "s1", "s2");
  await waitFor(async () => (await delivered()).length === 2);
  assert.deepEqual((await page.evaluate(() => window.rrErrors)).map((e) => e.code), ["storage_unavailable"]);
  await context.close();
});

test("with localStorage full, events are still delivered and reported once", async () => {
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context);
  await page.evaluate(() => {
    let n = 0;
    for (let size = 1 << 20; size >= 1; size >>= 2) {
      const chunk = "x".repeat(size);
      for (;;) {
        try { localStorage.setItem("fill" + n++, chunk); } catch { break; }
      }
    }
  });
  await track(page, "q1", "q2");
  await waitFor(async () => (await delivered()).length === 2);
  assert.deepEqual((await page.evaluate(() => window.rrErrors)).map((e) => e.code), ["storage_unavailable"]);
  await page.evaluate(() => localStorage.clear());
  await context.close();
});

test("two tabs tracking at the same time: every event arrives exactly once", async () => {
  const context = await env.browser.browser.newContext();
  const a = await readyPage(context);
  const b = await newPage(context);
  const n = 15;
  await Promise.all([
    a.evaluate((n) => { for (let i = 0; i < n; i++) window.rr.search(`a${i}`); }, n),
    b.evaluate((n) => { for (let i = 0; i < n; i++) window.rr.search(`b${i}`); }, n),
  ]);
  await waitFor(async () => (await delivered()).length >= 2 * n, { timeout: 15000, message: `${2 * n} delivered` });
  await a.waitForTimeout(1000); // time for any duplicate to show up
  const got = await delivered();
  assert.equal(got.length, 2 * n, "no duplicates");
  assert.equal(new Set(got).size, 2 * n);
  const order = (prefix) => got.filter((p) => p.startsWith(prefix));
  assert.deepEqual(order("a"), Array.from({ length: n }, (_, i) => `a${i}`), "each tab's events in order");
  assert.deepEqual(order("b"), Array.from({ length: n }, (_, i) => `b${i}`));
  await context.close();
});

test("the queue keeps at most maxQueue events, dropping the oldest and saying so", async () => {
  const context = await env.browser.browser.newContext();
  const page = await readyPage(context, { maxQueue: 3 });
  await context.setOffline(true);
  await track(page, "m1", "m2", "m3", "m4", "m5");
  assert.equal(await page.evaluate(() => window.rr.pending), 3);
  const codes = (await page.evaluate(() => window.rrErrors)).map((e) => e.code);
  assert.deepEqual(codes, ["queue_full", "queue_full"]);
  await context.setOffline(false);
  await waitFor(async () => (await delivered()).length === 3);
  assert.deepEqual(await delivered(), ["m3", "m4", "m5"]);
  await context.close();
});

test("consent: silent until optIn; optOut clears and is remembered; forget renews the id", async () => {
  const context = await env.browser.browser.newContext();
  const page = await newPage(context, { consent: false });
  assert.equal(await call(page, "search", "before consent"), true);
  await page.waitForTimeout(300);
  assert.deepEqual(await mockRequests(env.stack.mockUrl), [], "nothing sent");
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [], "nothing stored");
  await page.evaluate(() => window.rr.optIn());
  await waitFor(async () => (await delivered()).includes("before consent"));
  const id = await page.evaluate(() => window.rr.sessionExternalId);
  assert.equal(await page.evaluate(() => localStorage.getItem("rrt:sxid")), id);

  await context.setOffline(true);
  await track(page, "queued then refused");
  await page.evaluate(() => window.rr.optOut());
  assert.equal(await page.evaluate(() => window.rr.pending), 0);
  assert.equal(await call(page, "search", "after opt-out"), false);
  await context.setOffline(false);
  await reloadTestPage(page);
  await createTracker(page, env.stack.mockUrl);
  assert.equal(await call(page, "search", "next visit"), false, "opt-out remembered");
  await page.evaluate(() => window.rr.optIn());
  await page.evaluate(() => window.rr.forget());
  const renewed = await page.evaluate(() => window.rr.sessionExternalId);
  assert.match(renewed, /^[0-9a-f]{32}$/);
  assert.notEqual(renewed, id);
  await call(page, "search", "new visitor");
  await waitFor(async () => (await delivered()).includes("new visitor"));
  const last = (await mockRequests(env.stack.mockUrl, "/1.0/event/search/")).at(-1);
  assert.equal(last.query.sessionExternalId, renewed);
  assert.ok(!(await delivered()).includes("queued then refused"));
  await context.close();
});

test("an opt-out in one tab stops the site's other tabs, and forget() there is adopted here", async () => {
  const context = await env.browser.browser.newContext();
  const a = await readyPage(context);
  const b = await newPage(context);
  await b.evaluate(() => window.rr.forget());
  const renewed = await b.evaluate(() => window.rr.sessionExternalId);
  await waitFor(async () => (await a.evaluate(() => window.rr.sessionExternalId)) === renewed, {
    message: "tab A follows the forget made in tab B",
  });
  await b.evaluate(() => window.rr.optOut());
  await waitFor(async () => (await call(a, "search", "after opt-out elsewhere")) === false, {
    message: "tab A stops tracking",
  });
  await a.waitForTimeout(300);
  assert.ok(!(await delivered()).includes("after opt-out elsewhere"));
  await context.close();
});


// The queue's storage space, as the engine names it (`space` in src/core/engine/mod.rs): FNV-1a of the
// partnerId, a space and the endpoint, as eight hex digits.
function space(partnerId, endpoint) {
  let hash = 0x811c9dc5;
  for (const b of Buffer.from(`${partnerId} ${endpoint}`)) hash = Math.imul(hash ^ b, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

test("events stored by the release before format versions are delivered as that release sent them", async () => {
  const context = await env.browser.browser.newContext();
  const page = await openTestPage(context, env.stack.demoUrl);
  // Lines exactly as that release wrote them: no version, context last, a custom list as `@d.…`.
  const lines = [
    "e=search&t=1732430000000&searchPhrase=stored%20before&pvid=123456789012345" +
      "&pageUrl=https%3A%2F%2Fshop.example%2F&referrer=&email=anna%40example.com",
    "e=setEmail&t=1732430000001&email=a%40b.co&basket=1%2C2&isAgreedToReceiveMarketingMail=false" +
      "&d.name=Anna&%40d.tags=2%3Aa%2520b%2Cc%252Cd",
    "e=groupView&t=1732430000002&productIds=5%2C6&stockId=msk",
  ];
  await page.evaluate(
    ([prefix, lines]) =>
      lines.forEach((line, i) => localStorage.setItem(`${prefix}:173243000000${i}:oldtab:00000${i + 1}`, line)),
    [`rrt:q:${space(PARTNER_ID, env.stack.mockUrl)}`, lines],
  );
  const created = await createTracker(page, env.stack.mockUrl, { pageView: false });
  assert.ok(created.ok, JSON.stringify(created));
  const events = async () =>
    (await mockRequests(env.stack.mockUrl, "/1.0/event/")).filter((r) => !r.path.includes("/initialize/"));
  await waitFor(async () => (await events()).filter((r) => r.status === 200).length === 3, {
    message: "three stored events delivered",
  });
  const sent = (await events()).map((r) => ({
    method: r.method,
    path: r.path,
    // What the event itself put in the query: between the visitor's ids and the cache buster.
    query: r.rawQuery.replace(/^session=[^&]*&sessionExternalId=[0-9a-f]{32}&/, "").replace(/&?_no_cache_=\d+$/, ""),
    body: r.body || undefined,
  }));
  assert.deepEqual(sent, [
    {
      method: "GET",
      path: `/1.0/event/search/${PARTNER_ID}`,
      query: "pvid=123456789012345&pageUrl=https%3A%2F%2Fshop.example%2F&referrer=&email=anna%40example.com" +
        "&searchPhrase=stored%20before",
      body: undefined,
    },
    {
      method: "GET",
      path: `/1.0/event/setEmail/${PARTNER_ID}`,
      query: "email=a%40b.co&basket=1%2C2&isAgreedToReceiveMarketingMail=false&d.name=Anna&d.tags=a%20b,c%2Cd",
      body: undefined,
    },
    { method: "POST", path: `/1.0/event/groupView/${PARTNER_ID}`, query: "stockId=msk", body: '{"productIds":[5,6]}' },
  ]);
  assert.deepEqual(await page.evaluate(() => window.rrErrors), [], "nothing unreadable");
  await context.close();
});

test("a tab whose sender lock stays held past its lease loses it to the tab standing by; one within its lease keeps it", { timeout: 60000 }, async () => {
  const context = await env.browser.browser.newContext();
  await recordLockRequests(context);
  const page = await readyPage(context);
  const [{ name }] = await page.evaluate(() => window.rrLockRequests);
  // Another page of the site holds the lock and never gives it up (as a page frozen in
  // WebKit's back/forward cache does), saying its lease lasts another minute.
  const holder = await openTestPage(context, env.stack.demoUrl);
  await holder.evaluate((name) => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("rrt:lease:"));
    localStorage.setItem(key, String(Date.now() + 60000));
    return new Promise((granted) => {
      navigator.locks.request(name, () => (granted(), new Promise(() => {}))).catch((e) => (window.rrTaken = e.name));
    });
  }, name);
  const before = await page.evaluate(() => window.rrLockRequests.length);
  await track(page, "waited");
  const requests = () => page.evaluate((n) => window.rrLockRequests.slice(n), before);
  // Within the lease the holder keeps the lock: the tab checks back (busy) and takes nothing.
  await waitFor(async () => (await requests()).length >= 3, { timeout: 15000, message: "three checks while standing by" });
  assert.deepEqual((await requests()).map((r) => r.steal), [false, false, false]);
  assert.deepEqual(await delivered(), []);
  // The lease, as the holder said, is over: two checks later the lock is taken, and sent.
  await holder.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("rrt:lease:"));
    localStorage.setItem(key, "0");
  });
  await waitFor(async () => (await delivered()).includes("waited"), { timeout: 15000, message: "delivered by the taker" });
  assert.ok((await requests()).some((r) => r.steal), "the lock was taken (steal)");
  assert.equal(await holder.evaluate(() => window.rrTaken), "AbortError", "the holder lost it");
  await context.close();
});

test("free() stops the tracker: its backoff under way ends without a send, and the event stays stored for the next tracker", async () => {
  const context = await env.browser.browser.newContext();
  // The sender lock's name, from the first lock request the page makes.
  await context.addInitScript(() => {
    const request = navigator.locks.request.bind(navigator.locks);
    navigator.locks.request = (name, ...rest) => ((window.rrLockName ??= name), request(name, ...rest));
  });
  const page = await readyPage(context);
  env.stack.mock.fault({ match: "/1.0/event/search/", status: 503, count: 1 });
  await track(page, "freed");
  await waitFor(async () => (await searches()).length === 1, { message: "the first attempt" });
  // In its backoff now, holding the lock.
  await page.evaluate(() => window.rr.free());
  // Once the backoff is over, the freed tracker gives the lock up without sending again.
  const lockFree = () =>
    page.evaluate(() => navigator.locks.request(window.rrLockName, { ifAvailable: true }, (lock) => lock !== null));
  await waitFor(lockFree, { timeout: 10000, message: "the lock given up" });
  assert.deepEqual((await searches()).map((r) => [r.phrase, r.status]), [["freed", 503]]);
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("rrt:q:")).length);
  assert.equal(stored, 1, "left for the next tracker");
  // The next tracker sends it.
  assert.ok((await createTracker(page, env.stack.mockUrl)).ok);
  await waitFor(async () => (await delivered()).includes("freed"), { message: "sent by the next tracker" });
  await context.close();
});

test("a holder whose word stays the same longer than the time it said loses the lock, whatever end it names", { timeout: 60000 }, async () => {
  const context = await env.browser.browser.newContext();
  await recordLockRequests(context);
  const page = await readyPage(context);
  const [{ name }] = await page.evaluate(() => window.rrLockRequests);
  // A holder that froze after saying its lease lasts 5 s more (the grace), naming an end ten
  // minutes ahead, as a clock set forward would: by the end it names, it is alive.
  const holder = await openTestPage(context, env.stack.demoUrl);
  await holder.evaluate((name) => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("rrt:lease:"));
    localStorage.setItem(key, `${Date.now() + 600000}:5000`);
    return new Promise((granted) => {
      navigator.locks.request(name, () => (granted(), new Promise(() => {}))).catch((e) => (window.rrTaken = e.name));
    });
  }, name);
  await track(page, "taken");
  await waitFor(async () => (await delivered()).includes("taken"), { timeout: 20000, message: "delivered by the taker" });
  const requests = await page.evaluate(() => window.rrLockRequests.slice(1));
  assert.ok(requests.some((r) => r.steal), "the lock was taken (steal)");
  assert.equal(await holder.evaluate(() => window.rrTaken), "AbortError", "the holder lost it");
  await context.close();
});
