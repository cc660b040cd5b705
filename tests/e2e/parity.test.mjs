// End-to-end: what a store relies on when it swaps Retail Rocket's tracking.js for this module
// (the wire contract is /work/shared/reference/tracking-js-parity.md): the session handshake and
// the rcuid cookie, e-mail attribution on landing, orders, setEmail's data, subscriptions,
// recommendation credit, pageView and recomTrack. Headless Chromium against the strict mock.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { PARTNER_ID, mockRequests, useStack, waitFor } from "./harness.mjs";
import { call, createTracker, loadPackage } from "./page.mjs";

const pid = PARTNER_ID;
const RR_SESSION = /^[0-9a-f]{24}$/;
const DAY = 24 * 3600;

const env = useStack({
  beforeClose: async () => {
    // Whatever the tests did: no secret, no cookie on an event, initialize with the page's rcuid.
    const flagged = (await mockRequests(env.stack.mockUrl)).filter((r) => r.flagged !== null);
    assert.deepEqual(flagged.map((r) => `${r.path}: ${r.flagged}`), []);
  },
});

beforeEach(() => env.stack.mock.reset());

const all = () => mockRequests(env.stack.mockUrl);
const inits = async () => (await all()).filter((r) => r.path.startsWith(`/1.0/event/initialize/${pid}`));
/** Tracking calls (events and subscriptions), not the handshake. */
const calls = async () =>
  (await all()).filter((r) => (r.path.startsWith("/1.0/event/") && !r.path.startsWith("/1.0/event/initialize/")) || r.path.startsWith("/1.0/partner/"));
const named = (event) => (r) => r.path.split("/")[3] === event;

/** Waits until `n` tracking calls passing `keep` were answered, and returns them. */
function answered(keep, n = 1, message = "requests answered") {
  return waitFor(async () => {
    const r = (await calls()).filter(keep);
    return r.length >= n && r.every((x) => x.status !== null) && r;
  }, { timeout: 10000, message });
}

/** The raw (still encoded) value of `name` in a recorded request. */
const raw = (r, name) => r.rawQuery.split("&").find((pair) => pair.startsWith(`${name}=`))?.slice(name.length + 1);

async function newContext() {
  return env.browser.browser.newContext();
}

/** Opens blank.html (with `search`, e.g. "?MailTrackingId=1") on the demo origin with pkg/ loaded. */
async function openPage(context, search = "") {
  const page = await context.newPage();
  await page.goto(`${env.stack.demoUrl}/blank.html${search}`);
  await loadPackage(page);
  return page;
}

async function tracker(page, extra) {
  const created = await createTracker(page, env.stack.mockUrl, extra);
  assert.ok(created.ok, JSON.stringify(created));
  return created.sessionExternalId;
}

const rcuidOf = async (context) => (await context.cookies(env.stack.demoUrl)).find((c) => c.name === "rcuid");

test("first visit: initialize offers no session and carries the page's cookies; events wait for the minted session, go without cookies, and it lands in rcuid", async () => {
  const context = await newContext();
  const page = await openPage(context);
  // Any cookie of the page shows whether initialize was sent with credentials.
  await page.evaluate(() => (document.cookie = "shop=1; path=/; SameSite=Lax"));
  env.stack.mock.fault({ match: "/1.0/event/initialize/", delayMs: 800 });
  const id = await tracker(page);
  assert.equal(await page.evaluate(() => window.rr.session), null, "no session until the handshake answers");
  assert.equal(await call(page, "view", 101), true);

  const [view] = await answered(named("view"), 1, "the view");
  const [init] = await inits();
  assert.equal(init.query.session, undefined, "no candidate on a first visit (never our sessionExternalId)");
  assert.match(init.cookie ?? "", /(^|; )shop=1(;|$)/, "initialize is sent with credentials");
  assert.doesNotMatch(init.cookie ?? "", /rcuid=/);
  assert.ok(view.at >= init.at + 700, "the view waited for the answer");

  const minted = view.query.session;
  assert.match(minted, RR_SESSION);
  assert.notEqual(minted, id);
  assert.equal(view.query.sessionExternalId, id);
  assert.equal(await page.evaluate(() => window.rr.session), minted);
  for (const r of await calls()) {
    assert.equal(r.cookie, null, `${r.path} is sent without cookies`);
    assert.equal(r.query.session, minted, `${r.path} uses the minted session`);
    assert.equal(r.status, 200, `${r.path}: accepted by the strict mock`);
  }

  const rcuid = await waitFor(() => rcuidOf(context), { message: "the rcuid cookie is written" });
  assert.equal(rcuid.value, minted);
  assert.equal(rcuid.sameSite, "Lax");
  assert.equal(rcuid.secure, false, "no Secure on http");
  assert.equal(rcuid.httpOnly, false);
  assert.ok(Math.abs(rcuid.expires - (Date.now() / 1000 + 365 * DAY)) < 2 * DAY, `expires in 365 days, got ${new Date(rcuid.expires * 1000).toISOString()}`);
  await context.close();
});

