// Recommendation routes of api.retailrocket.net (protocol reference §4A, §5):
// API 2.0 recommendations and the API 1.0 items lookup, answered from the
// fixture catalogue with deterministic, algorithm-shaped results.

import { NEWEST_FIRST, POPULARITY_RANK, categoryPathsOf, findProduct } from "./catalogue.mjs";
import {
  badRequest, checkCategoryIdList, checkCategoryPathList, checkIdList, checkPartnerId, checkSession,
  checkStockId, checkText, shown,
} from "./validate.mjs";

const PERSONAL_COUNT = 4;
const ALGORITHM_TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

const byRank = (rank) => rank.map((id) => findProduct(id));
const isOnSale = (item) => item.OldPrice > item.Price;
const availableByPopularity = () => byRank(POPULARITY_RANK).filter((item) => item.IsAvailable);

/** Each algorithm reads its own parameters and returns candidate items in order. */
const ALGORITHMS = {
  popular: (query) => inCategories(query, byRank(POPULARITY_RANK)),
  latest: (query) => inCategories(query, byRank(NEWEST_FIRST)),
  saleByPopular: (query) => inCategories(query, byRank(POPULARITY_RANK)).filter(isOnSale),
  saleByLatest: (query) => inCategories(query, byRank(NEWEST_FIRST)).filter(isOnSale),
  alternative: (query) => forItems(query, (item, cats) => sharesCategory(item, cats)),
  related: (query) => forItems(query, (item, cats) => !sharesCategory(item, cats)),
  accessories: (query) =>
    forItems(query, (item, cats) => !sharesCategory(item, cats)).sort((a, b) => a.Price - b.Price || a.ItemId - b.ItemId),
  search: (query) => {
    const phrase = checkText(query, "phrase", { max: 1000, trim: true }).trim().toLowerCase();
    return byRank(POPULARITY_RANK).filter((item) => item.Name.toLowerCase().includes(phrase));
  },
  personal: (query) => rotate(availableByPopularity(), checkSession(query)).slice(0, PERSONAL_COUNT),
  visitorinterest: (query) => {
    const items = availableByPopularity();
    const categoryId = items[hash(checkSession(query)) % items.length].CategoryIds[0];
    return items.filter((item) => item.CategoryIds.includes(categoryId)).slice(0, PERSONAL_COUNT);
  },
};
ALGORITHMS.Search = ALGORITHMS.search; // the JS SDK spells it with a capital S

export const ALGORITHM_NAMES = Object.freeze(Object.keys(ALGORITHMS));

/** GET /api/2.0/recommendation/[{algorithmType}/]{algorithm}/{partnerId}/ */
export function recommend({ params, query, state }) {
  checkPartnerId(params.partnerId);
  if (params.algorithmType !== undefined && !ALGORITHM_TYPE.test(params.algorithmType)) {
    throw badRequest(`algorithm type in the path must be letters and digits (got ${shown(params.algorithmType)})`);
  }
  if (!Object.hasOwn(ALGORITHMS, params.algorithm)) {
    throw badRequest(`unknown recommendation algorithm ${shown(params.algorithm)}: expected one of ${ALGORITHM_NAMES.join(", ")}`);
  }
  if (query.format !== "json") {
    throw badRequest(`query parameter "format" must be "json" (got ${shown(query.format)})`);
  }
  const stockId = checkStockId(query);
  if (query.session !== undefined) checkSession(query);
  const items = ALGORITHMS[params.algorithm](query).filter((item) => item.IsAvailable && inStock(item, stockId));
  return cacheable(state, items);
}

/** GET /api/1.0/partner/{partnerId}/items/?itemsIds=1,2[&stock=X] */
export function items({ params, query, state }) {
  checkPartnerId(params.partnerId);
  const ids = checkIdList(query, "itemsIds");
  checkStockId(query, "stock");
  return cacheable(state, ids.map(findProduct).filter(Boolean));
}

function cacheable(state, items) {
  return { status: 200, json: items, headers: { "Cache-Control": state.behaviour.cacheControl } };
}

/** stockId filter: items of that stock, or items sold everywhere (StockId null). */
function inStock(item, stockId) {
  return stockId === undefined || item.StockId === null || item.StockId === stockId;
}

function inCategories(query, items) {
  const ids = checkCategoryIdList(query, "categoryIds");
  const paths = checkCategoryPathList(query, "categoryPaths");
  if (ids === undefined && paths === undefined) {
    throw badRequest('query parameter "categoryIds" (comma list, 0 = whole shop) or "categoryPaths" (comma list of paths) is required');
  }
  if (ids?.includes(0)) return items;
  return items.filter(
    (item) =>
      item.CategoryIds.some((id) => ids?.includes(id)) ||
      categoryPathsOf(item).some((path) => paths?.some((wanted) => path === wanted || path.startsWith(wanted + "/"))),
  );
}

/** Items (by popularity) related to the given itemIds, excluding those ids. */
function forItems(query, keep) {
  const ids = checkIdList(query, "itemIds");
  const given = ids.map(findProduct).filter(Boolean);
  if (given.length === 0) return [];
  const categories = new Set(given.flatMap((item) => item.CategoryIds));
  return byRank(POPULARITY_RANK).filter((item) => !ids.includes(item.ItemId) && keep(item, categories));
}

function sharesCategory(item, categories) {
  return item.CategoryIds.some((id) => categories.has(id));
}

function hash(text) {
  let sum = 0;
  for (const char of text) sum = (sum * 31 + char.codePointAt(0)) % 1_000_003;
  return sum;
}

function rotate(items, seed) {
  const start = hash(seed) % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

