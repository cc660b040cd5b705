// Tracking routes of tracking.retailrocket.net (protocol reference §3A):
// session bootstrap and the partnerId-only browser events.

import { randomBytes } from "node:crypto";
import {
  MockError, SESSION, badRequest, checkBoolean, checkCategoryPath, checkId, checkPartnerId,
  checkPattern, checkPositiveInteger, checkPositiveNumber, checkSession, checkSessionExternalId,
  checkStockId, checkText, isValidId, mediaType, parseJsonBody, shown,
} from "./validate.mjs";

const OK = { ok: true };
const MAX_GROUP_VIEW_IDS = 100;

/** GET /1.0/event/initialize/{partnerId}?session={candidate} */
export function initialize({ params, query }) {
  checkPartnerId(params.partnerId);
  const candidate = query.session;
  const sessionId = candidate !== undefined && SESSION.test(candidate) ? candidate : randomBytes(12).toString("hex");
  return { status: 200, json: { sessionId } };
}

const EMAIL = /^[^@]+@[^@]+$/;

/**
 * Event rules. `id`: whether the path id is "required", "optional" or "none".
 * `method`: the HTTP method the event must use. `check`: extra query/body rules.
 */
const EVENTS = {
  view: { id: "required", check: ({ query }) => optionalId(query, "recomItemId") },
  addToBasket: { id: "required" },
  removeFromBasket: { id: "required" },
  recomMouseDown: { id: "required" }, // optional suggester, suggestMethod: free text
  recomAddToBasket: { id: "required" },
  order: { id: "required", check: checkOrder },
  categoryView: { id: "optional", check: checkCategoryView },
  search: { id: "none", check: ({ query }) => checkText(query, "searchPhrase", { max: 50, trim: true }) },
  setEmail: { id: "none", check: checkSetEmail },
  pageView: { id: "none" },
  groupView: { id: "none", method: "POST", check: checkGroupView },
};

export const EVENT_NAMES = Object.freeze(Object.keys(EVENTS));

/** GET /1.0/event/{event}/{partnerId}[/{id}] and POST /1.0/event/groupView/{partnerId} */
export function trackEvent(ctx) {
  const { params, method } = ctx;
  checkPartnerId(params.partnerId);
  if (!Object.hasOwn(EVENTS, params.event)) {
    throw badRequest(`unknown event ${shown(params.event)}: expected one of ${EVENT_NAMES.join(", ")} (case-sensitive)`);
  }
  const rule = EVENTS[params.event];
  checkMethod(params.event, rule.method ?? "GET", method);
  checkPathId(params.event, rule.id, params.id);
  checkSession(ctx.query);
  checkSessionExternalId(ctx.query);
  checkStockId(ctx.query);
  rule.check?.(ctx);
  return { status: 200, json: OK };
}

function checkMethod(event, expected, actual) {
  if (actual === expected) return;
  if (event === "groupView") throw badRequest(`event "groupView" must be sent with POST and a JSON body (got ${actual})`);
  throw new MockError(405, `event "${event}" must be sent with ${expected} (got ${actual})`, { Allow: expected });
}

function checkPathId(event, rule, id) {
  if (rule === "required" && id === undefined) {
    throw badRequest(`event "${event}" needs an id in the path: /1.0/event/${event}/{partnerId}/{id}`);
  }
  if (rule === "none" && id !== undefined) {
    throw badRequest(`event "${event}" takes no id in the path (got ${shown(id)})`);
  }
  if (id !== undefined) checkId(id, `the id in the path of event "${event}"`);
}

function optionalId(query, name) {
  if (query[name] !== undefined) checkId(query[name], `query parameter "${name}"`);
}

function checkOrder({ query }) {
  checkText(query, "transaction", { max: 50 });
  checkPositiveInteger(query, "qnt");
  checkPositiveNumber(query, "price");
}

function checkCategoryView({ params, query }) {
  if (params.id === undefined || query.categoryPath !== undefined) {
    checkCategoryPath(query, "categoryPath");
  }
}

function checkSetEmail({ query }) {
  checkPattern(query, "email", EMAIL, "an address with exactly one \"@\" and text on both sides");
  checkBoolean(query, "isAgreedToReceiveMarketingMail");
}

function checkGroupView({ headers, body, query }) {
  optionalId(query, "recomItemId");
  const type = mediaType(headers["content-type"]);
  if (type !== "application/json" && type !== "text/plain") {
    throw badRequest(`groupView body needs Content-Type application/json or text/plain (got ${shown(headers["content-type"])})`);
  }
  const data = parseJsonBody(body, "groupView body");
  const ids = data?.productIds;
  if (data === null || typeof data !== "object" || Array.isArray(data) || !Array.isArray(ids)) {
    throw badRequest(`groupView body must be an object {"productIds":[id,...]} (got ${shown(body)})`);
  }
  if (ids.length < 1 || ids.length > MAX_GROUP_VIEW_IDS) {
    throw badRequest(`groupView "productIds" must hold 1-${MAX_GROUP_VIEW_IDS} ids (got ${ids.length})`);
  }
  for (const id of ids) {
    if (typeof id !== "number" || !isValidId(String(id))) {
      throw badRequest(`each groupView "productIds" entry must be a JSON integer from 1 to 9007199254740991 (got ${shown(JSON.stringify(id))})`);
    }
  }
}
