// End-to-end: the demo storefront in headless chromium sends real tracker events to the mock.
// Run: node --test tests/e2e/   (needs pkg/ built: scripts/test or wasm-pack build)
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { POPULARITY_RANK, findProduct } from "../mock/catalogue.mjs";
import {
  PARTNER_ID,
  REPO_ROOT,
  collectConsoleErrors,
  mockRequests,
  openDemo,
  useStack,
  waitFor,
} from "./harness.mjs";

const SCREENSHOT = path.join(REPO_ROOT, "target/e2e/demo.png");
const VIEWPORT = { width: 1360, height: 900 };

const env = useStack();

const eventPath = (event, id) => `/1.0/event/${event}/${PARTNER_ID}${id === undefined ? "" : `/${id}`}`;
const recommendationPath = (algorithm) => `/api/2.0/recommendation/${algorithm}/${PARTNER_ID}`;
const samePath = (wanted) => (r) => r.path.replace(/\/$/, "") === wanted;

/** Waits until the mock recorded a request to `wanted` (exact path) that `ok` accepts, and returns it. */
function recorded(wanted, { ok = (r) => r.status === 200, timeout = 10000, message } = {}) {
  return waitFor(async () => (await mockRequests(env.stack.mockUrl, wanted)).find((r) => samePath(wanted)(r) && ok(r)), {
    timeout,
    message: message ?? `the mock recorded ${wanted}`,
  });
}

/** The mock's answer to an algorithm, from its fixture: available items in popularity order. */
const expectedIds = (keep) =>
  POPULARITY_RANK.map(findProduct)
    .filter((p) => p.IsAvailable && keep(p))
    .map((p) => p.ItemId);

/** Item ids shown in a recommendation block, once it has finished loading. */
function blockIds(page, selector, message) {
  return waitFor(
    async () => {
      const list = page.locator(selector);
      if ((await list.getAttribute("aria-busy")) === "true") return false;
      const ids = await list.locator("[data-rr-item-id]").evaluateAll((els) => els.map((el) => Number(el.dataset.rrItemId)));
      return ids.length ? ids : false;
    },
    { message },
  );
}

const sessionIdShown = (page) =>
  waitFor(async () => {
    const text = (await page.locator("#session-id").textContent()).trim();
    return /^[0-9a-f]{32}$/.test(text) && text;
  }, { message: "the header shows a 32-hex sessionExternalId" });

