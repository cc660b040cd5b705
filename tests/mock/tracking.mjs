// Tracking routes of tracking.retailrocket.net (protocol reference §3A, parity reference §1-4):
// the session handshake, the partnerId-only browser events and the subscription calls.

import { randomBytes } from "node:crypto";
import {
  MockError, RR_SESSION, badRequest, checkCategoryPath, checkDecimal, checkEmail, checkId,
  checkJoinedIdList, checkPageContext, checkPartnerId, checkRequiredBoolean, checkRrSession,
  checkSessionExternalId, checkStockId, checkText, isValidId, mediaType, parseJsonBody, shown,
} from "./validate.mjs";

const OK = { ok: true };
const MAX_GROUP_VIEW_IDS = 100;
// Retail Rocket states no length limit for the browser protocol (tracking.js sends what it is
// given); this bound only keeps URLs sane.
const TEXT_LIMIT = 2000;
const MAX_VIEWED = 10; // tracking.js keeps the last 10 viewed ids

/**
 * A new session id shaped like the ones the real host issues: a MongoDB ObjectId (4 bytes of
 * creation time in seconds, then 8 random bytes), 24 lowercase hex characters.
 */
export function mintSession(now = Date.now()) {
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, "0").slice(-8);
  return seconds + randomBytes(8).toString("hex");
}

/**
 * GET /1.0/event/initialize/{partnerId}[?session={candidate}]
 * A candidate the host could have issued (24 hex) is kept; anything else is ignored and a new
 * session is minted, as for a request without one.
 */
export function initialize({ params, query }) {
  checkPartnerId(params.partnerId);
  const candidate = query.session;
  const sessionId = candidate !== undefined && RR_SESSION.test(candidate) ? candidate : mintSession();
  return { status: 200, json: { sessionId } };
}

/**
 * Event rules. `id`: whether the path id is "required", "optional", "none", or "mailTrackingId"
 * (emailclick's path id is the e-mail's tracking id, not a product id). `method`: the HTTP method
 * the event must use. `check`: extra query/body rules.
 */
const EVENTS = {
  view: { id: "required", check: ({ query }) => optionalId(query, "recomItemId") },
  addToBasket: { id: "required" },
  removeFromBasket: { id: "required" },
  recomMouseDown: { id: "required" }, // optional suggester, suggestMethod: free text
  recomAddToBasket: { id: "required" },
  order: { id: "required", check: checkOrder },
  categoryView: { id: "optional", check: checkCategoryView },
  search: { id: "none", check: checkSearch },
  setEmail: { id: "none", check: checkSetEmail },
  pageView: { id: "none" },
  groupView: { id: "none", method: "POST", check: checkGroupView },
  recomTrack: { id: "none", check: checkRecomTrack },
  emailclick: { id: "mailTrackingId", check: checkEmailClick },
};

export const EVENT_NAMES = Object.freeze(Object.keys(EVENTS));

/** What every tracking call (event or subscription) carries besides its own parameters. */
function checkCommon(query) {
  checkRrSession(query);
  checkSessionExternalId(query);
  checkStockId(query);
  checkPageContext(query);
}

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
  checkCommon(ctx.query);
  rule.check?.(ctx);
  return { status: 200, json: OK };
}

function checkMethod(event, expected, actual) {
  if (actual === expected) return;
  if (event === "groupView") throw badRequest(`event "groupView" must be sent with POST and a JSON body (got ${actual})`);
  throw new MockError(405, `event "${event}" must be sent with ${expected} (got ${actual})`, { Allow: expected });
}

