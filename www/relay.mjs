// The reference first-party relay: the pattern a store's backend follows to use Retail Rocket's
// server-side tracking API without ever giving its secret apiKey to a page or an app.
//
//   page ──POST /rr/visitorEvents?partnerId=…  [ {"view": {sessionExternalId, timestamp, …}}, … ]──▶ this relay
//   relay ──checks the batch, adds ?apiKey= from its environment──▶ Retail Rocket's visitorEvents
//
// The tracker sends one batch at a time per visitor and retries on 5xx, so the relay answers
// 502/503 when the upstream fails (retry later) and 400 when the batch is bad (never retry).

const EVENTS = new Set([
  "view", "groupView", "addToBasket", "categoryView", "categoryViewByCategoryPath",
  "order", "search", "setContact", "recomTap", "recomAddToBasket",
]);
const EXTERNAL_ID = /^[A-Za-z0-9]{1,50}$/;
const MAX_BODY = 256 * 1024;
const MAX_EVENTS = 100;

/** Why a batch is refused, or null when it is well-formed. */
export function checkBatch(batch) {
  if (!Array.isArray(batch) || batch.length === 0 || batch.length > MAX_EVENTS) {
    return `the body must be a JSON array of 1 to ${MAX_EVENTS} event envelopes`;
  }
  for (const [i, envelope] of batch.entries()) {
    const names = envelope && typeof envelope === "object" ? Object.keys(envelope) : [];
    if (names.length !== 1 || !EVENTS.has(names[0])) return `[${i}] must be { "<event>": {…} } with a known event`;
    const event = envelope[names[0]];
    if (!event || typeof event !== "object") return `[${i}].${names[0]} must be an object`;
    if (!EXTERNAL_ID.test(event.sessionExternalId ?? "")) return `[${i}].sessionExternalId must be 1-50 letters/digits`;
    if (Number.isNaN(Date.parse(event.timestamp ?? ""))) return `[${i}].timestamp must be ISO 8601`;
    const keys = Object.keys(event).map((k) => k.toLowerCase());
    if (keys.some((k) => k.includes("apikey"))) return `[${i}] must not carry an apiKey`;
  }
  return null;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(Object.assign(new Error("body too large"), { status: 413 }));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * A request handler for `POST {prefix}visitorEvents?partnerId=…`.
 * @param {{ partnerId: string, upstream: string, apiKey?: string }} options
 *   `upstream`: Retail Rocket's visitorEvents URL (the mock's in the demo); `apiKey` from the
 *   server's environment, never from the request.
 */
export function relayHandler({ partnerId, upstream, apiKey }) {
  const answer = (res, status, value, headers = {}) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), "Cache-Control": "no-store", ...headers });
    res.end(body);
  };
  return async (req, res, rest) => {
    if (rest !== "visitorEvents") return answer(res, 404, { error: "the relay only takes visitorEvents" });
    const query = new URL(req.url, "http://relay.invalid").searchParams;
    if (query.get("partnerId") !== partnerId) return answer(res, 400, { error: "unknown partnerId" });
    if ([...query.keys()].some((k) => k.toLowerCase().includes("apikey"))) {
      return answer(res, 400, { error: "the page must never send an apiKey" });
    }
    if (!apiKey) return answer(res, 503, { error: "relay not configured: set RR_API_KEY on the server" });
    let batch;
    try {
      batch = JSON.parse(await readBody(req));
    } catch (err) {
      return answer(res, err.status ?? 400, { error: err.status ? err.message : "the body is not JSON" });
    }
    const problem = checkBatch(batch);
    if (problem) return answer(res, 400, { error: problem });
    const target = new URL(upstream);
    target.searchParams.set("partnerId", partnerId);
    target.searchParams.set("apiKey", apiKey);
    let upstreamStatus;
    let retryAfter;
    try {
      const response = await fetch(target, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(10_000),
      });
      upstreamStatus = response.status;
      retryAfter = response.headers.get("Retry-After");
    } catch {
      return answer(res, 502, { error: "Retail Rocket did not answer; retry later" });
    }
    if (upstreamStatus >= 200 && upstreamStatus < 300) return answer(res, 200, { ok: true, events: batch.length });
    // Same origin: the page can read Retry-After here, so a 429's pause reaches the tracker.
    const wait = retryAfter ? { "Retry-After": retryAfter } : {};
    if (upstreamStatus === 429) return answer(res, 503, { error: "upstream HTTP 429" }, wait);
    if (upstreamStatus >= 500) return answer(res, 502, { error: `upstream HTTP ${upstreamStatus}` }, wait);
    // 401/403 mean the relay's key is wrong, which the page cannot fix. Answering as an outage
    // keeps the events queued (the tracker retries, up to its attempt limit) while the operator
    // fixes the key.
    if (upstreamStatus === 401 || upstreamStatus === 403) return answer(res, 503, { error: "relay misconfigured (upstream refused the key)" });
    return answer(res, 400, { error: `upstream refused the batch (HTTP ${upstreamStatus})` });
  };
}
