// How to start each engine under WebDriver, how to read its console, and what it can be driven
// to do. The one scenario suite (suite.test.mjs) runs against every entry.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const cargoBin = (name) => path.join(os.homedir(), ".cargo", "bin", name);
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// As in tests/e2e/harness.mjs (which this suite does not import: it needs no Playwright).
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/** Asks a binary for its version line, or null. */
function versionOf(argv, pattern) {
  try {
    const out = execFileSync(argv[0], argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20000 });
    return out.match(pattern)?.[1] ?? out.trim().split("\n")[0];
  } catch {
    return null;
  }
}

/** The version of a Debian package, or null. */
const debVersion = (pkg) => versionOf(["dpkg-query", "-W", "-f=${Version}", pkg], /^([^-~+]+)/);

/**
 * Every engine the README names. `windows`: the engine can open and close top-level windows
 * under WebDriver (cog, WPE's browser here, shows one view and cannot). `console`: where its
 * console output is read: "driver-log" (chromedriver's log endpoint) or "stdout" (the browser
 * prints it, and the driver passes it on).
 */
export const ENGINES = [
  {
    name: "chromium",
    label: "Chromium",
    binary: CHROMIUM_PATH,
    driver: "/usr/bin/chromedriver",
    command: ["/usr/bin/chromedriver", "--port={port}"],
    capabilities: {
      browserName: "chrome",
      pageLoadStrategy: "none",
      "goog:chromeOptions": { binary: CHROMIUM_PATH, args: CHROMIUM_ARGS },
      "goog:loggingPrefs": { browser: "ALL" },
    },
    console: "driver-log",
    windows: true,
    version: () => versionOf([CHROMIUM_PATH, "--version"], /Chromium ([\d.]+)/),
  },
  {
    name: "firefox",
    label: "Firefox ESR",
    binary: "/usr/bin/firefox-esr",
    driver: cargoBin("geckodriver"),
    command: [cargoBin("geckodriver"), "--port", "{port}", "--log", "warn"],
    capabilities: {
      browserName: "firefox",
      pageLoadStrategy: "none",
      "moz:firefoxOptions": {
        binary: "/usr/bin/firefox-esr",
        args: ["-headless"],
        // The page's console on Firefox's stdout (WebDriver cannot read Firefox's console).
        prefs: { "devtools.console.stdout.content": true },
      },
    },
    console: "stdout",
    windows: true,
    version: () => versionOf(["/usr/bin/firefox-esr", "--version"], /Firefox ([\d.]+)/),
  },
  {
    name: "webkitgtk",
    label: "WebKitGTK",
    binary: MINIBROWSER,
    driver: "/usr/bin/WebKitWebDriver",
    // MiniBrowser needs a display; --automation, or the session hangs with an empty log.
    command: ["xvfb-run", "-a", "/usr/bin/WebKitWebDriver", "--port={port}"],
    capabilities: {
      browserName: "MiniBrowser",
      pageLoadStrategy: "none",
      "webkitgtk:browserOptions": {
        binary: MINIBROWSER,
        args: ["--automation", "--enable-write-console-messages-to-stdout=true"],
      },
    },
    console: "stdout",
    windows: true,
    version: () => debVersion("libwebkit2gtk-4.1-0"),
  },
  {
    name: "wpe",
    label: "WPE WebKit",
    binary: "/usr/bin/cog",
    driver: "/usr/bin/WPEWebDriver",
    command: ["/usr/bin/WPEWebDriver", "--port={port}"],
    capabilities: {
      pageLoadStrategy: "none",
      "wpe:browserOptions": {
        binary: "/usr/bin/cog",
        args: ["--automation", "--platform=headless", "--enable-write-console-messages-to-stdout=true"],
      },
    },
    console: "stdout",
    windows: false,
    version: () => debVersion("libwpewebkit-1.1-0"),
  },
];

/** The engines to run: all, or those named in RR_ENGINES (comma-separated). */
export function selectedEngines() {
  const wanted = (process.env.RR_ENGINES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((w) => !ENGINES.some((e) => e.name === w));
  if (unknown.length) throw new Error(`RR_ENGINES: unknown engine ${unknown.join(", ")}`);
  return wanted.length ? ENGINES.filter((e) => wanted.includes(e.name)) : ENGINES;
}

/** Throws, naming what scripts/setup installs, unless the engine's browser and driver exist. */
export function ensureInstalled(engine) {
  for (const file of [engine.binary, engine.driver]) {
    if (!existsSync(file)) throw new Error(`${engine.label}: ${file} is missing: run scripts/setup`);
  }
}