test("an rcuid cookie tracking.js left is adopted at once, offered to initialize with credentials, and kept", async () => {
  const known = "5f0c1e2d3a4b5c6d7e8f9a0b";
  const context = await newContext();
  await context.addCookies([{ name: "rcuid", value: known, url: env.stack.demoUrl, sameSite: "Lax", expires: Date.now() / 1000 + 100 * DAY }]);
  const page = await openPage(context);
  env.stack.mock.fault({ match: "/1.0/event/initialize/", delayMs: 3000 });
  await tracker(page);
  assert.equal(await page.evaluate(() => window.rr.session), known, "the session is known before any answer");
  assert.equal(await call(page, "view", 101), true);

  const [view] = await answered(named("view"), 1, "the view, sent at once");
  assert.equal(view.query.session, known);
  assert.equal(view.cookie, null);
  const [pending] = await inits();
  assert.equal(pending.status, null, "the view went out while initialize was still waiting for its answer");

  const [init] = await waitFor(async () => {
    const r = await inits();
    return r.length === 1 && r[0].status === 200 && r;
  }, { timeout: 8000, message: "initialize answered" });
  assert.equal(init.query.session, known, "initialize offers the adopted session");
  assert.match(init.cookie ?? "", new RegExp(`(^|; )rcuid=${known}(;|$)`), "with the page's cookies");
  assert.equal(await page.evaluate(() => window.rr.session), known);
  assert.equal((await rcuidOf(context)).value, known);
  await context.close();
});

test("the session survives a reload: events go out at once and the handshake refreshes it once per page load", async () => {
  const context = await newContext();
  let page = await openPage(context);
  await tracker(page);
  const [first] = await answered(named("pageView"), 1, "the first page's pageView");
  const session = first.query.session;
  await page.reload();
  await loadPackage(page);
  env.stack.mock.fault({ match: "/1.0/event/initialize/", delayMs: 2000 });
  await tracker(page);
  await call(page, "view", 102);
  const [view] = await answered(named("view"), 1, "the view after the reload");
  assert.equal(view.query.session, session);
  await waitFor(async () => (await inits()).length === 2 && (await inits()).every((r) => r.status === 200), { timeout: 8000, message: "two handshakes, one per page load" });
  assert.deepEqual((await inits()).map((r) => r.query.session), [undefined, session]);
  await context.close();
});

test("sessionCookie: false neither adopts nor writes rcuid", async () => {
  env.stack.mock.behave({ rcuidCookie: false });
  const context = await newContext();
  await context.addCookies([{ name: "rcuid", value: "aaaaaaaaaaaaaaaaaaaaaaaa", url: env.stack.demoUrl }]);
  const page = await openPage(context);
  await tracker(page, { sessionCookie: false });
  await call(page, "view", 101);
  const [view] = await answered(named("view"));
  assert.match(view.query.session, RR_SESSION);
  assert.notEqual(view.query.session, "aaaaaaaaaaaaaaaaaaaaaaaa");
  assert.equal((await inits())[0].query.session, undefined);
  assert.equal((await rcuidOf(context)).value, "aaaaaaaaaaaaaaaaaaaaaaaa", "the page's rcuid is left as it was");
  await context.close();
});

