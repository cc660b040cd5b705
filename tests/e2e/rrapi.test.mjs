// End-to-end: a store switches from tracking.js by changing one thing in its snippet, the loader's
// src, to pkg/rrapi.js. The pages carry the snippet exactly as stores have it (var rrPartnerId,
// var rrApi = {}, the stubs, rrApiOnReady, the async loader IIFE) and are served by a small server
// of this file; pkg/ is served from a second origin with CORS, as a CDN would serve it.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { PARTNER_ID, REPO_ROOT, collectConsoleErrors, mockRequests, useStack, waitFor } from "./harness.mjs";

const env = useStack({
  beforeClose: async () => {
    const flagged = (await mockRequests(env.stack.mockUrl)).filter((r) => r.flagged !== null);
    assert.deepEqual(flagged.map((r) => `${r.path}: ${r.flagged}`), []);
  },
});
beforeEach(() => env.stack.mock.reset());

/** The store's snippet, byte for byte as stores paste it, except for the src. */
const snippet = (partnerId, src) => `<script type="text/javascript">
       var rrPartnerId = "${partnerId}";
       var rrApi = {};
       var rrApiOnReady = rrApiOnReady || [];
       rrApi.addToBasket = rrApi.order = rrApi.categoryView = rrApi.view =
           rrApi.recomMouseDown = rrApi.recomAddToCart = function() {};
       (function(d) {
           var ref = d.getElementsByTagName('script')[0];
           var apiJs, apiJsId = 'rrApi-jssdk';
           if (d.getElementById(apiJsId)) return;
           apiJs = d.createElement('script');
           apiJs.id = apiJsId;
           apiJs.async = true;
           apiJs.src = "${src}";
           ref.parentNode.insertBefore(apiJs, ref);
       }(document));
</script>`;

/**
 * A store page: the endpoints (tracking.js needs none: these point at the mock), the snippet,
 * then what store templates add: rrApiOnReady callbacks, and a call on a stub before load.
 */
