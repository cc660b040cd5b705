// Tests of the mock itself: real HTTP on 127.0.0.1 through global fetch.
// Run: node --test tests/mock/

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { NEWEST_FIRST, POPULARITY_RANK, products } from "./catalogue.mjs";
import { startMock } from "./server.mjs";

const PID = "0123456789abcdef01234567";
const RR_SESSION = "5f0c1e2d3a4b5c6d7e8f9a0b"; // shaped as the tracking host issues them
const SESSION = `session=${RR_SESSION}&sessionExternalId=ext456`;
const REC = `/api/2.0/recommendation`;

let mock;
before(async () => {
  mock = await startMock();
});
after(() => mock.close());
beforeEach(() => mock.reset());

const call = (path, init) => fetch(mock.url + path, init);
async function json(path, init) {
  const res = await call(path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
}
const event = (name, id, extra = "") => `/1.0/event/${name}/${PID}${id === undefined ? "" : "/" + id}?${SESSION}${extra}`;
const groupView = (body, contentType = "application/json", extra = "") =>
  [event("groupView", undefined, extra), { method: "POST", headers: { "Content-Type": contentType }, body }];
const ids = (items) => items.map((item) => item.ItemId);
const available = (rank) => rank.filter((id) => products.find((p) => p.ItemId === id).IsAvailable);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

describe("catalogue", () => {
  it("has 12 PascalCase products in 3 categories with sales and unavailable items", () => {
    assert.deepEqual(ids(products), [101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112]);
    const fields = ["ItemId", "Name", "Price", "OldPrice", "PictureUrl", "Url", "Vendor", "Model", "TypePrefix", "Description",
      "CategoryIds", "CategoryNames", "CategoryPathsToRoot", "Params", "GroupId", "StockId", "IsAvailable"];
    for (const item of products) assert.deepEqual(Object.keys(item), fields);
    assert.deepEqual([...new Set(products.flatMap((p) => p.CategoryIds))].sort(), [1, 2, 3]);
    assert.ok(products.some((p) => p.OldPrice > p.Price));
    assert.ok(products.some((p) => !p.IsAvailable));
    assert.ok(products.every((p) => p.Url.startsWith("https://shop.example/")));
  });
});

describe("tracking: initialize", () => {
  it("keeps a candidate the host could have issued (24 hex)", async () => {
    const res = await json(`/1.0/event/initialize/${PID}?session=${RR_SESSION}&_nocache=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { sessionId: RR_SESSION });
  });

  it("mints a new 24-hex session, with its creation time inside, for a missing or foreign candidate", async () => {
    const foreign = ["", "?session=", "?session=not-valid!", "?session=Abc123", `?session=${"a".repeat(32)}`,
      `?session=${RR_SESSION.toUpperCase()}`, `?session=${RR_SESSION}0`, `?session=${"a".repeat(65)}`];
    const seen = new Set();
    for (const query of foreign) {
      const res = await json(`/1.0/event/initialize/${PID}${query}`);
      assert.equal(res.status, 200, query);
      assert.match(res.body.sessionId, /^[0-9a-f]{24}$/, query);
      assert.ok(Math.abs(parseInt(res.body.sessionId.slice(0, 8), 16) - Date.now() / 1000) < 60, "an ObjectId's time prefix");
      seen.add(res.body.sessionId);
    }
    assert.equal(seen.size, foreign.length, "every minted session is new");
  });

  it("answers with CORS that lets the page send its cookies", async () => {
    const res = await call(`/1.0/event/initialize/${PID}`, { headers: { Origin: "http://127.0.0.1:5555" } });
    assert.equal(res.headers.get("access-control-allow-origin"), "http://127.0.0.1:5555");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
  });

  it("rejects a bad partnerId and records the request", async () => {
    const res = await json(`/1.0/event/initialize/ABCDEF0123456789abcdef01`);
    assert.equal(res.status, 400);
    assert.match(res.body.error, /partnerId/);
    assert.equal(mock.requests()[0].status, 400);
  });
});

describe("tracking: events happy paths", () => {
  const cases = [
    ["view", event("view", 101)],
    ["view with recomItemId and stockId", event("view", 101, "&recomItemId=104&stockId=msk")],
    ["addToBasket", event("addToBasket", 102, "&stockId=spb")],
    ["removeFromBasket", event("removeFromBasket", 102)],
    ["recomMouseDown", event("recomMouseDown", 104, "&suggester=widget&suggestMethod=popular")],
    ["recomAddToBasket", event("recomAddToBasket", 104, "&suggester=widget&suggestMethod=related")],
    ["order", event("order", 105, "&transaction=T-1&qnt=2&price=79.5&email=a%40b.c")],
    ["order with price 0 (a gift)", event("order", 105, "&transaction=T-1&qnt=1&price=0")],
    ["order with a fractional quantity (sold by weight)", event("order", 105, "&transaction=T-1&qnt=0.5&price=12.4")],
    ["order with a 51-character transaction", event("order", 105, `&transaction=${"t".repeat(51)}&qnt=1&price=1`)],
    ["categoryView by id", event("categoryView", 1)],
    ["categoryView by path", event("categoryView", undefined, "&categoryPath=Women%2FClothing%2FSkirts")],
    ["search", event("search", undefined, "&searchPhrase=skirt")],
    ["search with 200 characters and an email", event("search", undefined, `&searchPhrase=${"s".repeat(200)}&email=a%40b.c`)],
    ["setEmail", event("setEmail", undefined, "&email=shopper%40example.com&isAgreedToReceiveMarketingMail=false&d.city=Oslo")],
    ["setEmail with basket, viewed and array custom data", event("setEmail", undefined,
      "&email=a%40b.c&isAgreedToReceiveMarketingMail=true&basket=101%2C102&viewed=103&d.tags=a%20b,c&d.name=Ann")],
    ["setEmail with 10 viewed", event("setEmail", undefined, `&email=a%40b.c&isAgreedToReceiveMarketingMail=true&viewed=${Array.from({ length: 10 }, (_, i) => 101 + i).join("%2C")}`)],
    ["pageView with extra params", event("pageView", undefined, "&pageUrl=https%3A%2F%2Fshop.example%2F&referrer=&_nocache=123")],
    ["pageView with the page context", event("pageView", undefined,
      "&pvid=012345678901234&pageUrl=http%3A%2F%2F127.0.0.1%3A8080%2Fp%3Fx%3D1&referrer=https%3A%2F%2Fsearch.example%2F&_no_cache_=1")],
    ["recomTrack", event("recomTrack", undefined, "&suggestMethod=popular&recomms=101%2C102&to=101%2C102")],
    ["recomTrack of one item", event("recomTrack", undefined, "&suggestMethod=related&recomms=101&to=101")],
    ["emailclick", event("emailclick", "a1B2-c3_d4", "&rr_mailid=a1B2-c3_d4&utm_source=rr&rr_urlType=item&d.segment=vip")],
    ["emailclick with nothing but the id", event("emailclick", "abc")],
    ["max safe id", event("view", "9007199254740991")],
  ];
  for (const [name, path] of cases) {
    it(name, async () => {
      const res = await json(path);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { ok: true });
    });
  }

  it("groupView accepts application/json and text/plain bodies", async () => {
    for (const type of ["application/json", "text/plain;charset=UTF-8"]) {
      const res = await json(...groupView(JSON.stringify({ productIds: [101, 102] }), type, "&stockId=msk&recomItemId=104"));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { ok: true });
    }
    const [first] = mock.requests();
    assert.equal(first.method, "POST");
    assert.equal(first.body, '{"productIds":[101,102]}');
    assert.equal(first.headers["content-type"], "application/json");
  });
});

describe("tracking: 400 rules", () => {
  const long51 = "a".repeat(51);
  const cases = [
    ["partnerId with upper case", `/1.0/event/view/0123456789ABCDEF01234567/101?${SESSION}`, /partnerId/],
    ["partnerId too short", `/1.0/event/view/0123456789abcdef/101?${SESSION}`, /partnerId/],
    ["unknown event", event("wishlist", 101), /unknown event/],
    ["event name is case-sensitive", event("View", 101), /unknown event/],
    ["view without id", event("view"), /needs an id/],
    ["order without id", event("order", undefined, "&transaction=T&qnt=1&price=1"), /needs an id/],
    ["id with leading zero", event("view", "0101"), /leading zeros/],
    ["id zero", event("view", "0"), /id in the path/],
    ["id above 2^53-1", event("view", "9007199254740992"), /9007199254740991/],
    ["id not digits", event("view", "12a"), /id in the path/],
    ["id on pageView", event("pageView", 5), /takes no id/],
    ["id on search", event("search", 5, "&searchPhrase=x"), /takes no id/],
    ["missing session", `/1.0/event/view/${PID}/101?sessionExternalId=ext`, /"session" is required/],
    ["session with a dash", `/1.0/event/view/${PID}/101?session=a-b&sessionExternalId=ext`, /"session" is invalid/],
    ["session of 65 chars", `/1.0/event/view/${PID}/101?session=${"a".repeat(65)}&sessionExternalId=ext`, /"session"/],
    ["missing sessionExternalId", `/1.0/event/view/${PID}/101?session=${RR_SESSION}`, /"sessionExternalId" is required/],
    ["sessionExternalId of 51 chars", `/1.0/event/view/${PID}/101?session=${RR_SESSION}&sessionExternalId=${long51}`, /"sessionExternalId" is invalid/],
    ["empty stockId", event("view", 101, "&stockId="), /"stockId"/],
    ["stockId of 51 chars", event("addToBasket", 101, `&stockId=${long51}`), /"stockId"/],
    ["invalid recomItemId", event("view", 101, "&recomItemId=abc"), /"recomItemId"/],
    ["order without transaction", event("order", 101, "&qnt=1&price=10"), /"transaction" is required/],
    ["order with a transaction over the URL-sanity bound", event("order", 101, `&transaction=${"t".repeat(2001)}&qnt=1&price=10`), /"transaction"/],
    ["order qnt 0", event("order", 101, "&transaction=T&qnt=0&price=10"), /"qnt"/],
    ["order qnt negative", event("order", 101, "&transaction=T&qnt=-0.5&price=10"), /"qnt"/],
    ["order qnt Infinity", event("order", 101, "&transaction=T&qnt=Infinity&price=10"), /"qnt"/],
    ["order qnt not a number", event("order", 101, "&transaction=T&qnt=two&price=10"), /"qnt"/],
    ["order without qnt", event("order", 101, "&transaction=T&price=10"), /"qnt"/],
    ["order without price", event("order", 101, "&transaction=T&qnt=1"), /"price"/],
    ["order price -0.01", event("order", 101, "&transaction=T&qnt=1&price=-0.01"), /"price"/],
    ["order with a bad email", event("order", 101, "&transaction=T&qnt=1&price=1&email=nobody"), /"email"/],
    ["order price negative", event("order", 101, "&transaction=T&qnt=1&price=-5"), /"price"/],
    ["order price not a number", event("order", 101, "&transaction=T&qnt=1&price=abc"), /"price"/],
    ["order price Infinity", event("order", 101, "&transaction=T&qnt=1&price=Infinity"), /"price"/],
    ["categoryView without id or path", event("categoryView"), /"categoryPath" is required/],
    ["categoryView with empty path", event("categoryView", undefined, "&categoryPath="), /"categoryPath"/],
    ["categoryView with an empty segment", event("categoryView", undefined, "&categoryPath=Women%2F%2FSkirts"), /"categoryPath"/],
    ["categoryView with a trailing slash", event("categoryView", undefined, "&categoryPath=Women%2F"), /"categoryPath"/],
    ["search without phrase", event("search"), /"searchPhrase" is required/],
    ["search with blank phrase", event("search", undefined, "&searchPhrase=%20%20"), /"searchPhrase"/],
    ["search over the URL-sanity bound", event("search", undefined, `&searchPhrase=${"s".repeat(2001)}`), /"searchPhrase"/],
    ["search with a bad email", event("search", undefined, "&searchPhrase=x&email=a%40"), /"email"/],
    ["setEmail without email", event("setEmail"), /"email" is required/],
    ["setEmail without @", event("setEmail", undefined, "&email=nobody"), /"email"/],
    ["setEmail with two @", event("setEmail", undefined, "&email=a%40b%40c"), /"email"/],
    ["setEmail with nothing before @", event("setEmail", undefined, "&email=%40b.c"), /"email"/],
    ["setEmail with a bad consent flag", event("setEmail", undefined, "&email=a%40b.c&isAgreedToReceiveMarketingMail=yes"), /isAgreedToReceiveMarketingMail/],
    ["setEmail without the consent flag", event("setEmail", undefined, "&email=a%40b.c"), /"isAgreedToReceiveMarketingMail" is required/],
    ["setEmail with a raw comma in basket", event("setEmail", undefined, "&email=a%40b.c&isAgreedToReceiveMarketingMail=true&basket=101,102"), /"basket".*%2C/],
    ["setEmail with a bad id in viewed", event("setEmail", undefined, "&email=a%40b.c&isAgreedToReceiveMarketingMail=true&viewed=101%2Cx"), /"viewed"/],
    ["setEmail with 11 viewed", event("setEmail", undefined, `&email=a%40b.c&isAgreedToReceiveMarketingMail=true&viewed=${Array.from({ length: 11 }, (_, i) => 101 + i).join("%2C")}`), /at most 10/],
    ["setEmail with an empty custom data key", event("setEmail", undefined, "&email=a%40b.c&isAgreedToReceiveMarketingMail=true&d.=x"), /no key/],
    ["session not issued by the host (32 hex)", `/1.0/event/view/${PID}/101?session=${"a".repeat(32)}&sessionExternalId=ext`, /"session" is invalid.*24/],
    ["session in upper case", `/1.0/event/view/${PID}/101?session=${RR_SESSION.toUpperCase()}&sessionExternalId=ext`, /"session" is invalid/],
    ["pvid of 14 digits", event("pageView", undefined, "&pvid=01234567890123"), /"pvid"/],
    ["pvid with a letter", event("view", 101, "&pvid=01234567890123a"), /"pvid"/],
    ["pageUrl not absolute", event("pageView", undefined, "&pageUrl=%2Fproduct%2F1"), /"pageUrl"/],
    ["pageUrl of another scheme", event("pageView", undefined, "&pageUrl=javascript%3Aalert(1)"), /"pageUrl"/],
    ["referrer not a URL", event("view", 101, "&referrer=somewhere"), /"referrer"/],
    ["recomTrack without suggestMethod", event("recomTrack", undefined, "&recomms=101&to=101"), /"suggestMethod"/],
    ["recomTrack without recomms", event("recomTrack", undefined, "&suggestMethod=popular&to=101"), /"recomms" is required/],
    ["recomTrack with a raw comma", event("recomTrack", undefined, "&suggestMethod=popular&recomms=101,102&to=101%2C102"), /"recomms".*%2C/],
    ["recomTrack without to", event("recomTrack", undefined, "&suggestMethod=popular&recomms=101"), /"to" is required/],
    ["recomTrack with to other than recomms", event("recomTrack", undefined, "&suggestMethod=popular&recomms=101%2C102&to=999"), /repeat "recomms"/],
    ["recomTrack with an id in the path", event("recomTrack", 101, "&suggestMethod=popular&recomms=101&to=101"), /takes no id/],
    ["emailclick without its id", event("emailclick"), /MailTrackingId/],
    ["emailclick with a space in its id", event("emailclick", "a%20b"), /MailTrackingId/],
    ["emailclick with an empty custom data key", event("emailclick", "abc", "&d.=1"), /no key/],
    ["groupView with GET", event("groupView"), /POST/],
    ["malformed percent-encoding in the query", event("view", 101, "&pageUrl=%E0%A4%A"), /malformed/],
    ["malformed percent-encoding in the path", `/1.0/event/view/${PID}/%zz?${SESSION}`, /malformed/],
  ];
  for (const [name, path, message] of cases) {
    it(name, async () => {
      const res = await json(path);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, message);
    });
  }

  const bodyCases = [
    ["wrong content type", groupView('{"productIds":[1]}', "application/x-www-form-urlencoded"), /Content-Type/],
    ["missing content type", [event("groupView"), { method: "POST", body: new Uint8Array(Buffer.from('{"productIds":[1]}')) }], /Content-Type/],
    ["bad JSON", groupView("{productIds:[1]"), /not valid JSON/],
    ["empty body", groupView(""), /empty/],
    ["productIds not an array", groupView('{"productIds":"1,2"}'), /productIds/],
    ["body is an array", groupView("[1,2]"), /productIds/],
    ["no ids", groupView('{"productIds":[]}'), /1-100/],
    ["101 ids", groupView(JSON.stringify({ productIds: Array.from({ length: 101 }, (_, i) => i + 1) })), /1-100/],
    ["id as string", groupView('{"productIds":["101"]}'), /JSON integer/],
    ["id zero", groupView('{"productIds":[0]}'), /JSON integer/],
    ["fractional id", groupView('{"productIds":[1.5]}'), /JSON integer/],
    ["missing session", [`/1.0/event/groupView/${PID}?sessionExternalId=x`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"productIds":[1]}' }], /"session"/],
  ];
  for (const [name, args, message] of bodyCases) {
    it(`groupView: ${name}`, async () => {
      const res = await json(...args);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, message);
    });
  }

  it("answers 405 for POST on a GET event", async () => {
    const res = await json(event("view", 101), { method: "POST", body: "{}" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET");
  });
});

describe("tracking: subscriptions (/1.0/partner/{pid}/subscribe/*)", () => {
  const sub = (kind, extra = "", pid = PID) => `/1.0/partner/${pid}/subscribe/${kind}?${SESSION}&email=a%40b.c${extra}`;
  const good = [
    ["welcomesequence", sub("welcomesequence")],
    ["welcomesequence with the page context", sub("welcomesequence", "&pvid=123456789012345&pageUrl=https%3A%2F%2Fshop.example%2F&referrer=&_no_cache_=5")],
    ["backinstock", sub("backinstock", "&itemId=110")],
    ["backinstock with a stock", sub("backinstock", "&itemId=110&stockId=msk")],
    ["pricedrop, one item", sub("pricedrop", "&items[0].ItemId=101&items[0].Price=49.9")],
    ["pricedrop, two items, price 0", sub("pricedrop", "&items[0].ItemId=101&items[0].Price=49.9&items[1].ItemId=102&items[1].Price=0")],
  ];
  for (const [name, path] of good) {
    it(name, async () => {
      const res = await json(path);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { ok: true });
    });
  }

  const bad = [
    ["unknown kind", sub("newsletter"), /unknown subscription/],
    ["kind in the wrong case", sub("welcomeSequence"), /unknown subscription/],
    ["bad partnerId", sub("welcomesequence", "", "nothex"), /partnerId/],
    ["without email", `/1.0/partner/${PID}/subscribe/welcomesequence?${SESSION}`, /"email" is required/],
    ["bad email", `/1.0/partner/${PID}/subscribe/welcomesequence?${SESSION}&email=x`, /"email"/],
    ["without session", `/1.0/partner/${PID}/subscribe/welcomesequence?sessionExternalId=e&email=a%40b.c`, /"session" is required/],
    ["without sessionExternalId", `/1.0/partner/${PID}/subscribe/welcomesequence?session=${RR_SESSION}&email=a%40b.c`, /"sessionExternalId" is required/],
    ["bad pvid", sub("welcomesequence", "&pvid=1"), /"pvid"/],
    ["backinstock without itemId", sub("backinstock"), /"itemId"/],
    ["backinstock with a bad itemId", sub("backinstock", "&itemId=01"), /"itemId"/],
    ["backinstock with a 51-character stockId", sub("backinstock", `&itemId=1&stockId=${"s".repeat(51)}`), /"stockId"/],
    ["pricedrop without items", sub("pricedrop"), /at least one item/],
    ["pricedrop with encoded brackets", sub("pricedrop", "&items%5B0%5D.ItemId=101&items%5B0%5D.Price=1"), /encoded brackets/],
    ["pricedrop without a price", sub("pricedrop", "&items[0].ItemId=101"), /incomplete/],
    ["pricedrop with a gap", sub("pricedrop", "&items[0].ItemId=101&items[0].Price=1&items[2].ItemId=102&items[2].Price=1"), /item 1 is incomplete/],
    ["pricedrop with an unknown item field", sub("pricedrop", "&items[0].ItemId=101&items[0].Price=1&items[0].Name=x"), /not an item field/],
    ["pricedrop with a negative price", sub("pricedrop", "&items[0].ItemId=101&items[0].Price=-1"), /"items\[0\]\.Price"/],
    ["pricedrop with a bad id", sub("pricedrop", "&items[0].ItemId=abc&items[0].Price=1"), /"items\[0\]\.ItemId"/],
  ];
  for (const [name, path, message] of bad) {
    it(`400: ${name}`, async () => {
      const res = await json(path);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, message);
    });
  }

  it("answers 405 for POST", async () => {
    const res = await json(sub("welcomesequence"), { method: "POST", body: "{}" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET");
  });
});

describe("cookies: initialize with the page's cookies, tracking calls without", () => {
  const init = (query = "") => `/1.0/event/initialize/${PID}${query}`;
  const withCookie = (cookie) => ({ headers: { Cookie: cookie } });
  const flags = async () => (await json("/__flagged")).body.map((r) => r.flagged);

  it("records each request's Cookie header", async () => {
    await call(init(`?session=${RR_SESSION}`), withCookie(`shop=1; rcuid=${RR_SESSION}`));
    await call(event("pageView"));
    const [first, second] = mock.requests();
    assert.equal(first.cookie, `shop=1; rcuid=${RR_SESSION}`);
    assert.equal(second.cookie, null);
  });

  it("a first visit (no candidate, no rcuid) and an adopted rcuid offered with its cookie pass", async () => {
    assert.equal((await call(init("?_nocache=1"))).status, 200);
    assert.equal((await call(init("?_nocache=1"), withCookie("shop=1"))).status, 200);
    assert.equal((await call(init(`?session=${RR_SESSION}`), withCookie(`rcuid=${RR_SESSION}; shop=1`))).status, 200);
    assert.deepEqual(await flags(), []);
  });

  const flagged = [
    ["a candidate without the rcuid cookie (no credentials)", init(`?session=${RR_SESSION}`), {}, /without the page's rcuid cookie/],
    ["the rcuid cookie but no candidate", init("?_nocache=1"), withCookie(`rcuid=${RR_SESSION}`), /offered no session: adopt rcuid/],
    ["a candidate other than the rcuid cookie", init(`?session=${"b".repeat(24)}`), withCookie(`rcuid=${RR_SESSION}`), /rcuid cookie holds/],
    ["an event with cookies", event("view", 101), withCookie("shop=1"), /without credentials/],
    ["groupView with cookies", groupView('{"productIds":[1]}')[0], { ...groupView('{"productIds":[1]}')[1], headers: { "Content-Type": "application/json", Cookie: "a=1" } }, /without credentials/],
    ["a subscription with cookies", `/1.0/partner/${PID}/subscribe/welcomesequence?${SESSION}&email=a%40b.c`, withCookie(`rcuid=${RR_SESSION}`), /without credentials/],
  ];
  for (const [name, path, init, reason] of flagged) {
    it(`flagged, still answered: ${name}`, async () => {
      const res = await json(path, init);
      assert.equal(res.status, 200, res.text);
      const all = await flags();
      assert.equal(all.length, 1);
      assert.match(all[0], reason);
      assert.match(all[0], /^cookie: /);
    });
  }

  it("recommendations and items may carry cookies", async () => {
    await call(`${REC}/popular/${PID}/?categoryIds=0&format=json`, withCookie("a=1"));
    await call(`/api/1.0/partner/${PID}/items/?itemsIds=101`, withCookie("a=1"));
    assert.deepEqual(await flags(), []);
  });

  it("behaviour rcuidCookie: false leaves rcuid out of the initialize rules, and reset() restores them", async () => {
    assert.equal(mock.behave({ rcuidCookie: false }).rcuidCookie, false);
    await call(init(`?session=${RR_SESSION}`));
    await call(init("?_nocache=1"), withCookie(`rcuid=${RR_SESSION}`));
    assert.deepEqual(await flags(), []);
    await call(event("view", 101), withCookie("a=1"));
    assert.equal((await flags()).length, 1, "events still go without cookies");
    mock.reset();
    assert.equal((await json("/__behaviour")).body.rcuidCookie, true);
    await call(init(`?session=${RR_SESSION}`));
    assert.equal((await flags()).length, 1);
    assert.equal((await json("/__behaviour", { method: "POST", body: '{"rcuidCookie":"no"}' })).status, 400);
  });
});

describe("recommendations (API 2.0)", () => {
  const rec = (algorithm, query, type) => `${REC}/${type ? type + "/" : ""}${algorithm}/${PID}/?${query}&format=json`;

  it("popular for the whole shop lists available items by popularity with Cache-Control", async () => {
    const res = await json(rec("popular", "categoryIds=0&session=abc"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("cache-control"), "max-age=60");
    assert.deepEqual(ids(res.body), available(POPULARITY_RANK));
    assert.ok(res.body.every((item) => item.IsAvailable));
  });

  it("popular filters by categoryIds and categoryPaths (prefix at a segment boundary)", async () => {
    assert.deepEqual(ids((await json(rec("popular", "categoryIds=3"))).body), [108, 109, 111]);
    assert.deepEqual(ids((await json(rec("popular", "categoryIds=1,3"))).body), [108, 101, 109, 102, 111, 112]);
    assert.deepEqual(ids((await json(rec("popular", "categoryPaths=Women%2FClothing%2FSkirts"))).body), [101, 102, 112]);
    assert.deepEqual(ids((await json(rec("popular", "categoryPaths=Women%2FClothing"))).body), [104, 101, 102, 105, 107, 112]);
    assert.deepEqual((await json(rec("popular", "categoryPaths=Women%2FCloth"))).body, []);
    assert.deepEqual((await json(rec("popular", "categoryIds=99"))).body, []);
  });

  it("latest orders newest first; sale algorithms only return discounted items", async () => {
    assert.deepEqual(ids((await json(rec("latest", "categoryIds=0"))).body), available(NEWEST_FIRST));
    const salePopular = (await json(rec("saleByPopular", "categoryIds=0"))).body;
    assert.deepEqual(ids(salePopular), [104, 109, 102, 107, 112]);
    assert.ok(salePopular.every((item) => item.OldPrice > item.Price));
    assert.deepEqual(ids((await json(rec("saleByLatest", "categoryIds=0"))).body), [112, 107, 102, 109, 104]);
  });

  it("alternative stays in the category, related/accessories leave it", async () => {
    assert.deepEqual(ids((await json(rec("alternative", "itemIds=101"))).body), [102, 112]);
    assert.deepEqual(ids((await json(rec("related", "itemIds=101,108"))).body), [104, 105, 107]);
    const accessories = (await json(rec("accessories", "itemIds=104"))).body;
    assert.deepEqual(ids(accessories), [102, 101, 112, 108, 111, 109]);
    assert.deepEqual((await json(rec("alternative", "itemIds=999"))).body, []);
  });

  it("search matches Name case-insensitively, with 'search' or 'Search'", async () => {
    assert.deepEqual(ids((await json(rec("search", "phrase=SKIRT"))).body), [101, 102, 112]);
    assert.deepEqual(ids((await json(rec("Search", "phrase=sneakers"))).body), [108, 109, 111]);
    assert.deepEqual((await json(rec("search", "phrase=banana"))).body, []);
  });

  it("personal and visitorinterest return a few items, deterministic per session", async () => {
    for (const algorithm of ["personal", "visitorinterest"]) {
      const first = (await json(rec(algorithm, "session=abc123"))).body;
      const again = (await json(rec(algorithm, "session=abc123"))).body;
      assert.ok(first.length >= 1 && first.length <= 4, algorithm);
      assert.deepEqual(first, again);
    }
  });

  it("accepts the {algorithmType}/{algorithm} form and an optional trailing slash", async () => {
    const typed = await json(rec("popular", "categoryIds=0&session=abc", "personalized"));
    assert.equal(typed.status, 200);
    const noSlash = await json(`${REC}/popular/${PID}?categoryIds=2&format=json`);
    assert.deepEqual(ids(noSlash.body), [104, 105, 107]);
  });

  it("stockId keeps items of that stock and items without a StockId", async () => {
    const all = ids((await json(rec("popular", "categoryIds=0"))).body);
    const msk = ids((await json(rec("popular", "categoryIds=0&stockId=msk"))).body);
    assert.ok(msk.includes(109) && msk.includes(112) && !msk.includes(111));
    assert.deepEqual(msk, all.filter((id) => id !== 111));
  });

  it("Cache-Control follows /__behaviour and resets", async () => {
    await json("/__behaviour", { method: "POST", body: JSON.stringify({ cacheControl: "no-store" }) });
    assert.equal((await call(rec("popular", "categoryIds=0"))).headers.get("cache-control"), "no-store");
    assert.equal((await call(`/api/1.0/partner/${PID}/items/?itemsIds=101`)).headers.get("cache-control"), "no-store");
    assert.equal((await call("/__behaviour", { method: "DELETE" })).status, 204);
    assert.equal((await call(rec("popular", "categoryIds=0"))).headers.get("cache-control"), "max-age=60");
  });

  const errors = [
    ["missing format", `${REC}/popular/${PID}/?categoryIds=0`, /"format"/],
    ["format=xml", `${REC}/popular/${PID}/?categoryIds=0&format=xml`, /"format"/],
    ["unknown algorithm", rec("bestsellers", "categoryIds=0"), /unknown recommendation algorithm/],
    ["algorithm case", rec("Popular", "categoryIds=0"), /unknown recommendation algorithm/],
    ["bad partnerId", `${REC}/popular/nothex/?categoryIds=0&format=json`, /partnerId/],
    ["popular without categories", rec("popular", "stockId=msk"), /categoryIds/],
    ["negative categoryIds", rec("latest", "categoryIds=-1"), /categoryIds/],
    ["categoryIds with a gap", rec("popular", "categoryIds=1,,2"), /categoryIds/],
    ["empty categoryPaths", rec("saleByPopular", "categoryPaths="), /categoryPaths/],
    ["alternative without itemIds", rec("alternative", "stockId=msk"), /"itemIds" is required/],
    ["related with a bad id", rec("related", "itemIds=101,abc"), /itemIds/],
    ["search without phrase", rec("search", "session=abc"), /"phrase"/],
    ["search with blank phrase", rec("search", "phrase=%20"), /"phrase"/],
    ["personal without session", rec("personal", "categoryIds=0"), /"session" is required/],
    ["visitorinterest with a bad session", rec("visitorinterest", "session=a-b"), /"session"/],
    ["stockId of 51 chars", rec("popular", `categoryIds=0&stockId=${"s".repeat(51)}`), /"stockId"/],
  ];
  for (const [name, path, message] of errors) {
    it(`400: ${name}`, async () => {
      const res = await json(path);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, message);
      assert.equal(res.headers.get("cache-control"), "no-store");
    });
  }
});

describe("items (API 1.0)", () => {
  it("returns known items in the requested order, skipping unknown ids", async () => {
    const res = await json(`/api/1.0/partner/${PID}/items/?itemsIds=110,999,101&stock=msk`);
    assert.equal(res.status, 200);
    assert.deepEqual(ids(res.body), [110, 101]);
    assert.equal(res.headers.get("cache-control"), "max-age=60");
    assert.deepEqual(res.body[1], products[0]);
  });

  it("rejects missing or invalid itemsIds", async () => {
    for (const query of ["", "?itemsIds=", "?itemsIds=1,x", "?itemsIds=01"]) {
      const res = await json(`/api/1.0/partner/${PID}/items${query}`);
      assert.equal(res.status, 400, query);
      assert.match(res.body.error, /itemsIds/);
    }
  });
});

describe("apptracking visitorEvents (secret route)", () => {
  const path = (key = "mock-secret-api-key", pid = PID) => `/apptracking/1.0/visitorEvents?partnerId=${pid}&apiKey=${key}`;
  const post = (body, p = path()) => json(p, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const at = "2024-05-01T12:00:00.000Z";

  it("accepts a batch with the right key and is not flagged", async () => {
    const res = await post([
      { view: { sessionExternalId: "abc", productId: 101, timestamp: at } },
      { setContact: { sessionExternalId: "abc", contactExternalId: "c1", timestamp: "2024-05-01T15:00:00+03:00" } },
    ]);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await json("/__flagged")).body, []);
  });

  it("401 for a missing or wrong apiKey", async () => {
    assert.equal((await post([{ view: { sessionExternalId: "a", timestamp: at } }], path("wrong"))).status, 401);
    const missing = await post([{ view: { sessionExternalId: "a", timestamp: at } }], `/apptracking/1.0/visitorEvents?partnerId=${PID}`);
    assert.equal(missing.status, 401);
    assert.match(missing.body.error, /apiKey/);
  });

  it("the key follows /__behaviour, RR_MOCK_API_KEY and the apiKey option", async () => {
    await call("/__behaviour", { method: "POST", body: JSON.stringify({ apiKey: "rotated" }) });
    assert.equal((await post([{ view: { sessionExternalId: "a", timestamp: at } }], path("rotated"))).status, 200);
    const saved = process.env.RR_MOCK_API_KEY;
    process.env.RR_MOCK_API_KEY = "env-key";
    const fromEnv = await startMock();
    process.env.RR_MOCK_API_KEY = saved ?? "";
    if (saved === undefined) delete process.env.RR_MOCK_API_KEY;
    try {
      const res = await fetch(`${fromEnv.url}${path("env-key")}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify([{ view: { sessionExternalId: "a", timestamp: at } }]) });
      assert.equal(res.status, 200);
    } finally {
      await fromEnv.close();
    }
    const other = await startMock({ apiKey: "opt-key" });
    try {
      const res = await fetch(`${other.url}${path("opt-key")}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify([{ view: { sessionExternalId: "a", timestamp: at } }]) });
      assert.equal(res.status, 200);
    } finally {
      await other.close();
    }
  });

  const bad = [
    ["not an array", { view: {} }, /JSON array/],
    ["empty array", [], /non-empty/],
    ["two keys in an envelope", [{ view: { sessionExternalId: "a", timestamp: at }, search: {} }], /exactly one key/],
    ["unknown event", [{ wishlist: { sessionExternalId: "a", timestamp: at } }], /unknown event name/],
    ["missing sessionExternalId", [{ view: { timestamp: at } }], /sessionExternalId/],
    ["hyphenated sessionExternalId", [{ view: { sessionExternalId: "a-b", timestamp: at } }], /sessionExternalId/],
    ["missing timestamp", [{ order: { sessionExternalId: "a" } }], /timestamp/],
    ["unparseable timestamp", [{ order: { sessionExternalId: "a", timestamp: "yesterday" } }], /timestamp/],
    ["impossible date", [{ order: { sessionExternalId: "a", timestamp: "2024-13-45T99:00:00Z" } }], /timestamp/],
  ];
  for (const [name, body, message] of bad) {
    it(`400: ${name}`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.error, message);
    });
  }

  it("400 for a bad partnerId or a non-JSON content type", async () => {
    assert.equal((await post([], path(undefined, "nope"))).status, 400);
    const res = await json(path(), { method: "POST", headers: { "Content-Type": "text/plain" }, body: "[]" });
    assert.equal(res.status, 400);
  });
});

describe("secret guard", () => {
  const cases = [
    ["apiKey query on an event", event("view", 101, "&apiKey=s3cret"), {}, /apiKey/],
    ["APIKEY query on recommendations", `${REC}/popular/${PID}/?categoryIds=0&format=json&APIKEY=x`, {}, /APIKEY/],
    ["apikey query on items", `/api/1.0/partner/${PID}/items/?itemsIds=101&apikey=x`, {}, /apikey/],
    ["apiKey on an unknown route", `/nope?apiKey=x`, {}, /apiKey/],
    ["Authorization header", event("pageView"), { headers: { Authorization: "Bearer t" } }, /authorization/],
    ["X-API-KEY header", `/1.0/event/initialize/${PID}`, { headers: { "X-API-KEY": "k" } }, /x-api-key/],
    ["x-authorization header", event("pageView"), { headers: { "x-Authorization": "k" } }, /x-authorization/],
  ];
  for (const [name, path, init, reason] of cases) {
    it(`403 and flagged: ${name}`, async () => {
      const res = await json(path, init);
      assert.equal(res.status, 403, res.text);
      assert.match(res.body.error, reason);
      const flagged = (await json("/__flagged")).body;
      assert.equal(flagged.length, 1);
      assert.match(flagged[0].flagged, reason);
      assert.equal(flagged[0].status, 403);
      assert.deepEqual(mock.flagged(), flagged);
    });
  }

  it("clean traffic leaves /__flagged empty", async () => {
    await call(event("pageView"));
    await call(`/1.0/event/initialize/${PID}`);
    assert.deepEqual((await json("/__flagged")).body, []);
    assert.equal(mock.requests().length, 2);
  });
});

describe("fault injection", () => {
  const addFault = async (spec) => {
    const res = await json("/__faults", { method: "POST", body: JSON.stringify(spec) });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };

  it("status + count, then normal answers; faults are recorded", async () => {
    await addFault({ status: 503, count: 2 });
    assert.equal((await call(event("pageView"))).status, 503);
    assert.equal((await call(event("pageView"))).status, 503);
    assert.equal((await call(event("pageView"))).status, 200);
    const log = mock.requests();
    assert.deepEqual(log.map((r) => r.status), [503, 503, 200]);
    assert.equal(log[0].fault.status, 503);
    assert.equal(log[2].fault, null);
  });

  it("defaults to one 503 and bypasses validation", async () => {
    await addFault({});
    const res = await json(`/1.0/event/bogus/${PID}`);
    assert.equal(res.status, 503);
    assert.match(res.body.error, /injected/);
  });

  it("sends Retry-After and exposes it to CORS callers", async () => {
    await addFault({ status: 429, retryAfter: "2" });
    const res = await call(`${REC}/popular/${PID}/?categoryIds=0&format=json`, { headers: { Origin: "https://shop.example" } });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.match(res.headers.get("access-control-expose-headers"), /Retry-After/);
  });

  it("delayMs alone delays the normal answer", async () => {
    await addFault({ delayMs: 200 });
    const started = Date.now();
    const res = await json(event("pageView"));
    assert.ok(Date.now() - started >= 190, "answer came too early");
    assert.equal(res.status, 200);
    assert.equal(mock.requests()[0].fault.delayMs, 200);
  });

  it("delayMs with a status delays the faulted answer", async () => {
    await addFault({ delayMs: 150, status: 500 });
    const started = Date.now();
    assert.equal((await call(event("pageView"))).status, 500);
    assert.ok(Date.now() - started >= 140);
  });

  it("drop destroys the connection; the record has status 0", async () => {
    await addFault({ drop: true });
    await assert.rejects(call(event("pageView")));
    const [record] = mock.requests();
    assert.equal(record.status, 0);
    assert.equal(record.fault.drop, true);
    assert.equal((await call(event("pageView"))).status, 200);
    assert.equal(mock.requests().length, 2, "a dropped request must not be retried or logged twice");
  });

  it("close() does not wait for a delayed answer", async () => {
    const other = await startMock();
    other.fault({ delayMs: 60_000, status: 500 });
    const pending = fetch(`${other.url}/1.0/event/pageView/${PID}?${SESSION}`).then((res) => res.status, () => "failed");
    await sleep(50);
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 1000);
    assert.equal(await pending, "failed");
  });

  it("body replaces the answer verbatim", async () => {
    await addFault({ status: 200, body: '[{"ItemId":' });
    const res = await call(`${REC}/popular/${PID}/?categoryIds=0&format=json`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '[{"ItemId":');
  });

  it("match limits a fault to a path prefix; faults are consumed FIFO", async () => {
    await addFault({ match: "/api/", status: 500 });
    await addFault({ status: 502 });
    assert.equal((await call(event("pageView"))).status, 502); // first fault does not match
    assert.equal((await call(event("pageView"))).status, 200);
    assert.equal((await call(`${REC}/popular/${PID}/?categoryIds=0&format=json`)).status, 500);
  });

  it("DELETE /__faults clears pending faults; reset() does too", async () => {
    await addFault({ count: 5 });
    assert.equal((await json("/__faults")).body.length, 1);
    assert.equal((await call("/__faults", { method: "DELETE" })).status, 204);
    assert.equal((await call(event("pageView"))).status, 200);
    await addFault({ count: 5 });
    mock.reset();
    assert.equal((await call(event("pageView"))).status, 200);
  });

  it("in-process fault() works like POST /__faults", async () => {
    mock.fault({ status: 504 });
    assert.equal((await call(event("pageView"))).status, 504);
  });

  it("rejects invalid fault specs", async () => {
    for (const spec of [{ status: 42 }, { count: 0 }, { drop: "yes" }, { match: "api" }, { delayMs: -1 }, { retry: "2" }, [1]]) {
      const res = await json("/__faults", { method: "POST", body: JSON.stringify(spec) });
      assert.equal(res.status, 400, JSON.stringify(spec));
    }
    assert.equal((await json("/__faults", { method: "POST", body: "{oops" })).status, 400);
  });
});

describe("CORS", () => {
  it("answers preflights with 204 and does not record them", async () => {
    const res = await call(event("view", 101), {
      method: "OPTIONS",
      headers: { Origin: "https://shop.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://shop.example");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("access-control-allow-methods"), "GET, POST, DELETE, OPTIONS");
    assert.equal(res.headers.get("access-control-allow-headers"), "content-type");
    assert.equal(res.headers.get("access-control-max-age"), "600");
    assert.deepEqual(mock.requests(), []);
  });

  it("echoes Origin on success, errors, 404s and control routes; '*' without Origin", async () => {
    const origin = { headers: { Origin: "http://localhost:5173" } };
    for (const path of [event("pageView"), event("view"), "/nowhere", "/__health", "/__requests"]) {
      const res = await call(path, origin);
      assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173", path);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true");
      assert.equal(res.headers.get("vary"), "Origin");
      assert.equal(res.headers.get("access-control-expose-headers"), "Retry-After, Cache-Control");
    }
    assert.equal((await call(event("pageView"))).headers.get("access-control-allow-origin"), "*");
  });

  it("unknown routes answer 404 JSON", async () => {
    const res = await json("/1.0/partner/x/unsubscribe/pricedrop");
    assert.equal(res.status, 404);
    assert.match(res.body.error, /no mock route/);
  });
});

describe("request log and control API", () => {
  it("records method, path, query (last value wins), rawQuery, headers, body and status", async () => {
    await call(event("search", undefined, "&searchPhrase=first&searchPhrase=red+skirt&_nocache=1"), { headers: { Origin: "https://shop.example", "X-Custom": "1" } });
    const [record] = (await json("/__requests")).body;
    assert.equal(record.seq > 0, true);
    assert.ok(Math.abs(record.at - Date.now()) < 5000);
    assert.equal(record.method, "GET");
    assert.equal(record.path, `/1.0/event/search/${PID}`);
    assert.equal(record.query.searchPhrase, "red skirt");
    assert.equal(record.rawQuery, `${SESSION}&searchPhrase=first&searchPhrase=red+skirt&_nocache=1`);
    assert.equal(record.headers.origin, "https://shop.example");
    assert.equal(record.headers["x-custom"], "1");
    assert.equal(record.cookie, null);
    assert.equal(record.body, null);
    assert.equal(record.status, 200);
    assert.equal(record.fault, null);
    assert.equal(record.flagged, null);
  });

  it("keeps arrival order, filters by ?path= prefix and clears with DELETE", async () => {
    await call(`/1.0/event/initialize/${PID}`);
    await call(event("pageView"));
    await call(`${REC}/popular/${PID}/?categoryIds=0&format=json`);
    const all = (await json("/__requests")).body;
    assert.deepEqual(all.map((r) => r.path.split("/")[1]), ["1.0", "1.0", "api"]);
    assert.ok(all[0].seq < all[1].seq && all[1].seq < all[2].seq);
    assert.equal((await json("/__requests?path=/api/")).body.length, 1);
    assert.equal((await json(`/__requests?path=${encodeURIComponent("/1.0/event/initialize/")}`)).body.length, 1);
    assert.equal((await call("/__requests", { method: "DELETE" })).status, 204);
    assert.deepEqual((await json("/__requests")).body, []);
  });

  it("reset() clears log, faults and behaviour; /__reset does the same", async () => {
    await call(event("pageView"));
    await call("/__behaviour", { method: "POST", body: JSON.stringify({ cacheControl: "no-cache" }) });
    mock.fault({ status: 500 });
    mock.reset();
    assert.deepEqual(mock.requests(), []);
    assert.equal((await json("/__behaviour")).body.cacheControl, "max-age=60");
    assert.equal((await call(event("pageView"))).status, 200);
    assert.equal((await call("/__reset", { method: "POST" })).status, 204);
    assert.deepEqual(mock.requests(), []);
  });

  it("health check; control routes are not logged; bad behaviour specs are refused", async () => {
    assert.deepEqual((await json("/__health")).body, { ok: true });
    assert.equal((await json("/__behaviour", { method: "POST", body: '{"cache":"x"}' })).status, 400);
    assert.equal((await json("/__behaviour", { method: "POST", body: '{"cacheControl":"a\\r\\nb"}' })).status, 400);
    assert.equal((await json("/__nope")).status, 404);
    assert.deepEqual(mock.requests(), []);
  });

  it("requests() returns copies", () => {
    const copy = mock.requests();
    copy.push({});
    assert.deepEqual(mock.requests(), []);
  });
});

describe("robustness", () => {
  it("answers 413 for bodies over 1 MB and keeps serving", async () => {
    const res = await json(...groupView("x".repeat(1024 * 1024 + 1)));
    assert.equal(res.status, 413);
    assert.equal(mock.requests()[0].status, 413);
    assert.equal((await call("/__health")).status, 200);
  });

  it("survives garbage input", async () => {
    const garbage = [
      [`/1.0/event/%/${PID}`, {}],
      ["/%E0%A4%A?%=%", {}],
      [`/1.0/event/view/${PID}/101?__proto__=1&constructor=2&${SESSION}`, {}],
      [event("groupView"), { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"productIds":[1e400]}' }],
      [event("groupView"), { method: "POST", headers: { "Content-Type": "application/json" }, body: "\u0000\uffff" }],
      [`/apptracking/1.0/visitorEvents?partnerId=${PID}&apiKey=mock-secret-api-key`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "[null, 1, \"x\"]" }],
    ];
    for (const [path, init] of garbage) {
      const res = await call(path, init);
      assert.ok(res.status >= 200 && res.status < 500, `${path} -> ${res.status}`);
      await res.arrayBuffer();
    }
    const proto = mock.requests()[2];
    assert.equal(proto.status, 200);
    assert.equal(proto.query.__proto__, "1");
    assert.equal((await call("/__health")).status, 200);
  });
});

describe("command line", () => {
  it("prints the listening line and stops on SIGTERM", async () => {
    const script = fileURLToPath(new URL("./server.mjs", import.meta.url));
    const child = spawn(process.execPath, [script, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const [chunk] = await once(child.stdout, "data");
      const line = chunk.toString().trim();
      const match = line.match(/^mock Retail Rocket listening on (http:\/\/127\.0\.0\.1:(\d+))$/);
      assert.ok(match, line);
      assert.equal((await fetch(`${match[1]}/__health`)).status, 200);
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
