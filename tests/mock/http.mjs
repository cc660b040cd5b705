// HTTP plumbing for the mock: request-target parsing, body reading with a
// size cap, CORS headers and writing answers.

export const BODY_LIMIT = 1024 * 1024; // 1 MB
const DRAIN_LIMIT = 64 * BODY_LIMIT; // past this, stop being polite and hang up

/**
 * Split a request target into path and query without trusting it to be a
 * valid URL. `query` keeps the last value of repeated keys; `malformed`
 * describes the first query pair whose percent-encoding is broken.
 */
export function parseTarget(target) {
  const cut = target.indexOf("?");
  const path = cut === -1 ? target : target.slice(0, cut);
  const rawQuery = cut === -1 ? "" : target.slice(cut + 1);
  const entries = new Map();
  const names = [];
  let malformed = null;
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const [rawName, rawValue] = eq === -1 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const name = decodeQueryPart(rawName);
    const value = decodeQueryPart(rawValue);
    if ((name.broken || value.broken) && malformed === null) {
      malformed = `malformed percent-encoding in query parameter ${JSON.stringify(pair.slice(0, 60))}`;
    }
    names.push(name.text);
    entries.set(name.text, value.text);
  }
  return { path, rawQuery, query: Object.fromEntries(entries), queryNames: names, malformed };
}

function decodeQueryPart(raw) {
  const text = raw.replace(/\+/g, " ");
  try {
    return { text: decodeURIComponent(text), broken: false };
  } catch {
    return { text, broken: true };
  }
}

/** Lower-case header names (as Node gives them), repeated values joined. */
export function headerObject(headers) {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : value]));
}

/**
 * Read the whole body as UTF-8 text (null when there is none). Bodies over
 * the limit are drained and discarded (`tooLarge`), so the client still gets
 * a clean 413 instead of a reset connection.
 */
export function readBody(req, limit = BODY_LIMIT) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_LIMIT) req.destroy();
    });
    req.on("end", () => resolve(finish()));
    req.on("close", () => resolve(finish())); // aborted or destroyed; resolve only counts once
    req.on("error", () => {});
    function finish() {
      if (size > limit) return { text: null, tooLarge: true };
      return { text: size === 0 ? null : Buffer.concat(chunks).toString("utf8"), tooLarge: false };
    }
  });
}

/** CORS headers sent on every answer, like the real tracking/api hosts. */
export function corsHeaders(req) {
  return {
    "Access-Control-Allow-Origin": req.headers.origin ?? "*",
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Expose-Headers": "Retry-After, Cache-Control",
    Vary: "Origin",
  };
}

export function preflightHeaders(req) {
  const headers = {
    ...corsHeaders(req),
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Max-Age": "600",
  };
  const requested = req.headers["access-control-request-headers"];
  if (requested !== undefined) headers["Access-Control-Allow-Headers"] = requested;
  return headers;
}

/**
 * Write an answer. `json` is serialised; `text` is sent verbatim (still
 * labelled application/json: it is how injected garbage bodies reach clients).
 */
export function writeAnswer(req, res, { status, json, text, headers = {} }) {
  if (res.headersSent || res.destroyed) return;
  const payload = text ?? (json === undefined ? "" : JSON.stringify(json));
  const all = { ...corsHeaders(req), "Cache-Control": "no-store", ...headers };
  if (status !== 204 && status !== 304) {
    all["Content-Type"] = "application/json";
    all["Content-Length"] = Buffer.byteLength(payload);
  }
  res.writeHead(status, all);
  res.end(status === 204 || status === 304 ? undefined : payload);
}
