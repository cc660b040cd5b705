// Route table of the Retail Rocket imitation and a tiny path matcher.
// A pattern segment ":name" captures one percent-decoded path segment.
// `slash: true` makes one trailing "/" optional.

import { APPTRACKING_PATH, visitorEvents } from "./apptracking.mjs";
import { items, recommend } from "./recommend.mjs";
import { initialize, subscribe, trackEvent } from "./tracking.mjs";
import { badRequest, shown } from "./validate.mjs";

export const routes = [
  // tracking.retailrocket.net
  { pattern: "/1.0/event/initialize/:partnerId", methods: { GET: initialize } },
  { pattern: "/1.0/event/:event/:partnerId", methods: { GET: trackEvent, POST: trackEvent } },
  { pattern: "/1.0/event/:event/:partnerId/:id", methods: { GET: trackEvent, POST: trackEvent } },
  { pattern: "/1.0/partner/:partnerId/subscribe/:kind", methods: { GET: subscribe } },
  // api.retailrocket.net
  { pattern: "/api/2.0/recommendation/:algorithm/:partnerId", slash: true, methods: { GET: recommend } },
  { pattern: "/api/2.0/recommendation/:algorithmType/:algorithm/:partnerId", slash: true, methods: { GET: recommend } },
  { pattern: "/api/1.0/partner/:partnerId/items", slash: true, methods: { GET: items } },
  // apptracking.retailrocket.net (needs the secret apiKey)
  { pattern: APPTRACKING_PATH, methods: { POST: visitorEvents } },
];

/** The first route whose pattern fits the path, with its params; or null. */
export function matchRoute(table, path) {
  for (const route of table) {
    const params = matchPattern(route.pattern, path) ?? (route.slash && path.endsWith("/") ? matchPattern(route.pattern, path.slice(0, -1)) : null);
    if (params) return { route, params };
  }
  return null;
}

function matchPattern(pattern, path) {
  const wanted = pattern.split("/");
  const actual = path.split("/");
  if (wanted.length !== actual.length) return null;
  const params = {};
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i].startsWith(":")) {
      if (actual[i] === "") return null;
      params[wanted[i].slice(1)] = decodeSegment(actual[i]);
    } else if (wanted[i] !== actual[i]) {
      return null;
    }
  }
  return params;
}

function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed percent-encoding in URL path segment ${shown(segment)}`);
  }
}
