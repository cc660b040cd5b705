// End-to-end: every tracking method in headless Chromium against the strict mock Retail Rocket,
// identity persistence across reloads and browser restarts, and the secret guard.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { PARTNER_ID, launchBrowser, mockRequests, removeDir, tempProfileDir, useStack, waitFor } from "./harness.mjs";
import { call, createTracker, openTestPage, reloadTestPage } from "./page.mjs";

const env = useStack({
  beforeClose: async () => {
    // Whatever the tests did, nothing that crossed the wire carried a secret.
    const all = await mockRequests(env.stack.mockUrl);
    for (const r of all) {
      assert.equal(r.flagged, null, `${r.method} ${r.path} was flagged: ${r.flagged}`);
      const keys = Object.keys(r.query).map((k) => k.toLowerCase());
      assert.ok(!keys.includes("apikey"), `${r.path} carries apiKey`);
      for (const h of ["authorization", "x-api-key", "x-authorization"]) {
        assert.equal(r.headers[h], undefined, `${r.path} carries ${h}`);
      }
    }
  },
});

beforeEach(() => env.stack.mock.reset());

// The events the tests make (the automatic pageView of each page load has tests of its own).
const events = async () =>
  (await mockRequests(env.stack.mockUrl, "/1.0/event/")).filter(
    (r) => !r.path.includes("/initialize/") && !r.path.includes("/pageView/"),
  );

async function freshTracker(extra) {
  const context = await env.browser.browser.newContext();
  const page = await openTestPage(context, env.stack.demoUrl);
  const created = await createTracker(page, env.stack.mockUrl, extra);
  assert.ok(created.ok, JSON.stringify(created));
  return { context, page, id: created.sessionExternalId };
}

test("every rrApi method reaches the mock in Retail Rocket's wire format", async () => {
  const { context, page, id } = await freshTracker({ stockId: "msk" });
  assert.match(id, /^[0-9a-f]{32}$/);
  const calls = [
    ["view", 101],
    ["view", "102", { stockId: "spb" }],
    ["groupView", [103, "104"]],
    ["addToBasket", 105],
    ["removeFromBasket", 105],
    ["categoryView", 2],
    ["categoryView", "Women/Clothing/Skirts"],
    ["search", "red skirt"],
    ["setEmail", "shopper@example.com", { isAgreedToReceiveMarketingMail: false }],
    ["recomMouseDown", 106, { methodName: "popular" }],
    ["recomAddToCart", 107, { methodName: "related" }],
  ];
  for (const [method, ...args] of calls) assert.equal(await call(page, method, ...args), true, method);
  await page.evaluate(() => window.rr.flush());

  const sent = await waitFor(async () => {
    const r = await events();
    return r.length === calls.length && r;
  }, { message: "all events recorded" });
  const init = (await mockRequests(env.stack.mockUrl, `/1.0/event/initialize/${PARTNER_ID}`))[0];
  assert.equal(init.query.session, undefined, "a first visit offers no session candidate");
  const minted = JSON.parse(init.response ?? "null")?.sessionId ?? sent[0].query.session;
  assert.match(minted, /^[0-9a-f]{24}$/);

  const pid = PARTNER_ID;
  const expected = [
    ["GET", `/1.0/event/view/${pid}/101`, { stockId: "msk" }],
    ["GET", `/1.0/event/view/${pid}/102`, { stockId: "spb" }],
    ["POST", `/1.0/event/groupView/${pid}`, { stockId: "msk" }],
    ["GET", `/1.0/event/addToBasket/${pid}/105`, { stockId: "msk" }],
    ["GET", `/1.0/event/removeFromBasket/${pid}/105`, {}],
    ["GET", `/1.0/event/categoryView/${pid}/2`, {}],
    ["GET", `/1.0/event/categoryView/${pid}`, { categoryPath: "Women/Clothing/Skirts" }],
    ["GET", `/1.0/event/search/${pid}`, { searchPhrase: "red skirt" }],
    ["GET", `/1.0/event/setEmail/${pid}`, { email: "shopper@example.com", isAgreedToReceiveMarketingMail: "false" }],
    ["GET", `/1.0/event/recomMouseDown/${pid}/106`, { suggestMethod: "popular", suggester: "widget" }],
    ["GET", `/1.0/event/recomAddToBasket/${pid}/107`, { suggestMethod: "related", suggester: "widget" }],
  ];
  sent.forEach((r, i) => {
    const [method, path, query] = expected[i];
    assert.equal(`${r.method} ${r.path}`, `${method} ${path}`, `request ${i} in call order`);
    assert.equal(r.status, 200, `${path} accepted by the strict mock`);
    assert.equal(r.query.session, minted);
    assert.equal(r.query.sessionExternalId, id);
    for (const [k, v] of Object.entries(query)) assert.equal(r.query[k], v, `${path} ${k}`);
  });
  assert.deepEqual(JSON.parse(sent[2].body), { productIds: [103, 104] });
  assert.equal(await page.evaluate(() => window.rr.pending), 0);
  assert.deepEqual(await page.evaluate(() => window.rrErrors), []);
  await context.close();
});