function checkPathId(event, rule, id) {
  if (rule === "mailTrackingId") {
    if (id === undefined || id.trim() === "" || [...id].length > 200 || /[\s\u0000-\u001f]/.test(id)) {
      throw badRequest(`event "${event}" needs the e-mail's MailTrackingId in the path: /1.0/event/${event}/{partnerId}/{mailTrackingId}, 1-200 characters without spaces (got ${shown(id)})`);
    }
    return;
  }
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

/** tracking.js: price is parseFloat(...) || 0, so 0 passes (gifts); quantities may be fractional (goods sold by weight). */
function checkOrder({ query }) {
  checkText(query, "transaction", { max: TEXT_LIMIT });
  checkDecimal(query, "qnt", { above: 0 });
  checkDecimal(query, "price", { above: 0, orEqual: true });
  checkEmail(query, "email", { required: false });
}

function checkCategoryView({ params, query }) {
  if (params.id === undefined || query.categoryPath !== undefined) {
    checkCategoryPath(query, "categoryPath");
  }
}

function checkSearch({ query }) {
  checkText(query, "searchPhrase", { max: TEXT_LIMIT, trim: true });
  checkEmail(query, "email", { required: false });
}

/** `d.<key>` custom data: the key must not be empty. */
function checkCustomData(queryNames) {
  for (const name of queryNames ?? []) {
    if (name === "d." || (name.startsWith("d.") && name.slice(2).trim() === "")) {
      throw badRequest(`custom data parameter ${shown(name)} has no key: expected "d.<key>=<value>"`);
    }
  }
}

function checkSetEmail({ query, rawQuery, queryNames }) {
  checkEmail(query);
  // tracking.js always sends the consent flag (true when the caller gave none).
  checkRequiredBoolean(query, "isAgreedToReceiveMarketingMail");
  checkJoinedIdList(query, rawQuery, "basket", { required: false });
  checkJoinedIdList(query, rawQuery, "viewed", { required: false, max: MAX_VIEWED });
  checkCustomData(queryNames);
}

/** A recommendation block was shown: tracking.js sends `to` as a copy of `recomms`. */
function checkRecomTrack({ query, rawQuery }) {
  checkText(query, "suggestMethod", { max: TEXT_LIMIT, trim: true });
  checkJoinedIdList(query, rawQuery, "recomms");
  checkJoinedIdList(query, rawQuery, "to");
  if (query.to !== query.recomms) {
    throw badRequest(`query parameter "to" must repeat "recomms", as tracking.js sends it (got to=${shown(query.to)}, recomms=${shown(query.recomms)})`);
  }
}

function checkEmailClick({ query, queryNames }) {
  for (const name of ["rr_mailid", "utm_source", "rr_urlType"]) checkText(query, name, { min: 0, max: TEXT_LIMIT, required: false });
  checkCustomData(queryNames);
}

function checkGroupView({ headers, body, query }) {
  optionalId(query, "recomItemId");
  checkEmail(query, "email", { required: false });
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

// ---------------------------------------------------------------- subscriptions

const SUBSCRIPTIONS = {
  welcomesequence: () => {},
  backinstock: ({ query }) => checkId(query.itemId ?? "", 'query parameter "itemId"'),
  pricedrop: checkPriceDropItems,
};

/** GET /1.0/partner/{partnerId}/subscribe/{welcomesequence|backinstock|pricedrop} */
export function subscribe(ctx) {
  const { params, query } = ctx;
  checkPartnerId(params.partnerId);
  if (!Object.hasOwn(SUBSCRIPTIONS, params.kind)) {
    throw badRequest(`unknown subscription ${shown(params.kind)}: expected one of ${Object.keys(SUBSCRIPTIONS).join(", ")} (lower case)`);
  }
  checkCommon(query);
  checkEmail(query);
  SUBSCRIPTIONS[params.kind](ctx);
  return { status: 200, json: OK };
}

const ITEM_FIELD = /^items\[(0|[1-9][0-9]*)\]\.(ItemId|Price)$/;

/** `items[0].ItemId=101&items[0].Price=49.9&items[1]...`: brackets raw, indices 0..n-1, both fields each. */
function checkPriceDropItems({ query, rawQuery }) {
  const lines = [];
  for (const pair of (rawQuery ?? "").split("&")) {
    const rawName = pair.split("=")[0];
    let name;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      name = rawName;
    }
    if (!name.startsWith("items")) continue;
    const match = ITEM_FIELD.exec(name);
    if (!match) throw badRequest(`query parameter ${shown(name)} is not an item field: expected items[i].ItemId or items[i].Price`);
    if (rawName !== name) {
      throw badRequest(`query parameter ${shown(rawName)} has encoded brackets: tracking.js sends them raw, as ${shown(name)}`);
    }
    (lines[Number(match[1])] ??= {})[match[2]] = true;
  }
  if (lines.length === 0) throw badRequest('pricedrop needs at least one item: items[0].ItemId and items[0].Price');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]?.ItemId || !lines[i]?.Price) {
      throw badRequest(`pricedrop item ${i} is incomplete: expected items[${i}].ItemId and items[${i}].Price (indices from 0 without gaps)`);
    }
    checkId(query[`items[${i}].ItemId`], `query parameter "items[${i}].ItemId"`);
    checkDecimal(query, `items[${i}].Price`, { above: 0, orEqual: true });
  }
}
