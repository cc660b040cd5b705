// A minimal W3C WebDriver client over plain HTTP (Node's fetch), enough to drive Chromium,
// Firefox, WebKitGTK and WPE WebKit through their own drivers. It starts the driver, keeps
// everything the driver and the browser print (the browser's console goes there: see
// engines.mjs), and offers the few commands the engine suite needs.
import { spawn } from "node:child_process";
import net from "node:net";

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The browser's and driver's output, line by line, with a cursor per reader. */
export class OutputLog {
  constructor() {
    this.lines = [];
    this.partial = { stdout: "", stderr: "" };
  }
  feed(stream, chunk) {
    const text = this.partial[stream] + chunk.toString("utf8");
    const parts = text.split("\n");
    this.partial[stream] = parts.pop();
    for (const line of parts) this.lines.push(line);
  }
  get length() {
    return this.lines.length;
  }
  since(mark) {
    return this.lines.slice(mark);
  }
}

class WebDriverError extends Error {
  constructor(command, status, value) {
    super(`${command}: HTTP ${status} ${value?.error ?? ""}: ${String(value?.message ?? "").split("\n")[0]}`);
    this.error = value?.error;
  }
}

/**
 * Starts a driver process and a session on it.
 * @param {{ name: string, command: string[], capabilities: object, env?: object, startTimeout?: number }} spec
 */
export async function startSession({ name, command, capabilities, env, startTimeout = 60000 }) {
  const port = await freePort();
  const argv = command.map((a) => String(a).replaceAll("{port}", String(port)));
  const log = new OutputLog();
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so quitting also ends the browser and xvfb
  });
  child.stdout.on("data", (c) => log.feed("stdout", c));
  child.stderr.on("data", (c) => log.feed("stderr", c));
  let exited = null;
  child.once("exit", (code, signal) => (exited = { code, signal }));
  const base = `http://127.0.0.1:${port}`;

  const kill = () => {
    if (exited) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  };

  async function http(method, path, body, timeout = 60000) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? undefined : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = { value: { error: "not json", message: text.slice(0, 200) } };
    }
    if (!res.ok) throw new WebDriverError(`${method} ${path}`, res.status, json.value);
    return json.value;
  }

  const deadline = Date.now() + startTimeout;
  for (;;) {
    if (exited) throw new Error(`${name}: driver exited (${JSON.stringify(exited)}):\n${log.lines.join("\n")}`);
    try {
      const status = await http("GET", "/status", undefined, 2000);
      if (status?.ready !== false) break;
    } catch {}
    if (Date.now() > deadline) {
      kill();
      throw new Error(`${name}: driver not ready after ${startTimeout} ms:\n${log.lines.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  let created;
  try {
    created = await http("POST", "/session", { capabilities: { alwaysMatch: capabilities } }, startTimeout);
  } catch (err) {
    kill();
    throw new Error(`${name}: no session: ${err.message}\n${log.lines.slice(-30).join("\n")}`);
  }
  const id = created.sessionId;
  const s = (path) => `/session/${id}${path}`;
  const wrap = (fn) => `return (${fn}).apply(null, arguments)`;

  const session = {
    name,
    log,
    capabilities: created.capabilities,
    /** Loads `url`; with pageLoadStrategy "none" it returns once navigation started. */
    navigate: (url) => http("POST", s("/url"), { url }),
    url: () => http("GET", s("/url")),
    back: () => http("POST", s("/back"), {}),
    /** Runs `fn(...args)` in the current page and returns its (JSON) result; a promise is awaited. */
    async run(fn, ...args) {
      const script =
        `const done = arguments[arguments.length - 1];` +
        `Promise.resolve().then(() => (${fn}).apply(null, Array.prototype.slice.call(arguments, 0, -1)))` +
        `.then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ thrown: String(e && e.stack || e) }));`;
      const out = await http("POST", s("/execute/async"), { script, args });
      if (out && "thrown" in out) throw new Error(`${name}: page threw: ${out.thrown}`);
      return out?.ok;
    },
    /** Runs `fn` synchronously; for scripts that may end the page (window.close()). */
    runSync: (fn, ...args) => http("POST", s("/execute/sync"), { script: wrap(fn), args }),
    handle: () => http("GET", s("/window")),
    handles: () => http("GET", s("/window/handles")),
    switchTo: (handle) => http("POST", s("/window"), { handle }),
    /** Opens a new top-level window (a tab where the browser has tabs) and returns its handle. */
    newWindow: async () => (await http("POST", s("/window/new"), { type: "tab" })).handle,
    /** Closes the current window, as the browser's own close button would. */
    closeWindow: () => http("DELETE", s("/window")),
    setTimeouts: (t) => http("POST", s("/timeouts"), t),
    /** Clicks the first element matching `css`, as a user would (a user gesture). */
    async click(css) {
      const found = await http("POST", s("/element"), { using: "css selector", value: css });
      const id = found["element-6066-11e4-a52e-4f735466cecf"];
      await http("POST", s(`/element/${id}/click`), {});
    },
    /** Chromium only: console messages collected by chromedriver since the last call. */
    browserLog: () => http("POST", s("/se/log"), { type: "browser" }),
    async quit() {
      try {
        await http("DELETE", s(""), undefined, 15000);
      } catch {}
      await new Promise((resolve) => {
        if (exited) return resolve();
        const timer = setTimeout(() => {
          kill();
          resolve();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      kill();
    },
  };
  return session;
}
