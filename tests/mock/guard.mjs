// Secret guard: partnerId-only routes must never receive an API secret.
// Returns why a request is flagged, or null when it is clean.

import { APPTRACKING_PATH } from "./apptracking.mjs";

const SECRET_HEADERS = ["authorization", "x-api-key", "x-authorization"];

/** Query names that mean "api key": apiKey, APIKEY, api_key, api-key ... */
function isApiKeyName(name) {
  return name.toLowerCase().replace(/[-_]/g, "") === "apikey";
}

export function secretReason({ path, queryNames, headers }) {
  if (path === APPTRACKING_PATH) return null; // the one route where apiKey belongs
  const param = queryNames.find(isApiKeyName);
  if (param !== undefined) return `query parameter "${param}" carries an API secret`;
  const header = SECRET_HEADERS.find((name) => headers[name] !== undefined);
  if (header !== undefined) return `header "${header}" carries a credential`;
  return null;
}
