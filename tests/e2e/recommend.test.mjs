// End-to-end: recommend() and items() in Chromium against the mock: every algorithm's URL,
// camelCase items, the 500 ms fallback, Cache-Control, 429 backoff, garbage answers, and the
// block attribution helper.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { PARTNER_ID, mockRequests, useStack, waitFor } from "./harness.mjs";
import { createTracker, openTestPage } from "./page.mjs";

const env = useStack();
let context;
let page;

// A fresh browser context per test: the browser's own HTTP cache honours Cache-Control too, and
// must not carry answers from one test into the next.
beforeEach(async () => {
  env.stack.mock.reset();
  await context?.close();
  context = await env.browser.browser.newContext();
  page = await openTestPage(context, env.stack.demoUrl);
  const created = await createTracker(page, env.stack.mockUrl);
  assert.ok(created.ok);
  // The page load's pageView has Retail Rocket name the session; recommendations then carry it.
  await page.waitForFunction(() => window.rr.session !== null);
  env.stack.mock.reset();
});

const behaviour = (b) => fetch(`${env.stack.mockUrl}/__behaviour`, { method: "POST", body: JSON.stringify(b) });

const recommend = (algorithm, params) =>
  page.evaluate(([a, p]) => window.rr.recommend(a, p), [algorithm, params]);
const recRequests = () => mockRequests(env.stack.mockUrl, "/api/");
/**
 * Turns the browser's HTTP cache off for this test's page (and checks that it is off: the page's
 * own two fetches of a cacheable answer both reach the mock), then puts a new tracker on it.
 * Playwright disables the HTTP cache while requests are routed; the route lets every request
 * through to the mock unchanged. From then on an answer with no request in the mock's log can
 * only have come from the tracker's own memory, and a single request for several calls only from
 * the tracker sharing it.
 */
async function browserCacheOff() {
  await context.route("**/api/**", (route) => route.continue());
  const url = `${env.stack.mockUrl}/api/1.0/partner/${PARTNER_ID}/items/?itemsIds=101`;
  const cacheControl = await page.evaluate(async (url) => {
    const first = await fetch(url);
    await first.text();
    await (await fetch(url)).text();
    return first.headers.get("Cache-Control");
  }, url);
  assert.match(cacheControl, /max-age=[1-9]/, "the probe's answer is one a browser would cache");
  assert.equal((await recRequests()).length, 2, "the browser's HTTP cache is off");
  // A patient tracker (a new one: its memory is empty): these tests are about memory and
  // sharing, and on a loaded machine a routed request can take longer than the 500 ms cut.
  assert.ok((await createTracker(page, env.stack.mockUrl, { timeoutMs: 10000 })).ok);
  await fetch(`${env.stack.mockUrl}/__requests`, { method: "DELETE" });
}

const timed = (fn) =>
  page.evaluate(async (fn) => {
    const t0 = performance.now();
    const items = await eval(fn)();
    return { items, ms: performance.now() - t0 };
  }, fn);