test("demo storefront: views, Popular and Alternatives blocks with trackBlock credit, no console errors", async () => {
  const page = await env.browser.newPage();
  const errors = collectConsoleErrors(page);

  assert.equal(await openDemo(page, env.stack.demoUrl), "true", "the demo page finished booting");
  const trackerStatus = await page.locator("#tracker-status").textContent();
  assert.equal(trackerStatus, "tracker ready", `the tracker did not start: ${await page.locator("#banner").textContent()}`);

  const sessionId = await sessionIdShown(page);
  assert.equal(sessionId, await page.evaluate(() => window.demo.rr.sessionExternalId));

  // The Popular block shows the mock's popular items, in its order.
  const popularReq = await recorded(recommendationPath("popular"));
  assert.equal(popularReq.query.categoryIds, "0");
  const popular = await blockIds(page, "#popular", "the Popular block shows items");
  assert.deepEqual(popular, expectedIds(() => true).slice(0, popular.length), "Popular items come from the mock, in order");
  assert.ok(popular.length >= 4, `Popular shows ${popular.length} items`);
  assert.equal(
    await page.locator(`#popular [data-rr-item-id="${popular[0]}"] .rec-name`).textContent(),
    findProduct(popular[0]).Name,
  );
  assert.equal(await page.locator('#popular [data-rr-action="add-to-cart"]').count(), popular.length, "each item has a + Add button");

  // A product card opens the product: view, and the Alternatives block for it.
  await page.locator('#grid .card[data-item-id="101"] h3').click();
  await recorded(eventPath("view", 101));
  await page.locator("#product-panel").waitFor({ state: "visible" });
  assert.equal(await page.locator("#product-name").textContent(), findProduct(101).Name);
  const alt101 = await recorded(recommendationPath("alternative"), { ok: (r) => r.status === 200 && r.query.itemIds === "101" });
  assert.equal(alt101.query.format, "json");
  const skirts = expectedIds((p) => p.CategoryIds.includes(1) && p.ItemId !== 101);
  assert.deepEqual(await blockIds(page, "#alternatives", "the Alternatives block shows items for 101"), skirts.slice(0, 4));

  // The page's own request log shows the view too (it polls the mock every second).
  await waitFor(async () => (await page.locator("#log").textContent()).includes("/1.0/event/view/{pid}/101"), {
    timeout: 5000,
    message: "the side panel lists the view request",
  });

  // Clicking a Popular item: trackBlock sends recomMouseDown first, then the product opens and
  // its view carries recomItemId.
  const clicked = popular[0];
  await page.locator(`#popular [data-rr-item-id="${clicked}"] .rec-name`).click();
  const mouseDown = await recorded(eventPath("recomMouseDown", clicked));
  assert.equal(mouseDown.query.suggestMethod, "popular");
  const credited = await recorded(eventPath("view", clicked), { ok: (r) => r.status === 200 && r.query.recomItemId === String(clicked) });
  assert.ok(credited.seq > mouseDown.seq, "recomMouseDown is sent before the view it credits");
  assert.equal(await page.locator("#product-name").textContent(), findProduct(clicked).Name);
  await recorded(recommendationPath("alternative"), { ok: (r) => r.status === 200 && r.query.itemIds === String(clicked) });
  const altOfClicked = await waitFor(async () => {
    const ids = await blockIds(page, "#alternatives", `the Alternatives block for ${clicked}`);
    return ids.every((id) => findProduct(id).CategoryIds.some((c) => findProduct(clicked).CategoryIds.includes(c))) && ids;
  }, { message: `the Alternatives block refreshed for ${clicked}` });

  // "+ Add" on a Popular item: recomAddToBasket (trackBlock) and addToBasket (the basket).
  const added = popular[1];
  await page.locator(`#popular [data-rr-item-id="${added}"] [data-rr-action="add-to-cart"]`).click();
  const addReq = await recorded(eventPath("recomAddToBasket", added));
  assert.equal(addReq.query.suggestMethod, "popular");
  await recorded(eventPath("addToBasket", added));
  await waitFor(async () => (await page.locator("#basket-count").textContent()) === "1", { message: "the basket holds 1 item" });
  const stray = (await mockRequests(env.stack.mockUrl, eventPath("recomMouseDown", added))).filter(samePath(eventPath("recomMouseDown", added)));
  assert.deepEqual(stray, [], "+ Add is not also a recomMouseDown");

  // An Alternatives item is credited to the "alternative" algorithm.
  const alt = altOfClicked[0];
  await page.locator(`#alternatives [data-rr-item-id="${alt}"] .rec-name`).click();
  const altDown = await recorded(eventPath("recomMouseDown", alt));
  assert.equal(altDown.query.suggestMethod, "alternative");
  await recorded(eventPath("view", alt), { ok: (r) => r.status === 200 && r.query.recomItemId === String(alt) });
  await blockIds(page, "#alternatives", `the Alternatives block for ${alt}`);

  assert.deepEqual(await (await fetch(`${env.stack.mockUrl}/__flagged`)).json(), [], "no request carried a secret");

  // Tidy: nothing sticks out sideways, the header's controls fit on one line each.
  const layout = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    wrapped: [...document.querySelectorAll(".brand > span:last-of-type, .consent button, .topbar-actions > *")]
      .filter((el) => el.getBoundingClientRect().height > 40)
      .map((el) => el.textContent),
  }));
  assert.deepEqual(layout, { overflow: 0, wrapped: [] }, "the page fits its width and the header does not wrap");

  // The screenshot shows the page, not the toasts of the clicks above (they fade after ~3 s).
  await waitFor(async () => (await page.locator("#toasts .toast").count()) === 0, { timeout: 6000, message: "the toasts faded" });
  await page.evaluate(() => window.scrollTo(0, 0));
  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  assert.deepEqual(errors, [], "no console errors or page errors");
});

