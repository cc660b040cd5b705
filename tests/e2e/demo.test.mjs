// End-to-end: the demo storefront in headless chromium sends real tracker events to the mock.
// Run: node --test tests/e2e/   (needs pkg/ built: scripts/test or wasm-pack build)
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  PARTNER_ID,
  REPO_ROOT,
  collectConsoleErrors,
  ensurePkgBuilt,
  launchBrowser,
  mockRequests,
  openDemo,
  startStack,
  waitFor,
} from "./harness.mjs";

const SCREENSHOT = path.join(REPO_ROOT, "target/e2e/demo.png");

let stack;
let browser;

before(async () => {
  ensurePkgBuilt();
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

test("demo storefront tracks a product view with no console errors", async () => {
  const page = await browser.newPage();
  const errors = collectConsoleErrors(page);

  assert.equal(await openDemo(page, stack.demoUrl), "true", "the demo page finished booting");
  const trackerStatus = await page.locator("#tracker-status").textContent();
  assert.equal(trackerStatus, "tracker ready", `the tracker did not start: ${await page.locator("#banner").textContent()}`);

  const sessionId = await waitFor(async () => {
    const text = (await page.locator("#session-id").textContent()).trim();
    return /^[0-9a-f]{32}$/.test(text) && text;
  }, { message: "the header shows a 32-hex sessionExternalId" });
  assert.equal(sessionId, await page.evaluate(() => window.demo.rr.sessionExternalId));

  const viewPath = `/1.0/event/view/${PARTNER_ID}/101`;
  await page.locator('#grid .card[data-item-id="101"] h3').click();
  const isView = (r) => r.path.replace(/\/$/, "") === viewPath && r.status === 200;
  const view = await waitFor(async () => (await mockRequests(stack.mockUrl, viewPath)).find(isView), {
    timeout: 10000,
    message: `the mock recorded ${viewPath} with status 200`,
  });
  assert.equal(view.path, viewPath);

  // The page's own request log shows it too (it polls the mock every second).
  await waitFor(async () => (await page.locator("#log").textContent()).includes("/1.0/event/view/{pid}/101"), {
    timeout: 5000,
    message: "the side panel lists the view request",
  });

  await page.evaluate(() => window.scrollTo(0, 0));
  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  assert.deepEqual(errors, [], "no console errors or page errors");
});