test("every algorithm reaches the mock with its parameters and comes back camelCased", async () => {
  const cases = [
    ["popular", { categoryIds: [0] }, { categoryIds: "0" }],
    ["latest", { categoryIds: [1, 2] }, { categoryIds: "1,2" }],
    ["saleByPopular", { categoryPaths: ["Women/Clothing"] }, { categoryPaths: "Women/Clothing" }],
    ["saleByLatest", { categoryIds: [0], stockId: "msk" }, { categoryIds: "0", stockId: "msk" }],
    ["alternative", { itemIds: [101] }, { itemIds: "101" }],
    ["related", { itemIds: [101, "102"] }, { itemIds: "101,102" }],
    ["accessories", { itemIds: [101] }, { itemIds: "101" }],
    ["search", { phrase: "skirt" }, { phrase: "skirt" }],
    ["personal", {}, {}],
    ["visitorinterest", undefined, {}],
  ];
  for (const [algorithm, params, query] of cases) {
    env.stack.mock.reset();
    const items = await recommend(algorithm, params);
    const [req] = await recRequests();
    const wireName = algorithm === "search" ? "Search" : algorithm; // as Retail Rocket's tracker spells it
    assert.equal(req.path, `/api/2.0/recommendation/${wireName}/${PARTNER_ID}/`, algorithm);
    assert.equal(req.status, 200, `${algorithm}: ${JSON.stringify(req.query)}`);
    assert.equal(req.query.format, "json");
    assert.match(req.query.session, /^[A-Za-z0-9]+$/);
    for (const [k, v] of Object.entries(query)) assert.equal(req.query[k], v, `${algorithm} ${k}`);
    assert.ok(Array.isArray(items), algorithm);
    for (const item of items) {
      assert.equal(typeof item.itemId, "number");
      assert.ok(!("ItemId" in item) && !("Name" in item), "PascalCase is gone");
    }
  }
  const popular = await recommend("popular", { categoryIds: [0] });
  assert.ok(popular.length > 0);
  assert.deepEqual(
    Object.keys(popular[0]).filter((k) => ["itemId", "name", "price", "pictureUrl", "url", "categoryIds", "isAvailable"].includes(k)).sort(),
    ["categoryIds", "isAvailable", "itemId", "name", "pictureUrl", "price", "url"],
  );
  assert.deepEqual(await page.evaluate(() => window.rrErrors), []);
});

test("items() hydrates products by id", async () => {
  const items = await page.evaluate(() => window.rr.items([102, "101", 999]));
  assert.deepEqual(items.map((i) => i.itemId), [102, 101]);
  assert.equal(typeof items[0].name, "string");
  const [req] = await recRequests();
  assert.equal(req.path, `/api/1.0/partner/${PARTNER_ID}/items/`);
  assert.equal(req.query.itemsIds, "102,101,999");
});

test("invalid parameters resolve to [] and are reported, without a request", async () => {
  assert.deepEqual(await recommend("personalComposite", {}), []);
  assert.deepEqual(await recommend("popular", {}), []);
  assert.deepEqual(await recommend("alternative", { itemIds: ["x"] }), []);
  assert.deepEqual(await page.evaluate(() => window.rr.items([])), []);
  const errors = await page.evaluate(() => window.rrErrors);
  assert.deepEqual(errors.map((e) => [e.code, e.argument]), [
    ["invalid_argument", "algorithm"],
    ["invalid_argument", "params.categoryIds"],
    ["invalid_argument", "params.itemIds[0]"],
    ["invalid_argument", "productIds"],
  ]);
  assert.deepEqual(await recRequests(), []);
});

test("a 2 s answer is cut at 500 ms: the last good answer, else []", async () => {
  await behaviour({ cacheControl: "no-store" });
  await env.stack.mock.fault({ match: "/api/", delayMs: 2000, count: 1 });
  await createTracker(page, env.stack.mockUrl); // a new tracker: nothing cached
  const cold = await timed(`() => window.rr.recommend("latest", { categoryIds: [3] })`);
  assert.deepEqual(cold.items, []);
  assert.ok(cold.ms >= 450 && cold.ms < 900, `resolved after ${cold.ms} ms`);
  const errors = await page.evaluate(() => window.rrErrors);
  assert.equal(errors.at(-1).code, "recommendations_unavailable");
  assert.match(errors.at(-1).message, /no answer within 500 ms/);

  // With a good answer on record, the slow one falls back to it.
  env.stack.mock.reset();
  await behaviour({ cacheControl: "no-cache" });
  const good = await recommend("popular", { categoryIds: [1] });
  assert.ok(good.length > 0);
  await env.stack.mock.fault({ match: "/api/", delayMs: 2000, count: 1 });
  const slow = await timed(`() => window.rr.recommend("popular", { categoryIds: [1] })`);
  assert.deepEqual(slow.items, good);
  assert.ok(slow.ms < 900, `resolved after ${slow.ms} ms`);
});