function storePage({ src, mockUrl, before = "", head = "", body = "" }) {
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>store</title>
<link rel="icon" href="data:,">
<script>
window.rrTrackerConfig = { trackingUrl: "${mockUrl}", apiUrl: "${mockUrl}", onError: function (e) { (window.rrErrors = window.rrErrors || []).push(e); } };
${before}
</script>
${snippet(PARTNER_ID, src)}
${head}
</head>
<body>
<h1>store</h1>
${body}
</body>
</html>`;
}

const READY_CALLBACKS = `<script>
window.readyLog = [];
try { rrApi.view(999); } catch (e) { readyLog.push("stub threw"); }
rrApiOnReady.push(function() { readyLog.push("first"); try { rrApi.view(101); } catch(e) {} });
rrApiOnReady.push(function() { readyLog.push("second"); throw new Error("a bug in the store's own callback"); });
rrApiOnReady.push(function() {
  readyLog.push("third:" + typeof retailrocket.api.getSessionId() + ":" + (rrApi.getSessionId() === retailrocket.api.getSessionId()));
  rrApi.addToBasket(102, "msk");
});
</script>`;

const pages = new Map(); // path -> HTML of the store's pages, set by each test
let site; // the store's origin
let cdn; // serves pkg/ with CORS, as a CDN does

/** A static server: the store's `pages` (with `html`), the files of pkg/ under /pkg/ (with `pkg`). */
// While set, the .wasm is held back until this promise settles (a slow download).
let wasmHeld = null;

function startServer({ html = false, pkg = false, cors = false }) {
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, "http://x");
    const headers = { "Cache-Control": "no-store", ...(cors ? { "Access-Control-Allow-Origin": "*" } : {}) };
    if (html && pages.has(pathname)) {
      res.writeHead(200, { ...headers, "Content-Type": "text/html; charset=utf-8" });
      return res.end(pages.get(pathname));
    }
    if (pkg && pathname.startsWith("/pkg/") && !pathname.includes("..")) {
      try {
        const body = await readFile(path.join(REPO_ROOT, "pkg", pathname.slice("/pkg/".length)));
        if (pathname.endsWith(".wasm")) await wasmHeld;
        res.writeHead(200, { ...headers, "Content-Type": pathname.endsWith(".wasm") ? "application/wasm" : "text/javascript" });
        return res.end(body);
      } catch {
        // 404 below
      }
    }
    res.writeHead(404, headers);
    res.end();
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      // host: the protocol-relative form store snippets use ("//cdn.example/...").
      resolve({ url, host: url.slice("http:".length), close: () => new Promise((done) => (server.close(done), server.closeAllConnections())) });
    });
  });
}

before(async () => {
  site = await startServer({ html: true });
  cdn = await startServer({ pkg: true, cors: true });
});
after(async () => {
  await site?.close();
  await cdn?.close();
});

const events = async () => (await mockRequests(env.stack.mockUrl, "/1.0/")).filter((r) => !r.path.includes("/initialize/"));
const kind = (r) => (r.path.startsWith("/1.0/partner/") ? r.path.split("/").pop() : r.path.split("/")[3]);

async function open(html) {
  pages.set("/store.html", html);
  const context = await env.browser.browser.newContext();
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  const warnings = [];
  page.on("console", (msg) => msg.type() === "warning" && warnings.push(msg.text()));
  await page.goto(`${site.url}/store.html`);
  return { context, page, errors, warnings };
}

test("the store's snippet with rrapi.js from a CDN: rrApiOnReady runs in order (a throwing one does not stop the rest), later pushes run at once", async () => {
  const { context, page, errors } = await open(storePage({ src: `${cdn.host}/pkg/rrapi.js`, mockUrl: env.stack.mockUrl, head: READY_CALLBACKS }));
  await waitFor(() => page.evaluate(() => window.readyLog.length === 3), { timeout: 10000, message: "the three callbacks ran" });
  assert.deepEqual(await page.evaluate(() => window.readyLog), ["first", "second", "third:string:true"]);

  const sent = await waitFor(async () => {
    const r = await events();
    return r.some((e) => kind(e) === "view") && r.some((e) => kind(e) === "addToBasket") && r;
  }, { message: "the callbacks' view and addToBasket" });
  assert.ok(sent.every((r) => r.status === 200), JSON.stringify(sent.map((r) => [r.path, r.status])));
  const view = sent.find((r) => kind(r) === "view");
  assert.equal(view.path, `/1.0/event/view/${PARTNER_ID}/101`);
  assert.equal(sent.find((r) => kind(r) === "addToBasket").query.stockId, "msk", 'addToBasket(id, "msk") as tracking.js takes it');
  assert.ok(!sent.some((r) => r.path.endsWith("/999")), "a call made on a stub before load is not replayed (tracking.js's stubs are no-ops)");
  assert.equal(await page.evaluate(() => rrApi.getSessionId()), view.query.session);

  // A callback pushed now runs at once, inside push().
  assert.equal(await page.evaluate(() => {
    let ran = false;
    window.rrApiOnReady.push(() => (ran = true));
    return ran;
  }), true);

  // Only the store's bug is reported: as a console error, never as an exception in the page.
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(errors[0], /rrApiOnReady callback threw/);
  await context.close();
});

test("calls made on rrApi while the module still downloads are kept and sent once it is ready", async () => {
  let release;
  wasmHeld = new Promise((resolve) => (release = resolve));
  try {
    const { context, page } = await open(storePage({ src: `${cdn.host}/pkg/rrapi.js`, mockUrl: env.stack.mockUrl }));
    // rrapi.js has run and put its methods in place; the .wasm is still on its way.
    await page.waitForFunction(() => window.rrApi && window.rrApi.tracker, null, { timeout: 10000 });
    assert.equal(await page.evaluate(() => window.rrApi.view(555)), true, "kept, as the early tracker keeps calls");
    release();
    await waitFor(async () => (await events()).some((r) => r.path === `/1.0/event/view/${PARTNER_ID}/555`), {
      timeout: 10000,
      message: "the view made during the download",
    });
    await context.close();
  } finally {
    release();
    wasmHeld = null;
  }
});

test("rrApi takes every method under tracking.js's names and argument forms", async () => {
  // rrTrackerConfig reaches the Tracker: no automatic pageView, so only the calls below are sent.
  const { context, page } = await open(storePage({ src: `${cdn.url}/pkg/rrapi.js`, mockUrl: env.stack.mockUrl, before: "window.rrTrackerConfig.pageView = false;" }));
  await waitFor(() => page.evaluate(() => !!rrApi.tracker), { timeout: 10000, message: "rrApi installed" });
  const results = await page.evaluate(() => [
    rrApi.view(101, "msk"),
    rrApi.view(102, { stockId: "spb" }),
    rrApi.groupView([103, 104], { stockId: "msk" }),
    rrApi.addToBasket(105, "msk"),
    rrApi.addToBasket(105, { stockId: "spb" }),
    rrApi.removeFromBasket(105),
    rrApi.categoryView(2),
    rrApi.categoryView("Women/Clothing/Skirts"),
    rrApi.search("red skirt"),
    rrApi.recomMouseDown(106, "popular"),
    rrApi.recomMouseDown(107, { methodName: "related" }),
    rrApi.recomAddToCart(108, "alternative"),
    rrApi.recomAddToCart(108, { methodName: "popular", suggester: "block" }),
    rrApi.recomTrack("popular", "ignored", [101, 102]),
    rrApi.pageView(),
    rrApi.setEmail("ann@example.com", { name: "Ann" }),
    rrApi.order({ transaction: "T-9", items: [{ id: 101, qnt: 1, price: 19.9 }] }),
    rrApi.welcomeSequence("ann@example.com"),
    rrApi.subscribeOnItemBackInStock("ann@example.com", 110, "msk"),
    rrApi.subscribeOnPriceDrop("ann@example.com", { id: 101, price: 19.9 }),
    rrApi.setCustomer({ customerId: "c1" }),
    rrApi.setProfile({ email: "ann@example.com" }),
  ]);
  assert.deepEqual(results.slice(0, 20), Array(20).fill(true));
  assert.deepEqual(results.slice(20), [undefined, undefined], "no public wire format: accepted, nothing sent");
  const sent = await waitFor(async () => {
    const r = await events();
    return r.length >= 20 && r.every((e) => e.status !== null) && r;
  }, { message: "20 requests" });
  assert.deepEqual(sent.map(kind), [
    "view", "view", "groupView", "addToBasket", "addToBasket", "removeFromBasket", "categoryView", "categoryView", "search",
    "recomMouseDown", "recomMouseDown", "recomAddToBasket", "recomAddToBasket", "recomTrack", "pageView", "setEmail", "order",
    "welcomesequence", "backinstock", "pricedrop",
  ]);
  assert.ok(sent.every((r) => r.status === 200), JSON.stringify(sent.filter((r) => r.status !== 200).map((r) => [r.path, r.status])));
  const q = (i, k) => sent[i].query[k];
  assert.deepEqual([q(0, "stockId"), q(1, "stockId"), q(2, "stockId"), q(3, "stockId"), q(4, "stockId")], ["msk", "spb", "msk", "msk", "spb"]);
  assert.deepEqual([q(9, "suggestMethod"), q(10, "suggestMethod"), q(11, "suggestMethod"), q(12, "suggestMethod"), q(12, "suggester")],
    ["popular", "related", "alternative", "popular", "block"]);
  assert.equal(q(7, "categoryPath"), "Women/Clothing/Skirts");
  assert.equal(q(15, "d.name"), "Ann");
  assert.deepEqual([q(18, "itemId"), q(18, "stockId")], ["110", "msk"]);
  await context.close();
});

test("the snippet with rrapi.js next to the page, on a returning visitor: its rcuid session is used at once", async () => {
  const known = "5f0c1e2d3a4b5c6d7e8f9a0b";
  // Same origin as the page this time: the store copied pkg/ next to its pages.
  const store = await startServer({ html: true, pkg: true });
  const context = await env.browser.browser.newContext();
  try {
    await context.addCookies([{ name: "rcuid", value: known, url: store.url }]);
    pages.set("/store.html", storePage({ src: "/pkg/rrapi.js", mockUrl: env.stack.mockUrl, head: READY_CALLBACKS }));
    const page = await context.newPage();
    await page.goto(`${store.url}/store.html`);
    await waitFor(() => page.evaluate(() => window.readyLog.length === 3), { timeout: 10000, message: "the callbacks ran" });
    assert.equal(await page.evaluate(() => retailrocket.api.getSessionId()), known);
    const view = await waitFor(async () => (await events()).find((r) => kind(r) === "view"), { message: "the view" });
    assert.equal(view.query.session, known);
  } finally {
    await context.close();
    await store.close();
  }
});

test("without WebAssembly the stubs keep working, nothing is sent and nothing throws", async () => {
  const { context, page, errors, warnings } = await open(storePage({
    src: `${cdn.host}/pkg/rrapi.js`,
    mockUrl: env.stack.mockUrl,
    before: "window.WebAssembly = undefined;",
    head: READY_CALLBACKS,
  }));
  await waitFor(() => warnings.some((w) => /WebAssembly is not available/.test(w)), { message: "rrapi.js said why tracking is off" });
  const calls = await page.evaluate(() => {
    const out = [];
    for (const name of ["view", "addToBasket", "search", "setEmail", "subscribeOnPriceDrop"]) {
      try {
        out.push(typeof rrApi[name](101));
      } catch (e) {
        out.push("threw");
      }
    }
    return out;
  });
  assert.deepEqual(calls, ["undefined", "undefined", "undefined", "undefined", "undefined"]);
  assert.deepEqual(await page.evaluate(() => window.readyLog), [], "tracking is off: the callbacks are not run");
  assert.deepEqual(await mockRequests(env.stack.mockUrl), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test("without rrPartnerId, or with a config the tracker refuses, the page keeps working", async () => {
  for (const before of ["", 'window.rrTrackerConfig.apiKey = "s3cret";']) {
    const html = storePage({ src: `${cdn.host}/pkg/rrapi.js`, mockUrl: env.stack.mockUrl, before, head: READY_CALLBACKS });
    const { context, page, errors, warnings } = await open(before ? html : html.replace(`var rrPartnerId = "${PARTNER_ID}";`, "var rrPartnerId;"));
    await waitFor(() => warnings.some((w) => /tracking is off/.test(w)), { timeout: 10000, message: `a warning (${before || "no partner id"})` });
    assert.equal(await page.evaluate(() => { try { return typeof rrApi.view(101); } catch (e) { return "threw"; } }), "undefined");
    assert.deepEqual(errors, []);
    await context.close();
  }
  assert.deepEqual(await mockRequests(env.stack.mockUrl), []);
});

test("the README's switching snippet is the one tested here, src aside", async () => {
  const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Switching from tracking.js"));
  const shown = /```html\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(shown, "the README has the snippet");
  const lines = (text) => text.trim().split("\n").filter((l) => !l.includes("apiJs.src = "));
  assert.deepEqual(lines(shown), lines(snippet("608423a9b126ac6ab3f8f0a5", "")));
  assert.match(shown, /apiJs\.src = "[^"]*\/rrapi\.js";/);
});
