// Cookie rules of tracking.js (parity reference §1): the session handshake (initialize) is the
// one request sent with credentials, so it carries the page's cookies, rcuid among them; every
// event and subscription call is sent without cookies. Pages and the mock share a host
// (127.0.0.1) in the tests, and cookies are per host, not per port: a request made with
// credentials does carry the page's cookies to the mock.
// Returns why a request breaks a rule (it is flagged, not refused), or null.

const INITIALIZE = /^\/1\.0\/event\/initialize\//;
const TRACKING_CALL = /^\/1\.0\/(?:event\/[^/]+\/|partner\/[^/]+\/subscribe\/)/;

/** Cookie header -> Map of name -> value (first one wins, as document.cookie lists them). */
export function parseCookies(header) {
  const cookies = new Map();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name !== "" && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * `rcuidCookie` (behaviour, default true): the page keeps its session in the rcuid cookie, as
 * tracking.js and the tracker's default do. False for a tracker configured to leave rcuid alone:
 * it offers its stored session with no cookie to show for it, and ignores an rcuid that is there.
 */
export function cookieReason({ path, query, headers, rcuidCookie = true }) {
  const cookie = headers.cookie;
  if (INITIALIZE.test(path)) {
    if (!rcuidCookie) return null;
    const rcuid = parseCookies(cookie).get("rcuid");
    const candidate = query.session;
    if (rcuid !== undefined && (candidate === undefined || candidate === "")) {
      return `cookie: initialize came with the page's rcuid cookie (${rcuid}) but offered no session: adopt rcuid as the session`;
    }
    if (rcuid !== undefined && candidate !== rcuid) {
      return `cookie: initialize offered session ${candidate} but the page's rcuid cookie holds ${rcuid}`;
    }
    if (rcuid === undefined && candidate !== undefined && candidate !== "") {
      return `cookie: initialize offered session ${candidate} without the page's rcuid cookie: send initialize with credentials ("include") and keep the session in rcuid`;
    }
    return null;
  }
  if (TRACKING_CALL.test(path) && cookie !== undefined) {
    return "cookie: tracking calls are sent without credentials, but this one carried a Cookie header";
  }
  return null;
}