test("Cache-Control max-age is served from memory, then refetched; no-store never is", async () => {
  await browserCacheOff();
  await behaviour({ cacheControl: "max-age=1" });
  await recommend("popular", { categoryIds: [2] });
  await recommend("popular", { categoryIds: [2] });
  assert.equal((await recRequests()).length, 1, "second call served from cache");
  await page.waitForTimeout(1100);
  await recommend("popular", { categoryIds: [2] });
  assert.equal((await recRequests()).length, 2, "refetched after max-age");

  env.stack.mock.reset();
  await behaviour({ cacheControl: "no-store" });
  const first = await recommend("accessories", { itemIds: [101] });
  await recommend("accessories", { itemIds: [101] });
  assert.equal((await recRequests()).length, 2, "no-store is asked every time");
  await env.stack.mock.fault({ match: "/api/", status: 503, count: 1 });
  assert.ok(first.length > 0);
  assert.deepEqual(await recommend("accessories", { itemIds: [101] }), [], "no-store is not a fallback either");
});

test("identical concurrent requests share one network call", async () => {
  await browserCacheOff();
  // no-store: nothing keeps the answer, so one request for three calls is the sharing alone.
  // The three calls are made in one task, before any answer can arrive.
  await behaviour({ cacheControl: "no-store" });
  const shared = await page.evaluate(async () => {
    const results = await Promise.all([1, 2, 3].map(() => window.rr.recommend("popular", { categoryIds: [0] })));
    return { results, copies: results[0] !== results[1] && results[1] !== results[2] };
  });
  assert.equal((await recRequests()).length, 1, "three calls, one request");
  assert.ok(shared.results[0].length > 0);
  assert.deepEqual(shared.results[1], shared.results[0]);
  assert.deepEqual(shared.results[2], shared.results[0]);
  assert.ok(shared.copies, "each caller gets its own array");

  // Answered, the request is no longer under way: the next call asks again; different
  // requests at the same time are not merged.
  await recommend("popular", { categoryIds: [0] });
  assert.equal((await recRequests()).length, 2, "a later call asks again");
  await page.evaluate(() =>
    Promise.all([window.rr.recommend("popular", { categoryIds: [1] }), window.rr.recommend("popular", { categoryIds: [2] })]),
  );
  assert.deepEqual((await recRequests()).slice(2).map((r) => r.query.categoryIds).sort(), ["1", "2"]);
});

test("429 pauses requests (Retry-After) and serves the fallback meanwhile", async () => {
  await behaviour({ cacheControl: "no-cache" });
  const good = await recommend("related", { itemIds: [105] });
  await env.stack.mock.fault({ match: "/api/", status: 429, retryAfter: "2", count: 1 });
  assert.deepEqual(await recommend("related", { itemIds: [105] }), good);
  assert.deepEqual(await recommend("related", { itemIds: [105] }), good);
  assert.equal((await recRequests()).length, 2, "no request during the pause");
  await page.waitForTimeout(2100);
  await recommend("related", { itemIds: [105] });
  assert.equal((await recRequests()).length, 3, "asked again after Retry-After");
});

test("a garbage answer falls back", async () => {
  await behaviour({ cacheControl: "no-cache" });
  const good = await recommend("latest", { categoryIds: [0] });
  await env.stack.mock.fault({ match: "/api/", status: 200, body: "{not json", count: 1 });
  assert.deepEqual(await recommend("latest", { categoryIds: [0] }), good);
  await env.stack.mock.fault({ match: "/api/", status: 200, body: '{"items":[]}', count: 1 });
  assert.deepEqual(await recommend("latest", { categoryIds: [0] }), good);
  const messages = (await page.evaluate(() => window.rrErrors)).map((e) => e.message);
  assert.ok(messages.every((m) => /not a list of products/.test(m)), messages.join("\n"));
});