test("e-mail landing: MailTrackingId sends emailclick (again on reload), rr_setemail with rrsd_* sends setEmail with d.*", async () => {
  const context = await newContext();
  const page = await openPage(context, "?MailTrackingId=mt-42&utm_source=rr&rr_urlType=item");
  await tracker(page);
  const [click] = await answered(named("emailclick"), 1, "emailclick");
  assert.equal(click.path, `/1.0/event/emailclick/${pid}/mt-42`);
  assert.equal(click.query.utm_source, "rr");
  assert.equal(click.query.rr_urlType, "item");
  await page.reload();
  await loadPackage(page);
  await tracker(page);
  await answered(named("emailclick"), 2, "emailclick on the reload");

  for (const [search, id] of [["?mailtrackingid=lower-1", "lower-1"], ["?rr_mailid=m-7&utm_source=mail", "m-7"]]) {
    env.stack.mock.reset();
    const other = await openPage(context, search);
    await tracker(other);
    const [r] = await answered(named("emailclick"), 1, `emailclick for ${search}`);
    assert.equal(r.path, `/1.0/event/emailclick/${pid}/${id}`, search);
    await other.close();
  }
  assert.equal((await calls()).find(named("emailclick")).query.rr_mailid, "m-7");

  env.stack.mock.reset();
  const landing = await openPage(context, "?rr_setemail=ann%40example.com&rrsd_name=Ann&rrsd_city=Oslo&utm_campaign=x");
  await tracker(landing);
  const [set] = await answered(named("setEmail"), 1, "setEmail from the URL");
  assert.equal(set.query.email, "ann@example.com");
  assert.equal(set.query["d.name"], "Ann");
  assert.equal(set.query["d.city"], "Oslo");
  assert.equal(set.query.isAgreedToReceiveMarketingMail, "true");
  assert.equal(set.query["d.utm_campaign"], undefined, "only rrsd_* parameters become custom data");
  assert.deepEqual((await calls()).filter(named("emailclick")), [], "no emailclick without a mail id");
  await context.close();
});

test("an order with a gift at price 0 and goods sold by weight (0.5); same id summed; a negative price still refuses it", async () => {
  const context = await newContext();
  const page = await openPage(context);
  await tracker(page);
  const order = {
    transaction: "T-2001",
    items: [
      { id: 101, qnt: 0.5, price: 0 },
      { id: 102, qnt: 1.25, price: "12.5" },
      { id: 102, qnt: 0.75, price: 12.5 },
    ],
  };
  assert.equal(await call(page, "order", order), true);
  const lines = await answered(named("order"), 2, "two order lines");
  assert.deepEqual(
    lines.map((r) => [r.path, r.query.transaction, r.query.qnt, r.query.price, r.status]),
    [
      [`/1.0/event/order/${pid}/101`, "T-2001", "0.5", "0", 200],
      [`/1.0/event/order/${pid}/102`, "T-2001", "2", "12.5", 200],
    ],
  );
  const refused = await call(page, "order", { transaction: "T-2002", items: [{ id: 103, qnt: 1, price: 5 }, { id: 104, qnt: 1, price: -1 }] });
  assert.equal(refused, false);
  const errors = await page.evaluate(() => window.rrErrors);
  assert.equal(errors.at(-1).argument, "order.items[1].price");
  assert.equal(await call(page, "order", { transaction: "T-2003", items: [{ id: 105, qnt: 0, price: 5 }] }), false, "quantity 0 is refused");
  assert.equal(await call(page, "order", { transaction: "T-2004", items: [{ id: 105, qnt: Infinity, price: 5 }] }), false, "quantity must be finite");
  await context.close();
});

