// Strict local mock of Retail Rocket's partnerId-only endpoints (tracking,
// recommendations, items) plus a secret-protected apptracking imitation and a
// control API for tests. See README.md next to this file.
//
//   import { startMock } from "./tests/mock/server.mjs";
//   node tests/mock/server.mjs --port 8787 [--host 127.0.0.1] [--log] [--api-key KEY]

import { createServer } from "node:http";
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { controlRoutes, normalizeBehaviour, normalizeFault } from "./control.mjs";
import { cookieReason } from "./cookies.mjs";
import { secretReason } from "./guard.mjs";
import { BODY_LIMIT, headerObject, parseTarget, preflightHeaders, readBody, writeAnswer } from "./http.mjs";
import { matchRoute, routes } from "./routes.mjs";
import { MockState } from "./state.mjs";
import { MockError, badRequest } from "./validate.mjs";

/**
 * Start a mock server.
 * @returns {Promise<{url: string, port: number, close(): Promise<void>, requests(): object[],
 *   flagged(): object[], reset(): void, fault(spec: object): object, behave(spec: object): object,
 *   state: MockState}>}
 */
export async function startMock({ port = 0, host = "127.0.0.1", log = false, apiKey } = {}) {
  const state = new MockState({ apiKey });
  const timers = new Set();
  let closing = false;
  const say = typeof log === "function" ? log : log ? (line) => console.log(line) : () => {};

  const context = { state, say, sleep, isClosing: () => closing };
  const server = createServer((req, res) => {
    handle(req, res, context).catch((error) => {
      writeAnswer(req, res, { status: 500, json: { error: `mock internal error: ${error?.message ?? error}` } });
    });
  });
  server.on("clientError", (error, socket) => {
    if (socket.writable && !socket.destroyed) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  await new Promise((ready, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      ready();
    });
  });
  const actualPort = server.address().port;

  function sleep(ms) {
    return new Promise((done) => {
      if (closing || ms <= 0) return done();
      const timer = setTimeout(() => {
        timers.delete(timer);
        done();
      }, ms);
      timer.done = done;
      timers.add(timer);
    });
  }

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`,
    port: actualPort,
    state,
    requests: () => structuredClone(state.log),
    flagged: () => structuredClone(state.flagged()),
    reset: () => state.reset(),
    fault: (spec) => structuredClone(state.addFault(normalizeFault(spec))),
    behave: (spec) => (state.setBehaviour(normalizeBehaviour(spec)), structuredClone(state.behaviour)),
    close() {
      closing = true;
      for (const timer of timers) {
        clearTimeout(timer);
        timer.done();
      }
      timers.clear();
      return new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

async function handle(req, res, context) {
  if (req.method === "OPTIONS") {
    res.writeHead(204, preflightHeaders(req));
    res.end();
    return;
  }
  const target = parseTarget(req.url ?? "/");
  if (target.path.startsWith("/__")) return handleControl(req, res, target, context);
  return handleTracked(req, res, target, context);
}

/** Control API: not logged, never faulted or guarded. */
async function handleControl(req, res, target, { state }) {
  const { text, tooLarge } = await readBody(req);
  const answer = tooLarge ? tooLargeAnswer() : dispatch(controlRoutes, req, target, text, state);
  writeAnswer(req, res, answer);
}

/** Everything else: logged, guarded against secrets, subject to faults. */
async function handleTracked(req, res, target, { state, say, sleep, isClosing }) {
  const { text, tooLarge } = await readBody(req);
  const headers = headerObject(req.headers);
  const record = state.record({
    method: req.method,
    path: target.path,
    query: target.query,
    rawQuery: target.rawQuery,
    headers,
    body: text,
  });
  const secret = secretReason({ path: target.path, queryNames: target.queryNames, headers });
  // A secret is refused; a cookie rule broken is only flagged (Retail Rocket would answer it).
  record.flagged = secret ?? cookieReason({ path: target.path, query: target.query, headers, rcuidCookie: state.behaviour.rcuidCookie });

  const finish = (answer) => {
    record.status = answer.status;
    writeAnswer(req, res, answer);
    say(describe(record));
  };

  if (secret) return finish({ status: 403, json: { error: `refused: ${record.flagged}; partnerId-only endpoints must never receive a secret` } });
  if (tooLarge) return finish(tooLargeAnswer());

  const fault = state.takeFault(target.path);
  record.fault = fault;
  if (fault) {
    await sleep(fault.delayMs);
    if (fault.drop || isClosing()) {
      record.status = 0;
      req.socket.destroy();
      say(describe(record));
      return;
    }
    if (fault.status !== null) return finish(faultAnswer(fault));
  }
  finish(target.malformed ? errorAnswer(badRequest(target.malformed)) : dispatch(routes, req, target, text, state));
}

/** Run the matching handler of a route table and turn errors into answers. */
function dispatch(table, req, target, body, state) {
  try {
    const match = matchRoute(table, target.path);
    if (!match) return { status: 404, json: { error: `no mock route for ${req.method} ${target.path}` } };
    const handler = match.route.methods[req.method];
    if (!handler) {
      const allowed = Object.keys(match.route.methods).join(", ");
      throw new MockError(405, `method ${req.method} is not allowed on ${target.path}: expected ${allowed}`, { Allow: allowed });
    }
    return handler({
      method: req.method,
      path: target.path,
      params: match.params,
      query: target.query,
      rawQuery: target.rawQuery,
      queryNames: target.queryNames,
      headers: req.headers,
      body,
      state,
    });
  } catch (error) {
    if (error instanceof MockError) return errorAnswer(error);
    return { status: 500, json: { error: `mock internal error: ${error?.message ?? error}` } };
  }
}

function errorAnswer(error) {
  return { status: error.status, json: { error: error.message }, headers: error.headers };
}

function tooLargeAnswer() {
  return { status: 413, json: { error: `request body is larger than the ${BODY_LIMIT} byte limit` } };
}

function faultAnswer(fault) {
  const headers = fault.retryAfter === null ? {} : { "Retry-After": fault.retryAfter };
  if (fault.body !== null) return { status: fault.status, text: fault.body, headers };
  return { status: fault.status, json: { error: `injected fault: status ${fault.status}` }, headers };
}

function describe(record) {
  const notes = [record.fault && `fault #${record.fault.id}`, record.flagged && `FLAGGED: ${record.flagged}`].filter(Boolean);
  return `[rr-mock] ${record.method} ${record.path}${record.rawQuery ? "?" + record.rawQuery : ""} -> ${record.status}${notes.length ? " (" + notes.join("; ") + ")" : ""}`;
}

// ---------------------------------------------------------------- command line

function parseArgs(argv) {
  const options = { port: 8787, host: "127.0.0.1", log: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--log") options.log = true;
    else if (arg === "--port") options.port = Number(argv[++i]);
    else if (arg === "--host") options.host = argv[++i];
    else if (arg === "--api-key") options.apiKey = argv[++i];
    else throw new Error(`unknown argument ${arg}; usage: server.mjs [--port N] [--host H] [--log] [--api-key KEY]`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error("--port needs a number from 0 to 65535");
  return options;
}

async function main() {
  const mock = await startMock(parseArgs(process.argv.slice(2)));
  console.log(`mock Retail Rocket listening on ${mock.url}`);
  const stop = () => mock.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function isMain() {
  try {
    return realpathSync(resolve(process.argv[1] ?? "")) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((error) => {
    console.error(`mock Retail Rocket failed to start: ${error.message}`);
    process.exit(1);
  });
}
