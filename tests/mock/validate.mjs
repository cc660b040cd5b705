// Input rules shared by the mock's routes. Every check either returns the
// parsed value or throws a MockError whose message names the parameter and
// what was expected, so a failing client sees exactly what it got wrong.

export const MAX_ID = 9007199254740991n; // 2^53 - 1, the documented id ceiling

export const PARTNER_ID = /^[0-9a-f]{24}$/;
export const SESSION = /^[A-Za-z0-9]{1,64}$/;
/** A Retail Rocket session as its tracking host issues them: a 24-hex MongoDB ObjectId. */
export const RR_SESSION = /^[0-9a-f]{24}$/;
export const SESSION_EXTERNAL_ID = /^[A-Za-z0-9]{1,50}$/;
const DECIMAL_ID = /^[1-9][0-9]*$/;
const POSITIVE_INT = /^[1-9][0-9]*$/;
const PVID = /^[0-9]{15}$/;
const DECIMAL_NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const CATEGORY_ID = /^(?:0|[1-9][0-9]*)$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** An error the server turns into `{ "error": message }` with this status. */
export class MockError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export function badRequest(message) {
  return new MockError(400, message);
}

/** Short, printable rendering of a received value for error messages. */
export function shown(value) {
  if (value === undefined) return "nothing";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 60 ? text.slice(0, 57) + "..." : text);
}

function length(text) {
  return [...text].length; // code points, not UTF-16 units
}

export function isValidId(text) {
  return typeof text === "string" && DECIMAL_ID.test(text) && text.length <= 16 && BigInt(text) <= MAX_ID;
}

export function checkPartnerId(value) {
  if (!PARTNER_ID.test(value ?? "")) {
    throw badRequest(`partnerId in the path must be 24 lowercase hex characters (got ${shown(value)})`);
  }
  return value;
}

/** A product/category id: decimal digits, no leading zero, 1..2^53-1. */
export function checkId(value, what) {
  if (!isValidId(value)) {
    throw badRequest(`${what} must be a decimal integer from 1 to 9007199254740991 without leading zeros (got ${shown(value)})`);
  }
  return Number(value);
}

export function requireParam(query, name, expected) {
  const value = query[name];
  if (value === undefined) throw badRequest(`query parameter "${name}" is required: expected ${expected}`);
  return value;
}

export function checkPattern(query, name, pattern, expected, { required = true } = {}) {
  const value = query[name];
  if (value === undefined && !required) return undefined;
  if (value === undefined || !pattern.test(value)) {
    const verb = value === undefined ? "is required" : "is invalid";
    throw badRequest(`query parameter "${name}" ${verb}: expected ${expected} (got ${shown(value)})`);
  }
  return value;
}

export function checkSession(query, options) {
  return checkPattern(query, "session", SESSION, "1-64 ASCII letters or digits", options);
}

/** The `session` of a tracking call: one the tracking host issued (24 hex characters). */
export function checkRrSession(query) {
  return checkPattern(query, "session", RR_SESSION, "a session the tracking host issued: 24 lowercase hex characters, from the initialize answer or the rcuid cookie");
}

export function checkSessionExternalId(query, options) {
  return checkPattern(query, "sessionExternalId", SESSION_EXTERNAL_ID, "1-50 ASCII letters or digits", options);
}

/** A string of min..max characters (after checking presence). */
export function checkText(query, name, { min = 1, max = 50, required = true, trim = false } = {}) {
  const value = query[name];
  if (value === undefined && !required) return undefined;
  const expected = `a string of ${min}-${max} characters`;
  if (value === undefined) throw badRequest(`query parameter "${name}" is required: expected ${expected}`);
  const measured = trim ? value.trim() : value;
  if (length(measured) < min || length(value) > max) {
    throw badRequest(`query parameter "${name}" is invalid: expected ${expected}${trim ? " (not only spaces)" : ""} (got ${shown(value)}, ${length(value)} characters)`);
  }
  return value;
}

export function checkStockId(query, name = "stockId") {
  return checkText(query, name, { required: false });
}

export function checkPositiveInteger(query, name) {
  const value = requireParam(query, name, "a positive integer");
  if (!POSITIVE_INT.test(value) || !Number.isSafeInteger(Number(value))) {
    throw badRequest(`query parameter "${name}" is invalid: expected a positive integer (got ${shown(value)})`);
  }
  return Number(value);
}

/** Like checkBoolean, but the parameter must be there. */
export function checkRequiredBoolean(query, name) {
  requireParam(query, name, '"true" or "false"');
  return checkBoolean(query, name);
}

export function checkPositiveNumber(query, name) {
  const value = requireParam(query, name, "a finite decimal number greater than 0");
  const number = Number(value);
  if (!DECIMAL_NUMBER.test(value) || !Number.isFinite(number) || number <= 0) {
    throw badRequest(`query parameter "${name}" is invalid: expected a finite decimal number greater than 0 (got ${shown(value)})`);
  }
  return number;
}

/**
 * A finite decimal number, greater than `above` or (with `orEqual`) equal to it. Plain decimal
 * notation only, as JavaScript's `String(number)` writes ordinary prices and quantities.
 */