test("setEmail: consent true by default and the caller's false, d.* custom data, basket and viewed; email joins later search, groupView and order", async () => {
  const context = await newContext();
  const page = await openPage(context);
  await tracker(page);
  await call(page, "addToBasket", 101);
  await call(page, "addToBasket", 102);
  await call(page, "removeFromBasket", 101);
  const viewed = Array.from({ length: 12 }, (_, i) => 103 + i); // 103..114: the last 10 are 105..114
  for (const id of viewed) await call(page, "view", id);
  assert.equal(await call(page, "setEmail", "ann@example.com", { name: "Ann", tags: ["a b", "c"], age: 31 }), true);
  const [first] = await answered(named("setEmail"), 1, "setEmail");
  assert.equal(first.status, 200, first.rawQuery);
  assert.equal(first.query.email, "ann@example.com");
  assert.equal(first.query.isAgreedToReceiveMarketingMail, "true", "true when not given, as tracking.js does");
  assert.equal(first.query["d.name"], "Ann");
  assert.equal(first.query["d.age"], "31");
  assert.equal(raw(first, "d.tags"), "a%20b,c", "array elements encoded one by one, joined by a raw comma");
  assert.equal(raw(first, "basket"), "102", "added and not removed");
  assert.deepEqual(first.query.viewed.split(",").map(Number), viewed.slice(-10), "the last 10 viewed, oldest first");
  assert.match(raw(first, "viewed"), /^\d+(%2C\d+){9}$/, "pre-joined: %2C between the ids");
  assert.equal(first.query["d.isAgreedToReceiveMarketingMail"], undefined);

  await call(page, "search", "red skirt");
  await call(page, "groupView", [101, 102]);
  await call(page, "order", { transaction: "T-3001", items: [{ id: 101, qnt: 1, price: 10 }] });
  const later = await answered((r) => ["search", "groupView", "order"].includes(r.path.split("/")[3]), 3, "search, groupView, order");
  for (const r of later) assert.equal(r.query.email, "ann@example.com", `${r.path} carries the email`);

  env.stack.mock.reset();
  assert.equal(await call(page, "setEmail", "bob@example.com", { isAgreedToReceiveMarketingMail: false }), true);
  const [second] = await answered(named("setEmail"), 1, "the second setEmail");
  assert.equal(second.query.isAgreedToReceiveMarketingMail, "false", "the caller's false is sent (tracking.js loses it)");
  assert.equal(second.query["d.isAgreedToReceiveMarketingMail"], undefined, "the flag is not custom data");
  await context.close();
});

test("every subscription: welcomeSequence, back in stock (stock as string or object), price drop (one item or a list, raw brackets)", async () => {
  const context = await newContext();
  const page = await openPage(context);
  await tracker(page);
  const accepted = await page.evaluate(() => [
    window.rr.welcomeSequence("ann@example.com"),
    window.rr.subscribeOnItemBackInStock("ann@example.com", 110),
    window.rr.subscribeOnItemBackInStock("ann@example.com", "111", { stockId: "msk" }),
    window.rr.subscribeOnItemBackInStock("ann@example.com", 111, "spb"),
    window.rr.subscribeOnPriceDrop("ann@example.com", { id: 101, price: 49.9 }),
    window.rr.subscribeOnPriceDrop("ann@example.com", [{ id: 101, price: 49.9 }, { id: "102", price: 0 }]),
  ]);
  assert.deepEqual(accepted, [true, true, true, true, true, true]);
  const subs = await answered((r) => r.path.startsWith(`/1.0/partner/${pid}/subscribe/`), 6, "six subscriptions");
  const base = `/1.0/partner/${pid}/subscribe`;
  assert.deepEqual(subs.map((r) => [r.path, r.status]), [
    [`${base}/welcomesequence`, 200],
    [`${base}/backinstock`, 200],
    [`${base}/backinstock`, 200],
    [`${base}/backinstock`, 200],
    [`${base}/pricedrop`, 200],
    [`${base}/pricedrop`, 200],
  ]);
  for (const r of subs) {
    assert.equal(r.query.email, "ann@example.com");
    assert.equal(r.cookie, null);
    assert.match(r.query.session, RR_SESSION);
  }
  assert.deepEqual([subs[1], subs[2], subs[3]].map((r) => [r.query.itemId, r.query.stockId]), [["110", undefined], ["111", "msk"], ["111", "spb"]]);
  assert.match(subs[4].rawQuery, /(^|&)items\[0\]\.ItemId=101&items\[0\]\.Price=49\.9(&|$)/);
  assert.doesNotMatch(subs[4].rawQuery, /items\[1\]/);
  assert.match(subs[5].rawQuery, /(^|&)items\[0\]\.ItemId=101&items\[0\]\.Price=49\.9&items\[1\]\.ItemId=102&items\[1\]\.Price=0(&|$)/);

  const refused = await page.evaluate(() => [
    window.rr.welcomeSequence("not-an-email"),
    window.rr.subscribeOnItemBackInStock("ann@example.com", "abc"),
    window.rr.subscribeOnPriceDrop("ann@example.com", []),
    window.rr.subscribeOnPriceDrop("ann@example.com", { id: 101, price: -1 }),
  ]);
  assert.deepEqual(refused, [false, false, false, false]);
  await context.close();
});

