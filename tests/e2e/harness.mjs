// Shared helpers for the end-to-end tests (node:test + playwright-core driving Debian's chromium).
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";
import { chromium } from "playwright-core";
import { startDemoServer, PARTNER_ID } from "../../www/server.mjs";

export { PARTNER_ID };
export { waitFor } from "../wait.mjs";
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Throws a clear error unless the wasm-pack output the demo page loads is present. */
export function ensurePkgBuilt(root = REPO_ROOT) {
  const missing = ["retailrocket_tracker.js", "retailrocket_tracker_bg.wasm"]
    .map((f) => path.join(root, "pkg", f))
    .filter((f) => !existsSync(f));
  if (missing.length) {
    throw new Error(
      `${path.relative(root, missing[0])} is missing: run scripts/test or scripts/build first`,
    );
  }
}

/** A fresh, empty directory for a browser profile. Remove it with removeDir(). */
export const tempProfileDir = (prefix = "rr-e2e-profile-") => mkdtemp(path.join(os.tmpdir(), prefix));
export const removeDir = (dir) => rm(dir, { recursive: true, force: true });

/**
 * Launches headless chromium. With `userDataDir`, the browser runs on that persistent profile, so a
 * test can close it and launch again on the same profile (cookies, localStorage survive).
 * @returns {Promise<{ browser: import("playwright-core").Browser | null,
 *   context: import("playwright-core").BrowserContext, newPage(): Promise<import("playwright-core").Page>,
 *   close(): Promise<void> }>}
 */
export async function launchBrowser({ userDataDir, contextOptions = {}, ...launchOptions } = {}) {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`chromium not found at ${CHROMIUM_PATH}: run scripts/setup (apt package chromium)`);
  }
  const options = {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    ...launchOptions,
  };
  if (userDataDir) {
    const context = await chromium.launchPersistentContext(userDataDir, { ...options, ...contextOptions });
    // A persistent context opens with one blank page: hand that out first.
    let spare = context.pages()[0];
    return {
      browser: context.browser(),
      context,
      newPage: async () => {
        const page = spare && !spare.isClosed() ? spare : await context.newPage();
        spare = undefined;
        return page;
      },
      close: () => context.close(),
    };
  }
  const { viewport, ...browserOptions } = options;
  const browser = await chromium.launch(browserOptions);
  const context = await browser.newContext({ viewport, ...contextOptions });
  return {
    browser,
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close().catch(() => {});
      await browser.close();
    },
  };
}

/**
 * Starts the mock Retail Rocket (tests/mock/server.mjs) and the demo storefront server on free
 * ports of 127.0.0.1. Both URLs have no trailing slash: `${demoUrl}/pkg/...`.
 * @returns {Promise<{ mock, demo, mockUrl: string, demoUrl: string, close(): Promise<void> }>}
 */
export async function startStack({ root = REPO_ROOT } = {}) {
  const { startMock } = await import("../mock/server.mjs");
  // The relay's secret: known to the mock Retail Rocket and the demo server, never to the page.
  const apiKey = `test-relay-key-${randomUUID().replaceAll("-", "")}`;
  const mock = await startMock({ port: 0, host: "127.0.0.1", apiKey });
  const mockUrl = String(mock.url).replace(/\/+$/, "");
  let demo;
  try {
    demo = await startDemoServer({ port: 0, host: "127.0.0.1", root, mockUrl, apiKey });
  } catch (err) {
    await mock.close();
    throw err;
  }
  return {
    mock,
    demo,
    mockUrl,
    demoUrl: String(demo.url).replace(/\/+$/, ""),
    apiKey,
    close: async () => {
      await Promise.allSettled([demo.close(), mock.close()]);
    },
  };
}

/** Collects console errors and uncaught page errors of `page` into the returned (live) array. */
export function collectConsoleErrors(page) {
  const errors = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const { url, lineNumber } = msg.location() ?? {};
    errors.push(`console.error: ${msg.text()}${url ? ` (${url}:${lineNumber})` : ""}`);
  });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err?.stack ?? err}`));
  return errors;
}

/** The requests the mock recorded (GET /__requests), optionally only those whose path starts with `pathPrefix`. */
export async function mockRequests(mockUrl, pathPrefix) {
  const res = await fetch(`${String(mockUrl).replace(/\/+$/, "")}/__requests`, { cache: "no-store" });
  if (!res.ok) throw new Error(`GET /__requests: HTTP ${res.status}`);
  const all = await res.json();
  return pathPrefix ? all.filter((r) => String(r.path).startsWith(pathPrefix)) : all;
}

/** Opens the demo page (`search`: e.g. "?mode=relay") and waits until its boot sequence finished (tracker created or failed). */
export async function openDemo(page, demoUrl, { timeout = 15000, search = "" } = {}) {
  await page.goto(`${String(demoUrl).replace(/\/+$/, "")}/${search}`);
  await page.waitForFunction(() => document.documentElement.dataset.ready, null, { timeout });
  return page.evaluate(() => document.documentElement.dataset.ready);
}

/**
 * For a test file: starts the stack and a browser before its tests and closes them after.
 * Returns `{ stack, browser }`, filled in once the tests run. `beforeClose(env)` runs first when
 * closing (for checks over everything the tests sent).
 */
export function useStack({ beforeClose } = {}) {
  const env = { stack: undefined, browser: undefined };
  before(async () => {
    ensurePkgBuilt();
    env.stack = await startStack();
    env.browser = await launchBrowser();
  });
  after(async () => {
    try {
      if (beforeClose && env.stack) await beforeClose(env);
    } finally {
      await env.browser?.close();
      await env.stack?.close();
    }
  });
  return env;
}