export function checkDecimal(query, name, { above = 0, orEqual = false } = {}) {
  const expected = `a finite decimal number ${orEqual ? "of at least" : "greater than"} ${above}`;
  const value = requireParam(query, name, expected);
  const number = Number(value);
  if (!DECIMAL_NUMBER.test(value) || !Number.isFinite(number) || number < above || (!orEqual && number === above)) {
    throw badRequest(`query parameter "${name}" is invalid: expected ${expected} (got ${shown(value)})`);
  }
  return number;
}

export function checkBoolean(query, name) {
  const value = query[name];
  if (value !== undefined && value !== "true" && value !== "false") {
    throw badRequest(`query parameter "${name}" is invalid: expected "true" or "false" (got ${shown(value)})`);
  }
  return value === undefined ? undefined : value === "true";
}

/** "Women/Clothing/Skirts": non-empty segments separated by "/". */
export function isCategoryPath(text) {
  return typeof text === "string" && text.length > 0 && text.split("/").every((segment) => segment.trim() !== "");
}

export function checkCategoryPath(query, name) {
  const value = requireParam(query, name, 'a category path like "Women/Clothing/Skirts"');
  if (!isCategoryPath(value)) {
    throw badRequest(`query parameter "${name}" is invalid: expected non-empty segments separated by "/" like "Women/Clothing/Skirts" (got ${shown(value)})`);
  }
  return value;
}

/** Comma list of product ids (itemIds, itemsIds). */
export function checkIdList(query, name) {
  const value = requireParam(query, name, "a comma-separated list of product ids");
  return value.split(",").map((part) => checkId(part, `each entry of query parameter "${name}"`));
}

/** Comma list of non-negative category ids (0 = the whole shop). */
export function checkCategoryIdList(query, name) {
  const value = query[name];
  if (value === undefined) return undefined;
  return value.split(",").map((part) => {
    if (!CATEGORY_ID.test(part) || BigInt(part) > MAX_ID) {
      throw badRequest(`each entry of query parameter "${name}" must be a non-negative integer without leading zeros, 0 = whole shop (got ${shown(part)} in ${shown(value)})`);
    }
    return Number(part);
  });
}

export function checkCategoryPathList(query, name) {
  const value = query[name];
  if (value === undefined) return undefined;
  return value.split(",").map((part) => {
    if (!isCategoryPath(part)) {
      throw badRequest(`each entry of query parameter "${name}" must be a category path like "Women/Clothing/Skirts" (got ${shown(part)} in ${shown(value)})`);
    }
    return part;
  });
}

export function isIsoTimestamp(value) {
  return typeof value === "string" && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType) {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

export function parseJsonBody(body, what = "request body") {
  if (body === null || body === "") throw badRequest(`${what} is empty: expected JSON`);
  try {
    return JSON.parse(body);
  } catch (error) {
    throw badRequest(`${what} is not valid JSON (${error.message})`);
  }
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;

/** An e-mail address: exactly one "@", text without spaces on both sides. */
export function checkEmail(query, name = "email", { required = true } = {}) {
  return checkPattern(query, name, EMAIL, 'an address with exactly one "@" and text on both sides', { required });
}

/** An absolute http(s) URL (what location.href and document.referrer hold). */
export function isHttpUrl(text) {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.href.length > 0;
  } catch {
    return false;
  }
}

/**
 * The page context tracking.js adds to every call, checked when present: `pvid` (15 digits, the
 * page-view id), `pageUrl` (an absolute http(s) URL) and `referrer` (empty, or such a URL).
 */
export function checkPageContext(query) {
  checkPattern(query, "pvid", PVID, "15 decimal digits", { required: false });
  if (query.pageUrl !== undefined && !isHttpUrl(query.pageUrl)) {
    throw badRequest(`query parameter "pageUrl" is invalid: expected the page's absolute http(s) URL (got ${shown(query.pageUrl)})`);
  }
  if (query.referrer !== undefined && query.referrer !== "" && !isHttpUrl(query.referrer)) {
    throw badRequest(`query parameter "referrer" is invalid: expected "" or an absolute http(s) URL (got ${shown(query.referrer)})`);
  }
}

/** The raw (still percent-encoded) value of the last `name=` pair of a raw query string. */
export function rawValue(rawQuery, name) {
  let found;
  for (const pair of (rawQuery ?? "").split("&")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq) === name) found = pair.slice(eq + 1);
  }
  return found;
}

/**
 * A list of product ids sent pre-joined, as tracking.js sends recomTrack's `recomms` and
 * setEmail's `basket`/`viewed`: one encoded string, so the separator is `%2C`, never a raw ",".
 */
export function checkJoinedIdList(query, rawQuery, name, { required = true, max = Infinity } = {}) {
  const value = query[name];
  if (value === undefined) {
    if (required) throw badRequest(`query parameter "${name}" is required: expected product ids joined by "%2C"`);
    return undefined;
  }
  const raw = rawValue(rawQuery, name) ?? "";
  if (raw.includes(",")) {
    throw badRequest(`query parameter "${name}" is invalid: a pre-joined list is one encoded string, so its separator is "%2C", not a raw "," (got ${shown(raw)})`);
  }
  const ids = value.split(",").map((part) => checkId(part, `each entry of query parameter "${name}"`));
  if (ids.length > max) throw badRequest(`query parameter "${name}" holds ${ids.length} ids: expected at most ${max}`);
  return ids;
}