test("an order becomes one request per distinct product with summed quantities", async () => {
  const { context, page } = await freshTracker();
  const order = {
    transaction: "T-1001",
    items: [
      { id: 101, qnt: 1, price: 19.9 },
      { id: 102, price: "5" },
      { id: 101, qnt: 2, price: 19.9 },
    ],
  };
  assert.equal(await call(page, "order", order), true);
  await page.evaluate(() => window.rr.flush());
  const lines = await waitFor(async () => {
    const r = await events();
    return r.length === 2 && r;
  }, { message: "two order lines" });
  assert.deepEqual(
    lines.map((r) => [r.path, r.query.transaction, r.query.qnt, r.query.price, r.status]),
    [
      [`/1.0/event/order/${PARTNER_ID}/101`, "T-1001", "3", "19.9", 200],
      [`/1.0/event/order/${PARTNER_ID}/102`, "T-1001", "1", "5", 200],
    ],
  );
  await context.close();
});

test("any view within 60 s after a recommendation click credits it, as tracking.js does", async () => {
  const { context, page } = await freshTracker();
  await call(page, "recomMouseDown", 108, { methodName: "alternative" });
  await reloadTestPage(page); // the click usually navigates to the product page
  await createTracker(page, env.stack.mockUrl);
  await call(page, "view", 108);
  await call(page, "view", 109);
  await page.evaluate(() => window.rr.flush());
  const views = await waitFor(async () => {
    const r = (await events()).filter((e) => e.path.includes("/view/"));
    return r.length === 2 && r;
  });
  assert.equal(views[0].query.recomItemId, "108");
  assert.equal(views[1].query.recomItemId, "108", "a view of another product is credited too");
  await context.close();
});

test("invalid calls return false, send nothing and say what was wrong", async () => {
  const { context, page } = await freshTracker({ pageView: false });
  const bad = [
    ["view", "abc"],
    ["view", 0],
    ["view", 9007199254740992],
    ["groupView", []],
    ["categoryView", "Women//Skirts"],
    ["search", "x".repeat(501)],
    ["order", { transaction: "T", items: [{ id: 1, qnt: 1, price: -5 }] }],
    ["order", { items: [{ id: 1, price: 5 }] }],
    ["setEmail", "not-an-email"],
    ["addToBasket", 101, { stockId: 42 }],
  ];
  for (const [method, ...args] of bad) assert.equal(await call(page, method, ...args), false, `${method} ${JSON.stringify(args)}`);
  const errors = await page.evaluate(() => window.rrErrors);
  assert.equal(errors.length, bad.length);
  assert.ok(errors.every((e) => e.code === "invalid_argument"));
  assert.deepEqual(errors[0], {
    code: "invalid_argument",
    method: "view",
    argument: "productId",
    message:
      'view(): `productId` must be an integer from 1 to 9007199254740991 (a number or a string of digits), got "abc"; nothing was sent',
  });
  assert.equal(errors[6].argument, "order.items[0].price");
  assert.equal(errors[7].argument, "order.transaction");
  assert.equal(await page.evaluate(() => window.rr.pending), 0);
  await page.waitForTimeout(300);
  assert.deepEqual(await mockRequests(env.stack.mockUrl), [], "nothing reached the wire");
  await context.close();
});

