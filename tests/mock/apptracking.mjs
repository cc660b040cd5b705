// Mock of the secret-protected server-side tracking API
// (apptracking.retailrocket.net, protocol reference §3B). Only the batch
// method visitorEvents is imitated; it is the one route where apiKey is allowed.

import {
  MockError, PARTNER_ID, SESSION_EXTERNAL_ID, badRequest, isIsoTimestamp, mediaType, parseJsonBody, shown,
} from "./validate.mjs";

export const APPTRACKING_PATH = "/apptracking/1.0/visitorEvents";

export const BATCH_EVENT_NAMES = Object.freeze([
  "view", "groupView", "addToBasket", "categoryView", "categoryViewByCategoryPath",
  "order", "search", "setContact", "recomTap", "recomAddToBasket",
]);

/** POST /apptracking/1.0/visitorEvents?partnerId=..&apiKey=.. */
export function visitorEvents({ query, headers, body, state }) {
  if (!PARTNER_ID.test(query.partnerId ?? "")) {
    throw badRequest(`query parameter "partnerId" must be 24 lowercase hex characters (got ${shown(query.partnerId)})`);
  }
  if (query.apiKey !== state.behaviour.apiKey) {
    const why = query.apiKey === undefined ? "is missing" : "does not match the mock's configured key";
    throw new MockError(401, `query parameter "apiKey" ${why}`);
  }
  if (mediaType(headers["content-type"]) !== "application/json") {
    throw badRequest(`visitorEvents body needs Content-Type application/json (got ${shown(headers["content-type"])})`);
  }
  const events = parseJsonBody(body, "visitorEvents body");
  if (!Array.isArray(events) || events.length === 0) {
    throw badRequest(`visitorEvents body must be a non-empty JSON array of {"<eventName>": {...}} envelopes (got ${shown(body)})`);
  }
  events.forEach(checkEnvelope);
  return { status: 200, json: { ok: true } };
}

function checkEnvelope(envelope, index) {
  const where = `visitorEvents[${index}]`;
  const keys = isPlainObject(envelope) ? Object.keys(envelope) : [];
  if (keys.length !== 1) {
    throw badRequest(`${where} must be an object with exactly one key, the event name (got ${shown(JSON.stringify(envelope))})`);
  }
  const [name] = keys;
  if (!BATCH_EVENT_NAMES.includes(name)) {
    throw badRequest(`${where} has unknown event name ${shown(name)}: expected one of ${BATCH_EVENT_NAMES.join(", ")}`);
  }
  const event = envelope[name];
  if (!isPlainObject(event)) throw badRequest(`${where}.${name} must be a JSON object`);
  if (typeof event.sessionExternalId !== "string" || !SESSION_EXTERNAL_ID.test(event.sessionExternalId)) {
    throw badRequest(`${where}.${name}.sessionExternalId must be 1-50 ASCII letters or digits (got ${shown(event.sessionExternalId)})`);
  }
  if (!isIsoTimestamp(event.timestamp)) {
    throw badRequest(`${where}.${name}.timestamp must be an ISO 8601 date-time with a zone, e.g. "2024-05-01T12:00:00Z" (got ${shown(event.timestamp)})`);
  }
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