test("demo storefront: empty state when recommendations time out, and the consent buttons", async () => {
  // A fresh context: its own storage (opt-out is remembered per browser) and HTTP cache.
  env.stack.mock.reset();
  const context = await env.browser.browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    assert.equal(await openDemo(page, env.stack.demoUrl), "true");
    await waitFor(async () => (await page.locator("#popular [data-rr-item-id]").count()) > 0, { message: "Popular loaded" });

    // The alternatives answer takes 2 s: the block gives up at 500 ms and says so; the store works.
    await env.stack.mock.fault({ match: recommendationPath("alternative"), delayMs: 2000, count: 1 });
    await page.locator('#grid .card[data-item-id="105"] h3').click();
    await waitFor(async () => /no recommendations right now/i.test(await page.locator("#alternatives").textContent()), {
      timeout: 1500,
      message: "the Alternatives block shows its empty state within the 500 ms rule",
    });
    assert.equal(await page.locator("#alternatives [data-rr-item-id]").count(), 0);
    await page.locator("#product-detail button.primary").click();
    await recorded(eventPath("addToBasket", 105));
    await waitFor(async () => (await page.locator("#basket-count").textContent()) === "1", { message: "the basket still works" });

    // Forget me: a new sessionExternalId.
    const before = await sessionIdShown(page);
    await page.locator("#forget").click();
    const renewed = await waitFor(async () => {
      const id = await sessionIdShown(page);
      return id !== before && id;
    }, { message: "Forget me shows a new sessionExternalId" });
    assert.equal(renewed, await page.evaluate(() => window.demo.rr.sessionExternalId));

    // Opt out: the queue is empty and a view is refused, not sent; opt in: views flow again.
    await page.locator("#opt-out").click();
    assert.equal(await page.locator("#consent-state").textContent(), "opted out");
    assert.equal((await page.locator("#pending").textContent()).trim(), "0");
    await page.locator('#grid .card[data-item-id="102"] h3').click();
    await page.locator("#opt-in").click();
    assert.equal(await page.locator("#consent-state").textContent(), "tracking on");
    await page.locator('#grid .card[data-item-id="108"] h3').click();
    await recorded(eventPath("view", 108), {
      ok: (r) => r.status === 200 && r.query.sessionExternalId === renewed,
      message: "a view after opting in, with the new sessionExternalId",
    });
    const refused = (await mockRequests(env.stack.mockUrl, eventPath("view", 102))).filter(samePath(eventPath("view", 102)));
    assert.deepEqual(refused, [], "the view made while opted out was never sent");

    assert.deepEqual(errors, [], "no console errors or page errors");
  } finally {
    await context.close();
  }
});

