// Every ```js block of README.md, run as written in a browser page against the mock. Nothing is
// skipped: a README without js blocks, or a block that throws, logs an error or reports one to
// onError, fails.
//
// The harness each block gets, and nothing more:
// - The bare specifier "retailrocket-tracker" maps (import map) to a small shim over pkg/index.js
//   whose Tracker points trackingUrl/apiUrl at the mock and also collects onError into
//   `window.rrErrors`, so no block's text is edited.
// - A block with an `import` is a module of its own and runs as it is. Any other block is a
//   fragment and runs after `import init, { Tracker } from "retailrocket-tracker"; await init();`,
//   with `const partnerId = "<the test partner>"` and, unless it makes its own,
//   `const rr = new Tracker({ partnerId })` (names it declares itself are not provided).
// - A ```html block right before a fragment (no other code block between) is the page's body.
// - `rr`, if the block has one, is exposed as `window.rr` afterwards, for the checks.
// - Relative URLs are the page's origin, which serves the first-party relay under /rr/ (the
//   demo's relay, keyed for the mock), so a `relayUrl: "/rr"` block works as the README says;
//   product links (/p/…) lead to a blank page.
//
// Checks for every block: it ran to the end; no console error, page error or onError report;
// every request to the mock was answered 2xx. Then what the block does is checked where the
// README promises a result: a tracked view reaches the mock, recommend()/items() calls are asked
// and answered, a tracked block credits clicks, a relay tracker's events reach the server API.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { relayHandler } from "../../www/relay.mjs";
import { PARTNER_ID, REPO_ROOT, collectConsoleErrors, launchBrowser, mockRequests, startStack, waitFor } from "../e2e/harness.mjs";
import { PKG_DIR, ensureLoaderBuilt, startStaticServer } from "./helpers.mjs";

/** The README's fenced blocks in order: `{ lang, code, line }` (line: the fence's, 1-based). */
export function readmeBlocks(readme = path.join(REPO_ROOT, "README.md")) {
  const lines = readFileSync(readme, "utf8").split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`README.md:${i + 1}: a code block that never closes`);
    blocks.push({ lang: open[1], code: lines.slice(i + 1, end).join("\n") + "\n", line: i + 1 });
    i = end;
  }
  return blocks;
}

const declares = (code, name) => new RegExp(`\\b(const|let|var|function|class)\\s+${name}\\b|\\bimport\\b[^;]*\\b${name}\\b`).test(code);

/** The block as the page runs it, and the markup the page's body gets. */
export function harnessFor(blocks, index) {
  const { code } = blocks[index];
  const previous = blocks[index - 1];
  const body = previous?.lang === "html" ? previous.code : "";
  if (/^\s*import\b/m.test(code)) return { module: code, body, fragment: false };
  const provided = [];
  const imports = ["Tracker"].filter((n) => !declares(code, n));
  provided.push(`import ${declares(code, "init") ? "" : "init, "}{ ${imports.join(", ")} } from "retailrocket-tracker";`);
  if (!declares(code, "init")) provided.push("await init();");
  if (!declares(code, "partnerId")) provided.push(`const partnerId = ${JSON.stringify(PARTNER_ID)};`);
  if (!declares(code, "rr")) provided.push("const rr = new Tracker({ partnerId });");
  return { module: `${provided.join("\n")}\n${code}`, body, fragment: true };
}

const blocks = readmeBlocks();
const jsBlocks = blocks.map((b, i) => ({ ...b, index: i })).filter((b) => b.lang === "js");
let stack;
let site;
let browser;

