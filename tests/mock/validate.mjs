// Input rules shared by the mock's routes. Every check either returns the
// parsed value or throws a MockError whose message names the parameter and
// what was expected, so a failing client sees exactly what it got wrong.

export const MAX_ID = 9007199254740991n; // 2^53 - 1, the documented id ceiling

export const PARTNER_ID = /^[0-9a-f]{24}$/;
export const SESSION = /^[A-Za-z0-9]{1,64}$/;
export const SESSION_EXTERNAL_ID = /^[A-Za-z0-9]{1,50}$/;
const DECIMAL_ID = /^[1-9][0-9]*$/;
const POSITIVE_INT = /^[1-9][0-9]*$/;
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

export function checkPositiveNumber(query, name) {
  const value = requireParam(query, name, "a finite decimal number greater than 0");
  const number = Number(value);
  if (!DECIMAL_NUMBER.test(value) || !Number.isFinite(number) || number <= 0) {
    throw badRequest(`query parameter "${name}" is invalid: expected a finite decimal number greater than 0 (got ${shown(value)})`);
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