test("entries without a valid ItemId (or whose reading throws) are left out, and an answer's fields stay plain fields", async () => {
  await behaviour({ cacheControl: "no-cache" });
  const body = JSON.stringify([{ ItemId: 0 }, { ItemId: 1.5 }, { ItemId: "7" }, null, 5, [], { Name: "no id" }])
    .replace(/]$/, ',{"ItemId":9,"Name":"Ok","__proto__":{"polluted":1},"éA":2}]');
  await env.stack.mock.fault({ match: "/api/", status: 200, body, count: 1 });
  const got = await page.evaluate(async () => {
    // A page getter on Object.prototype that throws, met by the entry with no ItemId of its own.
    Object.defineProperty(Object.prototype, "ItemId", { configurable: true, get() { throw new Error("hostile"); } });
    const items = await window.rr.recommend("latest", { categoryIds: [0] }).finally(() => delete Object.prototype.ItemId);
    return items.map((item) => ({
      keys: Object.keys(item),
      plain: Object.getPrototypeOf(item) === Object.prototype && !("polluted" in item),
      name: item.name,
    }));
  });
  assert.deepEqual(got, [{ keys: ["itemId", "name", "__proto__", "éA"], plain: true, name: "Ok" }]);
});

test("trackBlock credits clicks and add-to-cart to the algorithm", async () => {
  await page.evaluate(() => {
    document.body.innerHTML = `
      <section id="block">
        <a data-rr-item-id="105"><span class="name">Linen dress</span></a>
        <div data-rr-item-id="107"><button data-rr-action="add-to-cart">Add</button></div>
      </section>`;
    window.stopBlock = window.rr.trackBlock(document.getElementById("block"), "popular");
  });
  await page.click("#block .name");
  await page.click("#block button");
  await page.evaluate(() => window.stopBlock());
  await page.click("#block .name");
  await page.evaluate(() => window.rr.flush());
  const sent = await waitFor(async () => {
    const r = (await mockRequests(env.stack.mockUrl, "/1.0/event/recom")).filter((x) => x.status === 200);
    return r.length >= 2 && r;
  });
  await page.waitForTimeout(200);
  assert.deepEqual(
    (await mockRequests(env.stack.mockUrl, "/1.0/event/recom")).map((r) => [r.path, r.query.suggestMethod]),
    [
      [`/1.0/event/recomMouseDown/${PARTNER_ID}/105`, "popular"],
      [`/1.0/event/recomAddToBasket/${PARTNER_ID}/107`, "popular"],
    ],
    "and nothing after stop",
  );
  assert.ok(sent.length === 2);
});

test("trackBlock never throws: a missing block gets a no-op stop, and stop() may be called twice", async () => {
  const result = await page.evaluate(() => {
    const stopMissing = window.rr.trackBlock(document.getElementById("no-such-block"), "popular");
    stopMissing();
    document.body.innerHTML = '<section id="b"><a data-rr-item-id="105">x</a></section>';
    const stop = window.rr.trackBlock(document.getElementById("b"), "popular");
    stop();
    stop();
    return { type: typeof stopMissing, errors: window.rrErrors.map((e) => [e.code, e.argument]) };
  });
  assert.equal(result.type, "function");
  assert.deepEqual(result.errors, [["invalid_argument", "block"]]);
});

test("without consent, recommend() does not identify the visitor and personal picks are empty", async () => {
  await createTracker(page, env.stack.mockUrl, { consent: false });
  assert.deepEqual(await recommend("personal", {}), []);
  const popular = await recommend("popular", { categoryIds: [0] });
  assert.ok(popular.length > 0);
  const requests = await recRequests();
  assert.equal(requests.length, 1, "personal was not asked for");
  assert.equal(requests[0].query.session, undefined);
});

