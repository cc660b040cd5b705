// A blank page on the demo server's origin with the built package loaded, for tests that drive
// the Tracker directly. It is a real page from the real server: a page Playwright makes up has no
// address, and Chromium then blocks its requests to the loopback mock (Local Network Access).
import assert from "node:assert/strict";
import { PARTNER_ID, mockRequests, waitFor } from "./harness.mjs";

/** Imports pkg/ into the current document as `window.RR`; `window.rrErrors` collects onError. */
export function loadPackage(page) {
  return page.evaluate(async () => {
    const mod = await import("/pkg/retailrocket_tracker.js");
    await mod.default();
    window.RR = mod;
    window.rrErrors = [];
  });
}

/** Opens `{demoUrl}/blank.html` with pkg/ loaded, and returns the page. */
export async function openTestPage(context, demoUrl) {
  const page = await context.newPage();
  await page.goto(`${demoUrl}/blank.html`);
  await loadPackage(page);
  return page;
}

/** Reloads `page` and loads pkg/ again (a new page view, same storage). */
export async function reloadTestPage(page) {
  await page.reload();
  await loadPackage(page);
}

/**
 * Creates `window.rr` on `page` with the mock as both endpoints and `extra` config merged in;
 * onError collects into `window.rrErrors`. Returns `{ ok, sessionExternalId }` or `{ error }`.
 */
export function createTracker(page, mockUrl, extra = {}) {
  return page.evaluate(
    ([mockUrl, partnerId, extra]) => {
      try {
        window.rr = new window.RR.Tracker({
          partnerId,
          trackingUrl: mockUrl,
          apiUrl: mockUrl,
          onError: (e) => window.rrErrors.push(e),
          ...extra,
        });
        return { ok: true, sessionExternalId: window.rr.sessionExternalId };
      } catch (e) {
        return { error: { name: e.name, code: e.code, message: e.message } };
      }
    },
    [mockUrl, PARTNER_ID, extra],
  );
}

/** Runs `rr.<method>(...args)` in the page and returns its result. */
export function call(page, method, ...args) {
  return page.evaluate(([method, args]) => window.rr[method](...args), [method, args]);
}

/**
 * Search events as the tests of delivery rules use them, over one stack (`useStack()`'s env):
 * - `searches()`: every search request the mock received, `{ phrase, status, at }`, in order;
 * - `delivered()`: the phrases the mock answered 200, in order;
 * - `newPage(context, extra)`: a test page with `window.rr` made (asserting it was);
 * - `readyPage(context, extra)`: the same, once its tracker holds a session (a warm-up search was
 *   delivered; the mock is reset after it);
 * - `track(page, ...phrases)`: `rr.search(phrase)` for each, returning their results.
 */
export function searchEvents(env) {
  const searches = async () =>
    (await mockRequests(env.stack.mockUrl, `/1.0/event/search/${PARTNER_ID}`)).map((r) => ({
      phrase: r.query.searchPhrase,
      status: r.status,
      at: r.at,
    }));
  const delivered = async () => (await searches()).filter((r) => r.status === 200).map((r) => r.phrase);
  const newPage = async (context, extra) => {
    const page = await openTestPage(context, env.stack.demoUrl);
    const created = await createTracker(page, env.stack.mockUrl, extra);
    assert.ok(created.ok, JSON.stringify(created));
    return page;
  };
  const readyPage = async (context, extra) => {
    const page = await newPage(context, extra);
    await call(page, "search", "warm-up");
    await waitFor(async () => (await delivered()).includes("warm-up"), { message: "warm-up delivered" });
    env.stack.mock.reset();
    return page;
  };
  const track = (page, ...phrases) => page.evaluate((ps) => ps.map((p) => window.rr.search(p)), phrases);
  return { searches, delivered, newPage, readyPage, track };
}