test("the id and the Retail Rocket session survive a reload", async () => {
  const { context, page, id } = await freshTracker();
  await call(page, "view", 101);
  await page.evaluate(() => window.rr.flush());
  const minted = (await events())[0].query.session;
  await reloadTestPage(page);
  const again = await createTracker(page, env.stack.mockUrl);
  assert.equal(again.sessionExternalId, id);
  await call(page, "view", 102);
  await page.evaluate(() => window.rr.flush());
  await waitFor(async () => (await events()).length === 2);
  const sent = await events();
  assert.equal(sent[1].query.session, minted, "the stored session is used at once");
  const inits = await waitFor(async () => {
    const r = await mockRequests(env.stack.mockUrl, "/1.0/event/initialize/");
    return r.length === 2 && r;
  }, { message: "one handshake per page load" });
  assert.equal(inits[0].query.session, undefined);
  assert.equal(inits[1].query.session, minted, "the second page load offers the stored session");
  await context.close();
});

test("the id survives a browser restart on the same profile", async () => {
  const profile = await tempProfileDir();
  try {
    const ids = [];
    for (let run = 0; run < 2; run++) {
      const b = await launchBrowser({ userDataDir: profile });
      const page = await openTestPage(b.context, env.stack.demoUrl);
      const created = await createTracker(page, env.stack.mockUrl);
      ids.push(created.sessionExternalId);
      await b.close();
    }
    assert.match(ids[0], /^[0-9a-f]{32}$/);
    assert.equal(ids[1], ids[0]);
  } finally {
    await removeDir(profile);
  }
});

test("a native app's id is used, persisted, and wins over the stored one", async () => {
  const { context, page, id } = await freshTracker();
  const app = await createTracker(page, env.stack.mockUrl, { sessionExternalId: "F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6" });
  assert.equal(app.sessionExternalId, "F81D4FAE7DEC11D0A76500A0C91E6BF6");
  assert.notEqual(app.sessionExternalId, id);
  const later = await createTracker(page, env.stack.mockUrl);
  assert.equal(later.sessionExternalId, "F81D4FAE7DEC11D0A76500A0C91E6BF6");
  await context.close();
});

test("a config carrying a secret is refused before anything is sent", async () => {
  const { context, page } = await freshTracker({ pageView: false });
  await env.stack.mock.reset();
  for (const key of ["apiKey", "apikey", "X-API-KEY", "Authorization", "token", "secret", "key"]) {
    const result = await createTracker(page, env.stack.mockUrl, { [key]: "s3cr3t-value" });
    assert.equal(result.error?.name, "TypeError", key);
    assert.equal(result.error.code, "config_secret", key);
    assert.match(result.error.message, /secret/);
    assert.match(result.error.message, /server/);
  }
  const plain = await createTracker(page, "http://tracking.example.com");
  assert.equal(plain.error?.code, "config_invalid", "plain http to a remote host is refused");
  await page.waitForTimeout(200);
  assert.deepEqual(await mockRequests(env.stack.mockUrl), []);
  await context.close();
});

test("calls made before the module is ready are kept and replayed in order", async () => {
  const context = await env.browser.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${env.stack.demoUrl}/blank.html`);
  const before = await page.evaluate(
    async ([mockUrl, partnerId]) => {
      const { default: init, Tracker } = await import("/pkg/index.js"); // the package entry
      const rr = new Tracker({ partnerId, trackingUrl: mockUrl, apiUrl: mockUrl });
      const accepted = [rr.view(101), rr.addToBasket(101), rr.search("early bird")];
      const pending = rr.pending;
      window.rr = rr;
      await init();
      return { accepted, pending };
    },
    [env.stack.mockUrl, PARTNER_ID],
  );
  assert.deepEqual(before, { accepted: [true, true, true], pending: 3 });
  await page.evaluate(() => window.rr.flush());
  const sent = await waitFor(async () => {
    const r = await events();
    return r.length === 3 && r;
  }, { message: "the three early calls arrived" });
  assert.deepEqual(
    sent.map((r) => r.path.split("/")[3]),
    ["view", "addToBasket", "search"],
  );
  assert.match(await page.evaluate(() => window.rr.sessionExternalId), /^[0-9a-f]{32}$/);
  await context.close();
});
