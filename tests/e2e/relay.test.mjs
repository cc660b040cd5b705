// End-to-end: relay mode (page → the store's own /rr → Retail Rocket's server API with the
// apiKey the server adds) and the WebView hand-off through window.RetailRocketBridge.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { PARTNER_ID, mockRequests, useStack, waitFor } from "./harness.mjs";
import { call, createTracker, openTestPage } from "./page.mjs";

const env = useStack();
beforeEach(() => env.stack.mock.reset());

const batches = async () =>
  (await mockRequests(env.stack.mockUrl, "/apptracking/1.0/visitorEvents")).map((r) => ({
    status: r.status,
    apiKey: r.query.apiKey,
    events: r.body ? JSON.parse(r.body) : [],
  }));
const deliveredEvents = async () => (await batches()).filter((b) => b.status === 200).flatMap((b) => b.events);

/** A page on the demo origin, recording every request the page itself makes. */
async function relayPage(initScript) {
  const context = await env.browser.browser.newContext();
  if (initScript) await context.addInitScript(initScript);
  const seen = [];
  context.on("request", (req) => seen.push({ url: req.url(), headers: req.headers(), body: req.postData() ?? "" }));
  const page = await openTestPage(context, env.stack.demoUrl);
  return { context, page, seen };
}

test("relay mode: batches reach Retail Rocket's server API with the key only the server knows", async () => {
  const { context, page, seen } = await relayPage();
  const created = await createTracker(page, env.stack.mockUrl, { relayUrl: "/rr" });
  const id = created.sessionExternalId;
  await page.evaluate(() => {
    window.rr.view(101, { stockId: "msk" });
    window.rr.groupView([103, 104]);
    window.rr.categoryView("Women/Clothing/Skirts");
    window.rr.search("linen");
    window.rr.order({ transaction: "T-7", items: [{ id: 101, qnt: 2, price: 49.9 }] });
    window.rr.recomMouseDown(105, { methodName: "popular" });
  });
  await waitFor(async () => (await deliveredEvents()).length === 6, { message: "six events relayed" });
  const events = await deliveredEvents();
  assert.deepEqual(events.map((e) => Object.keys(e)[0]), [
    "view", "groupView", "categoryViewByCategoryPath", "search", "order", "recomTap",
  ]);
  for (const envelope of events) {
    const body = Object.values(envelope)[0];
    assert.equal(body.sessionExternalId, id);
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)), body.timestamp);
  }
  assert.deepEqual(events[0].view, { ...events[0].view, productId: 101, stockId: "msk" });
  assert.deepEqual(events[4].order, { ...events[4].order, productId: 101, quantity: 2, price: 49.9, transaction: "T-7" });
  assert.equal(events[5].recomTap.recomBlockId, "popular");
  assert.ok((await batches()).every((b) => b.apiKey === env.stack.apiKey), "the relay added the key");

  assert.ok(seen.some((r) => r.url.startsWith(`${env.stack.demoUrl}/rr/visitorEvents?partnerId=${PARTNER_ID}`)));
  for (const r of seen) {
    assert.ok(!r.url.includes(env.stack.apiKey) && !r.body.includes(env.stack.apiKey), `${r.url} carries the key`);
    assert.ok(!/apikey/i.test(r.url), r.url);
    for (const h of ["authorization", "x-api-key", "x-authorization"]) assert.equal(r.headers[h], undefined);
  }
  assert.deepEqual(await mockRequests(env.stack.mockUrl, "/1.0/event/"), [], "nothing went the direct way");
  assert.deepEqual(await mockRequests(env.stack.mockUrl).then((all) => all.filter((r) => r.flagged)), []);
  await context.close();
});

test("relay mode keeps order across retries and sends each event once", async () => {
  const { context, page } = await relayPage();
  await createTracker(page, env.stack.mockUrl, { relayUrl: "/rr" });
  env.stack.mock.fault({ match: "/apptracking/", status: 503, count: 2 });
  await page.evaluate(() => ["r1", "r2", "r3"].forEach((p) => window.rr.search(p)));
  await waitFor(async () => (await deliveredEvents()).length >= 3, { timeout: 15000 });
  const phrases = (await deliveredEvents()).map((e) => e.search.searchPhrase);
  assert.deepEqual(phrases, ["r1", "r2", "r3"]);
  assert.deepEqual((await batches()).map((b) => b.status), [503, 503, 200]);
  await context.close();
});

test("relay mode: setEmail needs a contactExternalId; removeFromBasket has no server form", async () => {
  const { context, page } = await relayPage();
  await createTracker(page, env.stack.mockUrl, { relayUrl: "/rr" });
  assert.equal(await call(page, "setEmail", "shopper@example.com"), false);
  assert.equal(await call(page, "removeFromBasket", 101), false);
  assert.equal(await call(page, "setEmail", "shopper@example.com", { contactExternalId: "Customer42" }), true);
  const codes = (await page.evaluate(() => window.rrErrors)).map((e) => e.code);
  assert.deepEqual(codes, ["not_relayed", "not_relayed"]);
  await waitFor(async () => (await deliveredEvents()).length === 1);
  const [{ setContact }] = await deliveredEvents();
  assert.equal(setContact.contactExternalId, "Customer42");
  assert.equal(setContact.email, "shopper@example.com");
  await context.close();
});

test("a native app's id arrives through the bridge, is persisted, and is handed back", async () => {
  const { context, page } = await relayPage(() => {
    window.RetailRocketBridge = {
      sessionExternalId: "3beb9714-82e9-4c08-938d-1391f5d86f2b",
      onSessionExternalId(id) { window.handedBack = id; },
    };
  });
  const created = await createTracker(page, env.stack.mockUrl);
  assert.equal(created.sessionExternalId, "3beb971482e94c08938d1391f5d86f2b");
  assert.equal(await page.evaluate(() => localStorage.getItem("rrt:sxid")), created.sessionExternalId);
  assert.equal(await page.evaluate(() => window.handedBack), created.sessionExternalId);
  await call(page, "view", 101);
  await page.evaluate(() => window.rr.flush());
  const [view] = await waitFor(() => mockRequests(env.stack.mockUrl, "/1.0/event/view/").then((r) => r.length && r));
  assert.equal(view.query.sessionExternalId, created.sessionExternalId);
  await context.close();

  // Android's addJavascriptInterface exposes methods only.
  const android = await relayPage(() => {
    window.RetailRocketBridge = { getSessionExternalId: () => "AndroidInstall42" };
  });
  assert.equal((await createTracker(android.page, env.stack.mockUrl)).sessionExternalId, "AndroidInstall42");
  await android.context.close();
});

test("an invalid bridge id is refused with a clear error and tracking goes on", async () => {
  const { context, page } = await relayPage(() => {
    window.RetailRocketBridge = { sessionExternalId: "user@example.com" };
  });
  const created = await createTracker(page, env.stack.mockUrl);
  assert.match(created.sessionExternalId, /^[0-9a-f]{32}$/);
  const [error] = await page.evaluate(() => window.rrErrors);
  assert.equal(error.code, "bridge_invalid");
  assert.match(error.message, /user@example\.com/);
  assert.equal(await call(page, "view", 101), true);
  await page.evaluate(() => window.rr.flush());
  await waitFor(() => mockRequests(env.stack.mockUrl, "/1.0/event/view/").then((r) => r.length === 1));
  await context.close();
});
