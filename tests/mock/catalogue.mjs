// Fixture catalogue served by the mock Retail Rocket API.
//
// Products use exactly the PascalCase field names of the API 2.0 responses
// (protocol reference §4A). OldPrice is 0 when there is no discount, StockId
// is null for items that are sold everywhere. Ranking data (popularity,
// newness) lives outside the product objects so responses stay realistic.

/** Leaf categories. `path` is the full Product-API style category path. */
export const categories = Object.freeze([
  Object.freeze({ id: 1, name: "Skirts", path: "Women/Clothing/Skirts" }),
  Object.freeze({ id: 2, name: "Dresses", path: "Women/Clothing/Dresses" }),
  Object.freeze({ id: 3, name: "Sneakers", path: "Men/Footwear/Sneakers" }),
]);

const COLOURS = { 1: "#f4c7c3", 2: "#d7c3f4", 3: "#c3e0f4" };

/** A small inline SVG so the demo can show something without network access. */
function picture(id, label, categoryId) {
  const svg =
    `<svg xmlns='http://www.w3.org/2000/svg' width='240' height='240'>` +
    `<rect width='240' height='240' fill='${COLOURS[categoryId]}'/>` +
    `<text x='120' y='128' font-family='sans-serif' font-size='22' text-anchor='middle'>` +
    `${label} ${id}</text></svg>`;
  return "data:image/svg+xml," + encodeURIComponent(svg);
}

function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function product({ id, name, categoryId, price, oldPrice = 0, vendor, model, available = true, stockId = null, groupId = id, params = {}, description }) {
  const category = categories.find((c) => c.id === categoryId);
  return Object.freeze({
    ItemId: id,
    Name: name,
    Price: price,
    OldPrice: oldPrice,
    PictureUrl: picture(id, category.name.replace(/s$/, ""), categoryId),
    Url: `https://shop.example/p/${id}-${slug(name)}`,
    Vendor: vendor,
    Model: model,
    TypePrefix: category.name.replace(/s$/, ""),
    Description: description,
    CategoryIds: Object.freeze([categoryId]),
    CategoryNames: Object.freeze([category.name]),
    CategoryPathsToRoot: Object.freeze([Object.freeze([categoryId])]),
    Params: Object.freeze({ ...params }),
    GroupId: groupId,
    StockId: stockId,
    IsAvailable: available,
  });
}

export const products = Object.freeze([
  product({ id: 101, name: "Pleated Midi Skirt", categoryId: 1, price: 49.9, vendor: "Northwind", model: "PM-1", params: { Color: "Navy", Material: "Polyester" }, description: "Flowing pleated skirt with an elastic waist." }),
  product({ id: 102, name: "Denim A-Line Skirt", categoryId: 1, price: 39, oldPrice: 59, vendor: "Lumen", model: "DA-2", params: { Color: "Blue", Material: "Denim" }, description: "Classic A-line skirt in washed denim." }),
  product({ id: 103, name: "Wool Pencil Skirt", categoryId: 1, price: 69, vendor: "Northwind", model: "WP-3", available: false, params: { Color: "Grey", Material: "Wool" }, description: "Tailored pencil skirt for the office." }),
  product({ id: 104, name: "Floral Wrap Dress", categoryId: 2, price: 89, oldPrice: 119, vendor: "Lumen", model: "FW-4", params: { Color: "Red", Material: "Viscose" }, description: "Light wrap dress with a floral print." }),
  product({ id: 105, name: "Linen Shirt Dress", categoryId: 2, price: 79, vendor: "Northwind", model: "LS-5", params: { Color: "Beige", Material: "Linen" }, description: "Relaxed shirt dress in breathable linen." }),
  product({ id: 106, name: "Velvet Evening Dress", categoryId: 2, price: 149, vendor: "Lumen", model: "VE-6", available: false, params: { Color: "Black", Material: "Velvet" }, description: "Floor-length velvet dress." }),
  product({ id: 107, name: "Knit Sweater Dress", categoryId: 2, price: 99, oldPrice: 129, vendor: "Northwind", model: "KS-7", params: { Color: "Cream", Material: "Wool blend" }, description: "Cosy ribbed knit dress." }),
  product({ id: 108, name: "Classic White Sneakers", categoryId: 3, price: 75, vendor: "Stride", model: "CW-8", params: { Color: "White", Material: "Leather" }, description: "Minimal leather sneakers." }),
  product({ id: 109, name: "Trail Running Sneakers", categoryId: 3, price: 110, oldPrice: 140, vendor: "Stride", model: "TR-9", stockId: "msk", params: { Color: "Orange", Material: "Mesh" }, description: "Grippy sneakers for rough trails." }),
  product({ id: 110, name: "High-Top Canvas Sneakers", categoryId: 3, price: 55, vendor: "Stride", model: "HT-10", available: false, groupId: 108, params: { Color: "Black", Material: "Canvas" }, description: "Canvas high-tops with a rubber toe cap." }),
  product({ id: 111, name: "Retro Suede Sneakers", categoryId: 3, price: 95, vendor: "Stride", model: "RS-11", stockId: "spb", params: { Color: "Green", Material: "Suede" }, description: "Seventies-style suede runners." }),
  product({ id: 112, name: "Tiered Tulle Skirt", categoryId: 1, price: 59, oldPrice: 79, vendor: "Lumen", model: "TT-12", stockId: "msk", params: { Color: "Pink", Material: "Tulle" }, description: "Playful tiered tulle skirt." }),
]);

/** Item ids, most popular first (drives popular / saleByPopular / related ...). */
export const POPULARITY_RANK = Object.freeze([104, 108, 101, 109, 102, 105, 111, 107, 112, 103, 106, 110]);

/** Item ids, newest first (drives latest / saleByLatest). */
export const NEWEST_FIRST = Object.freeze([112, 107, 111, 102, 109, 105, 101, 110, 104, 108, 106, 103]);

const byId = new Map(products.map((p) => [p.ItemId, p]));

/** The product with this ItemId, or undefined. */
export function findProduct(id) {
  return byId.get(Number(id));
}

/** Full category paths ("Women/Clothing/Skirts") of a product. */
export function categoryPathsOf(item) {
  return item.CategoryIds.map((id) => categories.find((c) => c.id === id)?.path).filter(Boolean);
}