test("demo storefront in relay mode: events go through /rr, Retail Rocket's server API gets the key, the page never does", async () => {
  const context = await env.browser.browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  const pageRequests = [];
  page.on("request", (req) => pageRequests.push(`${req.url()} ${req.postData() ?? ""}`));
  try {
    assert.equal(await openDemo(page, env.stack.demoUrl, { search: "?mode=relay" }), "true");
    assert.equal(await page.locator("#mode-relay").getAttribute("aria-current"), "page");
    await page.locator('#grid .card[data-item-id="103"] h3').click();
    const batch = await recorded("/apptracking/1.0/visitorEvents", {
      ok: (r) => r.status === 200 && r.body.includes('"view"'),
      message: "the relay forwarded a batch with the view",
    });
    assert.equal(batch.query.apiKey, env.stack.apiKey, "the relay added the key");
    const [{ view }] = JSON.parse(batch.body);
    assert.equal(view.productId, 103);
    const visitor = await sessionIdShown(page);
    assert.equal(view.sessionExternalId, visitor);
    const direct = (await mockRequests(env.stack.mockUrl, "/1.0/event/")).filter((r) => r.query.sessionExternalId === visitor);
    assert.deepEqual(direct, [], "no direct event in relay mode");
    assert.ok(pageRequests.some((r) => r.includes("/rr/visitorEvents")));
    assert.ok(pageRequests.every((r) => !r.includes(env.stack.apiKey)), "the page never sees the key");
    await waitFor(async () => (await page.locator("#log").textContent()).includes("apptracking"));
    assert.ok(!(await page.locator("#log").textContent()).includes(env.stack.apiKey), "the log masks the key");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("demo storefront: rr.session in the header, Notify me on an out-of-stock card, a price-drop alert, and the e-mail landing link", async () => {
  env.stack.mock.reset();
  const context = await env.browser.browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    assert.equal(await openDemo(page, env.stack.demoUrl), "true");

    // The header shows Retail Rocket's session once the handshake answered: the one events carry.
    const session = await waitFor(async () => {
      const text = (await page.locator("#rr-session").textContent()).trim();
      return /^[0-9a-f]{24}$/.test(text) && text;
    }, { message: "the header shows the 24-hex Retail Rocket session" });
    assert.equal(session, await page.evaluate(() => window.demo.rr.session));
    const pageView = await recorded(eventPath("pageView"));
    assert.equal(pageView.query.session, session);

    // Notify me needs an address: without one it asks for it and sends nothing.
    const card = page.locator('#grid .card[data-item-id="103"]');
    assert.equal(await card.locator(".stock-note").textContent(), "Out of stock");
    assert.equal(await card.locator("button.primary").count(), 0, "no basket button on an out-of-stock card");
    await card.locator("button.notify").click();
    await waitFor(async () => /Enter your email/.test(await page.locator("#toasts").textContent()), { message: "the shopper is asked for an email" });
    await page.locator("#email").fill("shopper@example.com");
    await card.locator("button.notify").click();
    const back = await recorded(`/1.0/partner/${PARTNER_ID}/subscribe/backinstock`);
    assert.deepEqual([back.query.email, back.query.itemId], ["shopper@example.com", "103"]);
    const backs = await mockRequests(env.stack.mockUrl, `/1.0/partner/${PARTNER_ID}/subscribe/backinstock`);
    assert.equal(backs.length, 1, "the click without an email sent nothing");
    assert.equal(await page.locator("#product-panel").isHidden(), true, "Notify me does not open the product");

    // A price-drop alert on the open product, at the price shown.
    await page.locator('#grid .card[data-item-id="104"] h3').click();
    await page.locator("#product-detail button.price-drop").click();
    const drop = await recorded(`/1.0/partner/${PARTNER_ID}/subscribe/pricedrop`);
    assert.equal(drop.query.email, "shopper@example.com");
    assert.match(drop.rawQuery, new RegExp(`(^|&)items\\[0\\]\\.ItemId=104&items\\[0\\]\\.Price=${findProduct(104).Price}(&|$)`));

    // The landing link: a page load from an e-mail sends emailclick and setEmail by itself.
    await page.locator("#mail-landing").click();
    await page.waitForURL(/MailTrackingId=demo-mail-1/);
    await page.waitForFunction(() => document.documentElement.dataset.ready, null, { timeout: 15000 });
    const click = await recorded(eventPath("emailclick", "demo-mail-1"));
    assert.equal(click.query.utm_source, "retailrocket");
    const setEmail = await recorded(eventPath("setEmail"), { ok: (r) => r.status === 200 && r.query["d.name"] === "Demo Shopper" });
    assert.equal(setEmail.query.email, "shopper@example.com");
    assert.equal(click.query.session, session, "the same visitor after the landing");
    await waitFor(async () => (await mockRequests(env.stack.mockUrl, eventPath("pageView"))).length === 2, { message: "one pageView per page load" });

    assert.deepEqual(await (await fetch(`${env.stack.mockUrl}/__flagged`)).json(), []);
    assert.deepEqual(errors, [], "no console errors or page errors");
  } finally {
    await context.close();
  }
});