before(async () => {
  ensureLoaderBuilt();
  stack = await startStack();
  const shim = `import init, { Tracker as Real } from "/pkg/index.js";
export * from "/pkg/index.js";
export default init;
window.rrErrors = [];
export function Tracker(config = {}) {
  const onError = (e) => {
    window.rrErrors.push({ code: e.code, message: e.message });
    config.onError?.(e);
  };
  return new Real({ ...config, trackingUrl: ${JSON.stringify(stack.mockUrl)}, apiUrl: ${JSON.stringify(stack.mockUrl)}, onError });
}
`;
  const importMap = JSON.stringify({ imports: { "retailrocket-tracker": "/shim.js" } });
  const pages = { "/shim.js": { body: shim } };
  for (const block of jsBlocks) {
    const { module, body } = harnessFor(blocks, block.index);
    pages[`/block-${block.line}.js`] = {
      body: `${module}\n;window.rr = typeof rr === "undefined" ? undefined : rr;\ndocument.documentElement.dataset.done = "1";\n`,
    };
    pages[`/block-${block.line}.html`] = {
      body: `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">${importMap}</script>
<script type="module" src="/block-${block.line}.js"></script></head><body>${body}</body></html>\n`,
    };
  }
  const relay = relayHandler({ partnerId: PARTNER_ID, upstream: `${stack.mockUrl}/apptracking/1.0/visitorEvents`, apiKey: stack.apiKey });
  const productPage = (req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    res.end('<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>product</body></html>\n');
  };
  site = await startStaticServer({ mounts: { "/pkg/": PKG_DIR }, pages, handlers: { "/rr/": relay, "/p/": productPage } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await stack?.close();
});

test("README.md has js examples, and the first imports the package by its name", () => {
  assert.ok(jsBlocks.length > 0, "no ```js block in README.md");
  assert.match(jsBlocks[0].code, /from "retailrocket-tracker"/);
});

const calls = (code, method) => (code.match(new RegExp(`\\brr\\.${method}\\(`, "g")) ?? []).length;

for (const block of jsBlocks) {
  const firstLine = block.code.split("\n").find((l) => l.trim()) ?? "";
  test(`README.md:${block.line} runs as written: ${firstLine.trim().slice(0, 60)}`, async () => {
    stack.mock.reset();
    const context = await browser.browser.newContext();
    try {
      const page = await context.newPage();
      const errors = collectConsoleErrors(page);
      await page.goto(`${site.url}/block-${block.line}.html`);
      await waitFor(async () => errors.length > 0 || (await page.evaluate(() => document.documentElement.dataset.done)), {
        timeout: 15000,
        message: "the block ran to its end",
      });
      assert.deepEqual(errors, [], "the block ran without errors");
      const hasTracker = await page.evaluate(() => window.rr !== undefined);

      if (/\brr\.view\(101\)/.test(block.code)) {
        await waitFor(async () => (await mockRequests(stack.mockUrl, `/1.0/event/view/${PARTNER_ID}/101`)).length > 0, {
          message: "the view reached the mock",
        });
      }
      const asked = calls(block.code, "recommend") + calls(block.code, "items");
      if (asked > 0) {
        // The block awaits them: they are answered by the time it ends.
        const api = await mockRequests(stack.mockUrl, "/api/");
        assert.equal(api.length, asked, JSON.stringify(api.map((r) => r.path)));
      }
      const tracksBlock = /\brr\.trackBlock\(/.test(block.code);
      const method = /trackBlock\([^,]+,\s*"([^"]+)"/.exec(block.code)?.[1];
      const credited = (name, item) =>
        waitFor(async () => (await mockRequests(stack.mockUrl, `/1.0/event/${name}/${PARTNER_ID}/${item}`))[0], {
          message: `${name} for ${item} reached the mock`,
        });
      if (tracksBlock) {
        // The add-to-cart button first: the item link, clicked last, leaves the page.
        const button = page.locator('[data-rr-item-id] [data-rr-action="add-to-cart"]').first();
        if ((await button.count()) > 0) {
          const item = await button.evaluate((b) => b.closest("[data-rr-item-id]").dataset.rrItemId);
          await button.click();
          assert.equal((await credited("recomAddToBasket", item)).query.suggestMethod, method);
        }
      }
      if (/relayUrl:/.test(block.code)) {
        assert.ok(hasTracker, "the relay block makes a tracker");
        assert.equal(await page.evaluate(() => window.rr.view(101)), true);
        const batch = await waitFor(async () => (await mockRequests(stack.mockUrl, "/apptracking/"))[0], {
          message: "an event reached Retail Rocket's server API through the relay",
        });
        assert.equal(batch.status, 200);
        assert.ok(JSON.parse(batch.body).some((e) => e.view?.productId === 101), batch.body);
      }

      if (hasTracker) await page.evaluate(() => window.rr.flush?.());
      const answered = (await mockRequests(stack.mockUrl)).filter((r) => !(r.status >= 200 && r.status < 300));
      assert.deepEqual(answered.map((r) => [r.path, r.status]), [], "every request to the mock was answered 2xx");
      assert.deepEqual(await page.evaluate(() => window.rrErrors), [], "nothing was reported to onError");
      assert.deepEqual(stack.mock.flagged(), [], "no secret reached the mock from the page");
      if (tracksBlock) {
        // A click on the item's link credits it, and the page follows the link: the event must
        // get out all the same.
        const link = page.locator("[data-rr-item-id]").first();
        const item = await link.getAttribute("data-rr-item-id");
        await link.click();
        const sent = await credited("recomMouseDown", item);
        assert.equal(sent.query.suggestMethod, method);
        await waitFor(async () => (await mockRequests(stack.mockUrl, "/1.0/event/recomMouseDown/"))[0].status !== null);
        assert.equal((await mockRequests(stack.mockUrl, "/1.0/event/recomMouseDown/"))[0].status, 200);
      }
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}