test("recomItemId goes with any view within 60 s after a recomMouseDown, also of another product and after a reload", async () => {
  const context = await newContext();
  const page = await openPage(context);
  await tracker(page);
  await call(page, "recomMouseDown", 108, { methodName: "alternative" });
  await call(page, "view", 109);
  await page.reload();
  await loadPackage(page);
  await tracker(page);
  await call(page, "view", 110);
  const views = await answered(named("view"), 2, "two views");
  assert.deepEqual(views.map((r) => [r.path, r.query.recomItemId, r.status]), [
    [`/1.0/event/view/${pid}/109`, "108", 200],
    [`/1.0/event/view/${pid}/110`, "108", 200],
  ]);
  await context.close();
});

test("exactly one pageView per page load, with the page context; pageView: false sends none; pageContext: false leaves the context out", async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(`${env.stack.demoUrl}/blank.html?from=test`, { referer: "https://search.example/results?q=skirt" });
  await loadPackage(page);
  await tracker(page);
  await call(page, "view", 101);
  await page.evaluate(() => window.rr.flush());
  await answered(named("view"), 1, "the view");
  let pageViews = (await calls()).filter(named("pageView"));
  assert.equal(pageViews.length, 1, "one pageView for the page load");
  // A second tracker made on the same page load adds none.
  await page.evaluate(([url, partnerId]) => {
    const second = new window.RR.Tracker({ partnerId, trackingUrl: url, apiUrl: url });
    second.view(103);
    return second.flush();
  }, [env.stack.mockUrl, pid]);
  await answered(named("view"), 2, "the second tracker's view");
  assert.equal((await calls()).filter(named("pageView")).length, 1, "one pageView per page load, however many trackers");
  const [pv] = pageViews;
  assert.equal(pv.path, `/1.0/event/pageView/${pid}`);
  assert.equal(pv.status, 200);
  assert.match(pv.query.pvid, /^\d{15}$/);
  assert.equal(pv.query.pageUrl, `${env.stack.demoUrl}/blank.html?from=test`);
  assert.equal(pv.query.referrer, await page.evaluate(() => document.referrer), "document.referrer");
  assert.match(pv.query.referrer, /^https:\/\/search\.example\//);
  const view = (await calls()).find(named("view"));
  assert.equal(view.query.pvid, pv.query.pvid);
  assert.equal(view.query.pageUrl, pv.query.pageUrl);

  await page.reload();
  await loadPackage(page);
  await tracker(page);
  await answered(named("pageView"), 2, "the reload's pageView");
  pageViews = (await calls()).filter(named("pageView"));
  assert.equal(pageViews.length, 2);
  assert.equal(pageViews[1].query.pvid, pv.query.pvid, "pvid is stored");
  assert.equal(await call(page, "pageView"), true, "rr.pageView() sends one more");
  await answered(named("pageView"), 3, "the explicit pageView");

  env.stack.mock.reset();
  const quiet = await newContext();
  const other = await openPage(quiet);
  await tracker(other, { pageView: false, pageContext: false });
  await call(other, "view", 102);
  await other.evaluate(() => window.rr.flush());
  const [plain] = await answered(named("view"), 1, "the view without page context");
  assert.deepEqual((await calls()).filter(named("pageView")), [], "no automatic pageView");
  for (const k of ["pvid", "pageUrl", "referrer"]) assert.equal(plain.query[k], undefined, `no ${k} with pageContext: false`);
  await quiet.close();
  await context.close();
});

test("recomTrack: suggestMethod and recomms pre-joined with %2C, `to` a copy of recomms (the second argument is ignored)", async () => {
  const context = await newContext();
  const page = await openPage(context);
  await tracker(page);
  assert.equal(await call(page, "recomTrack", "popular", "whatever", [101, "102"]), true);
  const [r] = await answered(named("recomTrack"), 1, "recomTrack");
  assert.equal(r.path, `/1.0/event/recomTrack/${pid}`);
  assert.equal(r.status, 200);
  assert.equal(r.query.suggestMethod, "popular");
  assert.equal(raw(r, "recomms"), "101%2C102");
  assert.equal(raw(r, "to"), "101%2C102");
  assert.equal(await call(page, "recomTrack", "popular", null, []), false, "an empty block is refused");
  assert.equal(await call(page, "recomTrack", "popular", null, ["x"]), false, "ids are checked");
  await context.close();
});
