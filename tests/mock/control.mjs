// Control API of the mock (`/__*`, not part of Retail Rocket): read/clear the
// request log, inject faults, change behaviour. Requests to it are not logged.

import { badRequest, parseJsonBody, shown } from "./validate.mjs";

const MAX_DELAY_MS = 120_000;
const HEADER_VALUE = /^[\t\x20-\x7e]+$/; // printable ASCII, no CR/LF

const NO_CONTENT = { status: 204 };

export const controlRoutes = [
  { pattern: "/__health", methods: { GET: () => ({ status: 200, json: { ok: true } }) } },
  {
    pattern: "/__requests",
    methods: {
      GET: ({ query, state }) => ({ status: 200, json: state.requests(query.path ?? "") }),
      DELETE: ({ state }) => (state.clearLog(), NO_CONTENT),
    },
  },
  { pattern: "/__flagged", methods: { GET: ({ state }) => ({ status: 200, json: state.flagged() }) } },
  {
    pattern: "/__faults",
    methods: {
      GET: ({ state }) => ({ status: 200, json: state.faults }),
      POST: ({ body, state }) => ({ status: 201, json: state.addFault(normalizeFault(optionalJson(body))) }),
      DELETE: ({ state }) => (state.clearFaults(), NO_CONTENT),
    },
  },
  {
    pattern: "/__behaviour",
    methods: {
      GET: ({ state }) => ({ status: 200, json: state.behaviour }),
      POST: ({ body, state }) => {
        state.setBehaviour(normalizeBehaviour(optionalJson(body)));
        return { status: 200, json: state.behaviour };
      },
      DELETE: ({ state }) => (state.resetBehaviour(), NO_CONTENT),
    },
  },
  { pattern: "/__reset", methods: { POST: ({ state }) => (state.reset(), NO_CONTENT) } },
];

function optionalJson(body) {
  return body === null || body.trim() === "" ? {} : parseJsonBody(body, "control request body");
}

function checkKeys(spec, allowed, what) {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw badRequest(`${what} must be a JSON object`);
  }
  const unknown = Object.keys(spec).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw badRequest(`${what} has unknown field(s) ${unknown.join(", ")}: expected ${allowed.join(", ")}`);
  }
}

/**
 * Validate a POST /__faults body. The injected answer is `status` (default
 * 503), except: `drop` answers nothing, and a fault with only `delayMs`
 * (no status, body, retryAfter or drop) lets the normal answer through, late.
 */
export function normalizeFault(spec) {
  checkKeys(spec, ["match", "status", "count", "retryAfter", "delayMs", "drop", "body"], "fault");
  const { match = null, status, count = 1, retryAfter, delayMs = 0, drop = false, body = null } = spec;
  if (match !== null && (typeof match !== "string" || !match.startsWith("/"))) {
    throw badRequest(`fault "match" must be a path prefix starting with "/" (got ${shown(match)})`);
  }
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw badRequest(`fault "status" must be an integer from 200 to 599 (got ${shown(status)})`);
  }
  if (!Number.isInteger(count) || count < 1) throw badRequest(`fault "count" must be a positive integer (got ${shown(count)})`);
  if (retryAfter !== undefined && !((typeof retryAfter === "string" || typeof retryAfter === "number") && HEADER_VALUE.test(String(retryAfter)))) {
    throw badRequest(`fault "retryAfter" must be a string such as "2" (got ${shown(retryAfter)})`);
  }
  if (typeof delayMs !== "number" || !(delayMs >= 0 && delayMs <= MAX_DELAY_MS)) {
    throw badRequest(`fault "delayMs" must be a number from 0 to ${MAX_DELAY_MS} (got ${shown(delayMs)})`);
  }
  if (typeof drop !== "boolean") throw badRequest(`fault "drop" must be true or false (got ${shown(drop)})`);
  if (body !== null && typeof body !== "string") throw badRequest(`fault "body" must be a string (got ${shown(body)})`);
  const delayOnly = !drop && status === undefined && retryAfter === undefined && body === null && delayMs > 0;
  return {
    match,
    status: drop ? 0 : delayOnly ? null : (status ?? 503),
    count,
    retryAfter: retryAfter === undefined ? null : String(retryAfter),
    delayMs,
    drop,
    body,
  };
}

export function normalizeBehaviour(spec) {
  checkKeys(spec, ["cacheControl", "apiKey", "rcuidCookie"], "behaviour");
  if (spec.rcuidCookie !== undefined && typeof spec.rcuidCookie !== "boolean") {
    throw badRequest(`behaviour "rcuidCookie" must be true or false (got ${shown(spec.rcuidCookie)})`);
  }
  for (const key of ["cacheControl", "apiKey"]) {
    if (spec[key] !== undefined && !(typeof spec[key] === "string" && HEADER_VALUE.test(spec[key]))) {
      throw badRequest(`behaviour "${key}" must be a non-empty string of printable ASCII (got ${shown(spec[key])})`);
    }
  }
  return spec;
}
