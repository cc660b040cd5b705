// Drives one engine for the suite: a WebDriver session with a "home" window that never runs a
// tracker (so it cannot deliver for the pages under test), pages on per-scenario origins, and
// the check that no page had an uncaught error from our code: what the engine printed (its
// console, where it can be read) plus what pages/capture.js reported.
import { waitFor as wait } from "../wait.mjs";
import { startSession } from "./webdriver.mjs";

export const PARTNER_ID = "608423a9b126ac6ab3f8f0a5";

/** `waitFor` (tests/wait.mjs) with the longer default timeout a browser over WebDriver needs. */
export const waitFor = (fn, { timeout = 10000, ...options } = {}) => wait(fn, { timeout, ...options });

/** Lines of the engine's own output that are uncaught errors, or script cut-offs, from a page. */
function engineErrors(engine, lines) {
  if (engine.name === "firefox") {
    // Not counted: "JavaScript warning: … Script terminated by timeout", which Firefox prints
    // when it cuts off the script a page is running as it shuts the page's process down
    // (WebDriver's own scripts get it too). What that could break (a request not made, a
    // callback left marked in use) shows as a lost event or as "closure invoked recursively or
    // after being dropped".
    return lines.filter(
      (l) =>
        /^JavaScript error: http:\/\/127\.0\.0\.1/.test(l) ||
        /closure invoked recursively or after being dropped/.test(l) ||
        (/^console\.error:/.test(l) && /retailrocket|127\.0\.0\.1/.test(l)),
    );
  }
  return lines.filter((l) => /CONSOLE JS ERROR|CONSOLE ERROR/.test(l) && /127\.0\.0\.1/.test(l));
}

export async function openEngine(engine) {
  const session = await startSession(engine);
  await session.setTimeouts({ script: 30000, pageLoad: 30000 });
  const home = await session.handle();
  let mark = session.log.length;
  const driver = {
    engine,
    session,
    home,
    version: session.capabilities.browserVersion,

    /** Uncaught errors the engine reported since the last call (its console or its driver). */
    async consoleErrors() {
      const lines = session.log.since(mark);
      mark = session.log.length;
      const found = engineErrors(engine, lines);
      if (engine.console === "driver-log") {
        for (const entry of await session.browserLog().catch(() => [])) {
          if (entry.source === "javascript" && entry.level === "SEVERE") found.push(`${entry.level} ${entry.message}`);
        }
      }
      return found;
    },

    /** Navigates the current window to `url` and waits until that new document has loaded. */
    async open(url, { complete = true } = {}) {
      // Marks the current document, so a reload of the same URL is not taken for loaded.
      await driver.pageSync(() => void (window.rrLeaving = true)).catch(() => {});
      await session.navigate(url);
      await driver.loaded(url, { complete });
    },

    /** Waits until the current window shows a new document (not one marked rrLeaving) at `url`. */
    async loaded(url, { complete = true } = {}) {
      await waitFor(
        () => driver.page((u, c) => !window.rrLeaving && location.href === u && (!c || document.readyState === "complete"), url, complete),
        { timeout: 20000, message: `${url} loaded` },
      );
    },

    /**
     * Runs `fn(...args)` in the page's own realm (through pages/capture.js's rrEval), with
     * `args` passed as JSON, and returns its result (a promise is awaited). Firefox runs
     * WebDriver scripts in a sandbox: a module it imports, and the objects it makes, belong to
     * the sandbox's realm, not the page's, which no real page ever sees.
     */
    page: (fn, ...args) => session.run((src) => window.rrEval(src), `(${fn})(...${JSON.stringify(args)})`),
    /** As `page`, synchronously: for scripts that end the page (window.close(), navigation). */
    pageSync: (fn, ...args) => session.runSync((src) => void window.rrEval(src), `(${fn})(...${JSON.stringify(args)})`),

    /** Loads pkg/ into the current page as window.RR (and window.rrErrors for onError). */
    loadPackage: () =>
      driver.page(async () => {
        // Absolute: V8 caches eval code with the base URL of the first origin that ran it.
        const mod = await import(`${location.origin}/pkg/retailrocket_tracker.js`);
        await mod.default();
        window.RR = mod;
        window.rrErrors = [];
      }),

    /** Creates window.rr on the current page against the mock; returns its sessionExternalId. */
    async tracker(mockUrl, extra = {}) {
      await driver.loadPackage();
      return driver.page(
        (mockUrl, partnerId, extra) => {
          window.rr = new window.RR.Tracker({
            partnerId,
            trackingUrl: mockUrl,
            apiUrl: mockUrl,
            // The scenarios count the events they make; the automatic pageView is tested in
            // tests/e2e/parity.test.mjs.
            pageView: false,
            onError: (e) => window.rrErrors.push({ code: e.code, message: e.message }),
            ...extra,
          });
          return window.rr.sessionExternalId;
        },
        mockUrl,
        PARTNER_ID,
        extra,
      );
    },

    /**
     * Opens `url` in a new window, switches to it, returns its handle. `byScript`: made by the
     * home page's window.open (only such a window may close itself), else by WebDriver.
     */
    async popup(url, { complete = true, byScript = false } = {}) {
      await session.switchTo(home);
      let handle;
      if (byScript) {
        // A button whose click handler calls window.open: WebDriver's click is a user gesture,
        // so no popup blocker stops it, and the window it makes may close itself.
        const before = await session.handles();
        await session.runSync((u) => {
          const button = document.createElement("button");
          button.id = "rr-open";
          button.textContent = "open";
          button.onclick = () => {
            window.open(u, "_blank");
            button.remove();
          };
          document.body.append(button);
        }, url);
        await session.click("#rr-open");
        handle = await waitFor(async () => (await session.handles()).find((h) => !before.includes(h)), {
          message: "a window opened by window.open (is the engine blocking popups?)",
        });
        await session.switchTo(handle);
        await driver.loaded(url, { complete });
      } else {
        handle = await session.newWindow();
        await session.switchTo(handle);
        await driver.open(url, { complete });
      }
      return handle;
    },

    /** Closes the current window as the browser does, and goes back home. */
    async closeWindow() {
      await session.closeWindow();
      await session.switchTo(home);
    },

    /** Back to the home window, closing every other window. */
    async reset() {
      for (const h of await session.handles()) {
        if (h === home) continue;
        await session.switchTo(h);
        await session.closeWindow().catch(() => {});
      }
      await session.switchTo(home);
    },

    quit: () => session.quit(),
  };
  return driver;
}
