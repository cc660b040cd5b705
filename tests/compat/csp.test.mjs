// Pages where WebAssembly may not run: a Content-Security-Policy with and without
// 'wasm-unsafe-eval', no WebAssembly at all (iOS Lockdown Mode), and a .wasm that fails to
// download. With wasm the page tracks; without it the loader resolves false, hands out the no-op
// tracker, warns once, and the page's own code goes on.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { PARTNER_ID, collectConsoleErrors, launchBrowser, mockRequests, startStack, waitFor } from "../e2e/harness.mjs";
import { APP_JS, PKG_DIR, appPage, appResult, collectWarnings, ensureLoaderBuilt, startStaticServer } from "./helpers.mjs";

let stack;
let site;
let browser;

const csp = (scriptSrc) => ({ "Content-Security-Policy": `script-src ${scriptSrc}; connect-src 'self' ${stack.mockUrl}` });
const page = (pkg, headers, scripts) => ({ body: appPage({ pkg, mock: stack.mockUrl, partner: PARTNER_ID, scripts }), headers });

before(async () => {
  ensureLoaderBuilt();
  stack = await startStack();
  site = await startStaticServer({
    mounts: { "/pkg/": PKG_DIR, "/broken/": PKG_DIR },
    pages: {
      "/app.js": { body: APP_JS },
      "/no-wasm.js": { body: "delete globalThis.WebAssembly;\n" }, // what iOS Lockdown Mode leaves
      "/csp-wasm.html": page("/pkg/index.js", csp("'self' 'wasm-unsafe-eval'")),
      "/csp-strict.html": page("/pkg/index.js", csp("'self'")),
      "/lockdown.html": page("/pkg/index.js", {}, [{ html: '<script src="/no-wasm.js"></script>' }, "/app.js"]),
      "/broken.html": page("/broken/index.js", {}),
      "/broken/retailrocket_tracker_bg.wasm": { status: 404, body: "gone", type: "text/plain" },
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await stack?.close();
});

beforeEach(() => stack.mock.reset());

const views = () => mockRequests(stack.mockUrl, `/1.0/event/view/${PARTNER_ID}/101`);

async function open(path) {
  const context = await browser.browser.newContext();
  const tab = await context.newPage();
  const errors = collectConsoleErrors(tab);
  const warnings = collectWarnings(tab);
  await tab.goto(`${site.url}${path}`);
  const result = await appResult(tab);
  return { context, tab, errors, warnings, result };
}

/** Asserts the page fell back to the no-op: false everywhere, one warning, no error, nothing sent. */
async function assertSoftFailure({ tab, errors, warnings, result }, why, allowedConsoleErrors = []) {
  assert.deepEqual(result, { ok: false, view: false, id: "", pending: 0 });
  await tab.click("#buy");
  await waitFor(() => tab.evaluate(() => document.documentElement.dataset.clicked === "1"), { message: "the page's click handler ran" });
  const unexpected = errors.filter((e) => !allowedConsoleErrors.some((re) => re.test(e)));
  assert.deepEqual(unexpected, [], "no uncaught error, no unexpected console error");
  const ours = warnings.filter((w) => w.startsWith("retailrocket-tracker:"));
  assert.equal(ours.length, 1, `one warning from the loader, got ${JSON.stringify(warnings)}`);
  assert.match(ours[0], why);
  const noop = await tab.evaluate(async () => {
    const { default: init, Tracker } = await import(document.documentElement.dataset.pkg);
    const again = await init();
    const rr = new Tracker({ partnerId: document.documentElement.dataset.partner });
    let secret;
    try {
      new Tracker({ partnerId: document.documentElement.dataset.partner, "X-Api-Key": "s3cr3t" });
    } catch (e) {
      secret = { name: e.name, code: e.code };
    }
    return {
      again,
      calls: [rr.groupView([1]), rr.order({ transaction: "T", items: [] }), rr.search("x"), rr.setEmail("a@b.c")],
      flushed: (await rr.flush()) ?? null,
      recommend: await rr.recommend(),
      secret,
    };
  });
  assert.deepEqual(noop, {
    again: false,
    calls: [false, false, false, false],
    flushed: null,
    recommend: [],
    secret: { name: "TypeError", code: "config_secret" },
  });
  assert.deepEqual(await mockRequests(stack.mockUrl), [], "the no-op sent nothing");
}

test("a CSP with 'wasm-unsafe-eval' (and the mock in connect-src) tracks", async () => {
  const opened = await open("/csp-wasm.html");
  assert.equal(opened.result.ok, true);
  assert.equal(opened.result.view, true);
  assert.match(opened.result.id, /^[0-9a-f]{32}$/);
  const [view] = await waitFor(async () => (await views()).filter((r) => r.status === 200).length && views(), {
    message: "the view reached the mock",
  });
  assert.equal(view.query.sessionExternalId, opened.result.id);
  await opened.tab.click("#buy");
  assert.equal(await opened.tab.evaluate(() => document.documentElement.dataset.clicked), "1");
  assert.deepEqual(opened.errors, []);
  assert.deepEqual(opened.warnings.filter((w) => w.startsWith("retailrocket-tracker:")), []);
  await opened.context.close();
});

test("a CSP without 'wasm-unsafe-eval' turns tracking off and leaves the page working", async () => {
  const opened = await open("/csp-strict.html");
  // Chromium reports the blocked compilation as a CSP violation on the console; nothing else may appear.
  await assertSoftFailure(opened, /CompileError|EvalError/, [/^console\.error: .*(Content Security Policy|wasm-unsafe-eval)/]);
  assert.match(opened.warnings.find((w) => w.startsWith("retailrocket-tracker:")), /'wasm-unsafe-eval'/);
  await opened.context.close();
});

test("without a WebAssembly global (iOS Lockdown Mode) the page keeps working", async () => {
  const seen = site.requests.length;
  const opened = await open("/lockdown.html");
  await assertSoftFailure(opened, /WebAssembly is not available/);
  const fetched = site.requests.slice(seen);
  assert.ok(fetched.includes("/pkg/index.js"));
  assert.ok(!fetched.some((p) => p.endsWith(".wasm")), "the .wasm is not even downloaded");
  await opened.context.close();
});

test("a .wasm that fails to download turns tracking off and leaves the page working", async () => {
  const opened = await open("/broken.html");
  // Chromium logs the failed resource load itself.
  await assertSoftFailure(opened, /404/, [/^console\.error: Failed to load resource: .*404/]);
  await opened.context.close();
});
