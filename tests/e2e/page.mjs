// A blank page on the demo server's origin with the built package loaded, for tests that drive
// the Tracker directly. It is a real page from the real server: a page Playwright makes up has no
// address, and Chromium then blocks its requests to the loopback mock (Local Network Access).
import { PARTNER_ID } from "./harness.mjs";

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
