// Demo storefront for retailrocket-tracker: plain ES module, no bundler, no framework.
// Every shopper action calls one Tracker method; the side panel shows what the (mock) Retail
// Rocket server received, so you can watch the events arrive.

const DEFAULT_CONFIG = { mockUrl: "http://127.0.0.1:8787", partnerId: "608423a9b126ac6ab3f8f0a5" };
const ITEM_IDS = Array.from({ length: 12 }, (_, i) => 101 + i);
const POPULAR_LIMIT = 8; // items shown in the Popular block
const ALTERNATIVES_LIMIT = 4; // items shown next to the product the shopper is viewing
const CONSENT_KEY = "rr-demo-consent"; // the demo's own note of the last choice (the tracker has no getter)
const POLL_MS = 1000;
const LOG_LIMIT = 200;
// Sent with every call: shown in the header (identity) or only in the tooltip (page context).
const HIDDEN_PARAMS = new Set(["session", "sessionExternalId", "format", "pvid", "pageUrl", "referrer"]);

// Category names for ids the items carry no names for (the mock's fixture uses these three).
const CATEGORY_NAMES = { 1: "Skirts", 2: "Dresses", 3: "Sneakers" };
// One category chip sends a category *path* instead of an id, as Product-API feeds do.
const CATEGORY_PATH_EXAMPLE = { path: "Women/Clothing/Skirts", categoryId: 1, nameMatch: /skirt/i };

// Used when the items endpoint cannot be reached, so the storefront still works.
const BUILTIN_PRODUCTS = [
  [101, "Pleated Midi Skirt", 49.9, 0, 1],
  [102, "Denim A-Line Skirt", 39, 59, 1],
  [103, "Wool Pencil Skirt", 69, 0, 1],
  [104, "Floral Wrap Dress", 89, 119, 2],
  [105, "Linen Shirt Dress", 79, 0, 2],
  [106, "Velvet Evening Dress", 149, 0, 2],
  [107, "Knit Sweater Dress", 99, 129, 2],
  [108, "Classic White Sneakers", 75, 0, 3],
  [109, "Trail Running Sneakers", 110, 140, 3],
  [110, "High-Top Canvas Sneakers", 55, 0, 3],
  [111, "Retro Suede Sneakers", 95, 0, 3],
  [112, "Tiered Tulle Skirt", 59, 79, 1],
].map(([itemId, name, price, oldPrice, categoryId]) => ({
  itemId,
  name,
  price,
  oldPrice: oldPrice || null,
  categoryIds: [categoryId],
  isAvailable: true,
}));

const state = {
  config: DEFAULT_CONFIG,
  rr: null, // the Tracker, or null when it failed to load
  products: [],
  productSource: "",
  filter: { kind: "all" }, // { kind: "all" } | { kind: "category", id } | { kind: "path" } | { kind: "search", query }
  basket: new Map(), // itemId -> { item, qnt }
  viewed: null, // the product open in the product panel
  recItems: new Map(), // itemId -> item, for recommended items that are not in the grid
  consent: "on", // "on" | "out": what the consent pill shows
  log: [], // newest first: { kind: "request", req } | { kind: "error", error, at }
  lastSeq: 0,
};

// ---------------------------------------------------------------- small DOM helpers

const $ = (selector) => document.querySelector(selector);

/** Creates an element: h("button", { className: "x", onclick }, "text", childNode, ...). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el) el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const formatPrice = (value) => money.format(Number(value) || 0);
const shorten = (s, n = 28) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const clock = (at) => new Date(at ?? Date.now()).toLocaleTimeString("en-GB", { hour12: false });

function toast(text, tone = "ok") {
  const el = h("div", { className: `toast ${tone}` }, text);
  const box = $("#toasts");
  box.prepend(el);
  while (box.childElementCount > 4) box.lastElementChild.remove();
  setTimeout(() => el.classList.add("fade"), 2600);
  setTimeout(() => el.remove(), 3200);
}

function showBanner(text) {
  const banner = $("#banner");
  banner.textContent = text;
  banner.hidden = false;
}

// ---------------------------------------------------------------- tracker

async function loadConfig() {
  const fromQuery = new URLSearchParams(location.search).get("mock");
  try {
    const res = await fetch("/demo-config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const config = { ...DEFAULT_CONFIG, ...(await res.json()) };
    if (fromQuery) config.mockUrl = fromQuery;
    return config;
  } catch {
    return { ...DEFAULT_CONFIG, mockUrl: fromQuery ?? DEFAULT_CONFIG.mockUrl };
  }
}

// "?mode=relay" sends events through this demo server's first-party relay (/rr), which adds the
// apiKey and forwards them to the mock's server API; the default is Retail Rocket's direct,
// partnerId-only protocol.
const RELAY_MODE = new URLSearchParams(location.search).get("mode") === "relay";

async function createTracker({ partnerId, mockUrl, relayUrl }) {
  const { default: init, Tracker } = await import("/pkg/retailrocket_tracker.js");
  await init();
  return new Tracker({
    partnerId,
    trackingUrl: mockUrl,
    apiUrl: mockUrl,
    ...(RELAY_MODE ? { relayUrl: relayUrl ?? "/rr" } : {}),
    debug: true,
    onError: (error) => addLog({ kind: "error", error, at: Date.now() }),
  });
}

const describeArgs = (args) =>
  shorten(
    args
      .filter((a) => a !== undefined)
      .map((a) => JSON.stringify(a))
      .join(", "),
    110,
  );

/** Calls one Tracker method, shows the outcome as a toast, and never throws. */
function track(method, ...args) {
  const call = `${method}(${describeArgs(args)})`;
  if (!state.rr) {
    toast(`${call}: tracker unavailable`, "bad");
    return false;
  }
  let queued = false;
  try {
    queued = state.rr[method](...args) === true;
  } catch (err) {
    addLog({ kind: "error", error: { code: "threw", message: String(err?.message ?? err), method }, at: Date.now() });
  }
  const why = !queued && state.consent === "out" ? " (opted out)" : "";
  toast(`${call} → ${queued ? "queued" : `rejected${why}`}`, queued ? "ok" : "bad");
  updateSessionInfo();
  return queued;
}

function updateSessionInfo() {
  if (!state.rr) return;
  try {
    $("#session-id").textContent = state.rr.sessionExternalId;
    // Retail Rocket's session: null until the first visit's handshake answered.
    $("#rr-session").textContent = state.rr.session ?? "…";
    $("#pending").textContent = String(state.rr.pending);
  } catch {
    // Reading a property of a freed tracker throws; nothing useful to show then.
  }
}

// ---------------------------------------------------------------- products

/** Accepts items in the API's PascalCase or the tracker's camelCase; returns camelCase. */
function normalizeItem(raw) {
  const pick = (...keys) => keys.map((k) => raw?.[k]).find((v) => v !== undefined && v !== null);
  const itemId = Number(pick("itemId", "ItemId", "id"));
  if (!Number.isFinite(itemId)) return null;
  const categoryIds = pick("categoryIds", "CategoryIds") ?? [];
  const categoryNames = pick("categoryNames", "CategoryNames") ?? [];
  [categoryIds].flat().forEach((id, i) => {
    if (categoryNames[i]) CATEGORY_NAMES[id] = String(categoryNames[i]);
  });
  return {
    itemId,
    name: String(pick("name", "Name") ?? `Item ${itemId}`),
    price: Number(pick("price", "Price") ?? 0),
    oldPrice: Number(pick("oldPrice", "OldPrice")) || null,
    pictureUrl: pick("pictureUrl", "PictureUrl") ?? "",
    url: pick("url", "Url") ?? "",
    categoryIds: (Array.isArray(categoryIds) ? categoryIds : [categoryIds]).map(Number).filter(Number.isFinite),
    isAvailable: pick("isAvailable", "IsAvailable") !== false,
    vendor: String(pick("vendor", "Vendor") ?? ""),
    description: String(pick("description", "Description") ?? ""),
  };
}

const normalizeList = (data) => (Array.isArray(data) ? data : (data?.items ?? data?.Items ?? [])).map(normalizeItem).filter(Boolean);

async function loadProducts() {
  if (typeof state.rr?.items === "function") {
    try {
      const items = normalizeList(await state.rr.items(ITEM_IDS));
      if (items.length) return { items, source: "tracker.items()" };
    } catch {
      // fall through to a direct request
    }
  }
  const { mockUrl, partnerId } = state.config;
  try {
    const url = `${mockUrl}/api/1.0/partner/${encodeURIComponent(partnerId)}/items/?itemsIds=${ITEM_IDS.join(",")}`;
    const res = await fetch(url, { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const items = normalizeList(await res.json());
    if (items.length) return { items, source: "the items API" };
  } catch {
    // fall through to the built-in list
  }
  return { items: BUILTIN_PRODUCTS, source: "the built-in list (items API unavailable)" };
}

function visibleProducts() {
  const f = state.filter;
  return state.products.filter((p) => {
    if (f.kind === "category") return p.categoryIds.includes(f.id);
    if (f.kind === "path") return p.categoryIds.includes(CATEGORY_PATH_EXAMPLE.categoryId) || CATEGORY_PATH_EXAMPLE.nameMatch.test(p.name);
    if (f.kind === "search") return p.name.toLowerCase().includes(f.query.toLowerCase());
    return true;
  });
}

const initials = (name) =>
  name
    .split(/\s+/)
    .filter((w) => /^\p{L}/u.test(w))
    .slice(0, 2)
    .map((w) => w[0].toUpperCase())
    .join("") || "#";

/** A CSS-only stand-in for a product photo, coloured per item. */
function thumb(item, extraClass = "") {
  const discount = item.oldPrice > item.price ? Math.round((1 - item.price / item.oldPrice) * 100) : 0;
  return h(
    "div",
    { className: `thumb ${extraClass}`, style: `--hue: ${(item.itemId * 47) % 360}` },
    h("span", { className: "thumb-initials" }, initials(item.name)),
    discount ? h("span", { className: "badge" }, `−${discount}%`) : null,
  );
}

function priceTag(item) {
  return h(
    "div",
    { className: "price" },
    h("strong", {}, formatPrice(item.price)),
    item.oldPrice > item.price ? h("s", {}, formatPrice(item.oldPrice)) : null,
  );
}

function productCard(item) {
  const inBasket = state.basket.has(item.itemId);
  const current = state.viewed?.itemId === item.itemId;
  const card = h(
    "article",
    {
      className: `card${inBasket ? " in-basket" : ""}${current ? " current" : ""}`,
      tabIndex: 0,
      dataset: { itemId: String(item.itemId) },
      title: "Click to open the product (sends view)",
      onclick: () => openProduct(item),
      onkeydown: (e) => {
        if (e.target === card && (e.key === "Enter" || e.key === " ")) {
          e.preventDefault();
          openProduct(item);
        }
      },
    },
    thumb(item),
    h("div", { className: "card-body" },
      h("h3", {}, item.name),
      h("div", { className: "meta muted" }, `#${item.itemId} · ${item.categoryIds.map(categoryName).join(", ") || "—"}`),
      priceTag(item),
      h("div", { className: "card-actions" },
        item.isAvailable
          ? h("button", {
              type: "button",
              className: "primary small",
              title: `addToBasket(${item.itemId})`,
              onclick: (e) => { e.stopPropagation(); addToBasket(item); },
            }, inBasket ? "+ Add" : "Add to basket")
          : [h("span", { className: "stock-note" }, "Out of stock"), notifyButton(item)],
        inBasket
          ? h("button", {
              type: "button",
              className: "ghost small",
              title: `removeFromBasket(${item.itemId})`,
              onclick: (e) => { e.stopPropagation(); removeFromBasket(item); },
            }, "Remove")
          : null,
      ),
    ),
  );
  return card;
}

function renderGrid() {
  const items = visibleProducts();
  $("#grid").replaceChildren(...items.map(productCard));
  if (!items.length) $("#grid").append(h("p", { className: "empty muted" }, "No products match."));
  const f = state.filter;
  const what =
    f.kind === "category" ? ` in ${categoryName(f.id)}`
    : f.kind === "path" ? ` in ${CATEGORY_PATH_EXAMPLE.path}`
    : f.kind === "search" ? ` matching “${f.query}”`
    : "";
  $("#grid-info").textContent = `${items.length} of ${state.products.length} products${what} · loaded from ${state.productSource} · click a card to open it`;
  $("#group-view").textContent = `Group view (${items.length})`;
  $("#group-view").disabled = !items.length;
}

// ---------------------------------------------------------------- categories, search

const categoryName = (id) => CATEGORY_NAMES[id] ?? `Category ${id}`;

function renderCategories() {
  const ids = [...new Set(state.products.flatMap((p) => p.categoryIds))].sort((a, b) => a - b);
  const chip = (label, active, onclick, title) =>
    h("button", { type: "button", className: `chip${active ? " active" : ""}`, onclick, title }, label);
  const f = state.filter;
  $("#categories").replaceChildren(
    chip("All", f.kind === "all", () => setFilter({ kind: "all" })),
    ...ids.map((id) =>
      chip(categoryName(id), f.kind === "category" && f.id === id, () => {
        track("categoryView", id);
        setFilter({ kind: "category", id });
      }, `categoryView(${id})`),
    ),
    chip(CATEGORY_PATH_EXAMPLE.path, f.kind === "path", () => {
      track("categoryView", CATEGORY_PATH_EXAMPLE.path);
      setFilter({ kind: "path" });
    }, `categoryView("${CATEGORY_PATH_EXAMPLE.path}") — a category path instead of an id`),
  );
}

function setFilter(filter) {
  state.filter = filter;
  if (filter.kind !== "search") $("#search").value = "";
  renderCategories();
  renderGrid();
}

function onSearch(event) {
  event.preventDefault();
  const query = $("#search").value.trim();
  if (!query) return setFilter({ kind: "all" });
  track("search", query);
  setFilter({ kind: "search", query });
}

// ---------------------------------------------------------------- basket, order, email

function addToBasket(item) {
  track("addToBasket", item.itemId);
  const line = state.basket.get(item.itemId) ?? { item, qnt: 0 };
  line.qnt += 1;
  state.basket.set(item.itemId, line);
  renderBasket();
  renderGrid();
}

function removeFromBasket(item) {
  if (!state.basket.has(item.itemId)) return;
  track("removeFromBasket", item.itemId);
  state.basket.delete(item.itemId);
  renderBasket();
  renderGrid();
}

function renderBasket() {
  const lines = [...state.basket.values()];
  const total = lines.reduce((sum, l) => sum + l.qnt * l.item.price, 0);
  $("#basket-items").replaceChildren(
    ...(lines.length
      ? lines.map(({ item, qnt }) =>
          h("li", {},
            thumb(item, "mini"),
            h("span", { className: "basket-name" }, item.name, h("small", { className: "muted" }, ` × ${qnt}`)),
            h("span", { className: "basket-price" }, formatPrice(item.price * qnt)),
            h("button", {
              type: "button",
              className: "icon",
              title: "Remove",
              "aria-label": `Remove ${item.name}`,
              onclick: () => removeFromBasket(item),
            }, "×"),
          ),
        )
      : [h("li", { className: "empty muted" }, "Your basket is empty.")]),
  );
  $("#basket-count").textContent = String(lines.reduce((n, l) => n + l.qnt, 0));
  $("#basket-total").textContent = formatPrice(total);
  $("#order").disabled = !lines.length;
  if (state.viewed) renderProductPanel(); // its "in basket" note
}

let orderCounter = 1000;
function placeOrder() {
  const lines = [...state.basket.values()];
  if (!lines.length) return;
  orderCounter += 1;
  const transaction = `T-${orderCounter}-${Date.now().toString(36)}`;
  const items = lines.map(({ item, qnt }) => ({ id: item.itemId, qnt, price: item.price }));
  if (track("order", { transaction, items })) toast(`Order ${transaction} placed, thank you!`, "info");
  state.basket.clear();
  renderBasket();
  renderGrid();
}

/** The address typed under Newsletter, or null (then the shopper is asked for it). */
function shopperEmail() {
  const email = $("#email").value.trim();
  if (email) return email;
  toast("Enter your email under Newsletter first", "bad");
  $("#email").focus();
  return null;
}

/** "Notify me" on an out-of-stock product: Retail Rocket mails the shopper when it is back. */
function notifyButton(item) {
  return h("button", {
    type: "button",
    className: "ghost small notify",
    title: `subscribeOnItemBackInStock(email, ${item.itemId})`,
    onclick: (e) => {
      e.stopPropagation();
      const email = shopperEmail();
      if (email && track("subscribeOnItemBackInStock", email, item.itemId)) toast(`We will tell ${email} when it is back`, "info");
    },
  }, "Notify me");
}

/** A price-drop alert for the open product, at the price the shopper sees now. */
function priceDropButton(item) {
  return h("button", {
    type: "button",
    className: "ghost small price-drop",
    title: `subscribeOnPriceDrop(email, { id: ${item.itemId}, price: ${item.price} })`,
    onclick: () => {
      const email = shopperEmail();
      if (email && track("subscribeOnPriceDrop", email, { id: item.itemId, price: item.price })) toast(`Price alert set for ${email}`, "info");
    },
  }, "Price-drop alert");
}

function onEmail(event) {
  event.preventDefault();
  track("setEmail", $("#email").value.trim(), { isAgreedToReceiveMarketingMail: $("#email-agree").checked });
}

// ---------------------------------------------------------------- product panel

const findItem = (id) => state.products.find((p) => p.itemId === id) ?? state.recItems.get(id) ?? null;

/**
 * Opens a product, as a storefront's product page would: sends `view` and shows the product with
 * its Alternatives block. After a click in a recommendation block, the tracker adds `recomItemId`
 * to this view by itself (trackBlock recorded the click a moment earlier).
 */
function openProduct(item) {
  track("view", item.itemId);
  const panel = $("#product-panel");
  const wasHidden = panel.hidden;
  state.viewed = item;
  renderProductPanel();
  renderGrid();
  loadAlternatives(item);
  panel.classList.remove("flash");
  void panel.offsetWidth; // restart the highlight animation
  panel.classList.add("flash");
  if (!wasHidden || panel.getBoundingClientRect().top < 0) panel.scrollIntoView({ block: "nearest" });
}

function closeProduct() {
  state.viewed = null;
  blockToken.alternatives += 1; // drop an answer still on its way
  $("#product-panel").hidden = true;
  renderGrid();
}

function renderProductPanel() {
  const item = state.viewed;
  const panel = $("#product-panel");
  if (!item) {
    panel.hidden = true;
    return;
  }
  const inBasket = state.basket.get(item.itemId)?.qnt ?? 0;
  const meta = [`#${item.itemId}`, item.categoryIds.map(categoryName).join(", "), item.vendor].filter(Boolean).join(" · ");
  $("#product-detail").replaceChildren(
    thumb(item, "large"),
    h("div", { className: "product-info" },
      h("div", { className: "product-head" },
        h("h2", { id: "product-name" }, item.name),
        h("button", { type: "button", className: "icon", title: "Close", "aria-label": "Close product", onclick: closeProduct }, "×"),
      ),
      h("div", { className: "meta muted" }, meta),
      priceTag(item),
      item.description ? h("p", { className: "description" }, item.description) : null,
      h("div", { className: "product-actions" },
        h("button", {
          type: "button",
          className: "primary small",
          disabled: !item.isAvailable,
          title: `addToBasket(${item.itemId})`,
          onclick: () => addToBasket(item),
        }, item.isAvailable ? "Add to basket" : "Out of stock"),
        !item.isAvailable ? notifyButton(item) : null,
        priceDropButton(item),
        inBasket ? h("span", { className: "muted small-text" }, `${inBasket} in basket`) : null,
      ),
    ),
  );
  panel.hidden = false;
}

// ---------------------------------------------------------------- recommendation blocks

// Each block is a container the tracker watches with trackBlock(): a click on an element with
// data-rr-item-id sends recomMouseDown, a click on its data-rr-action="add-to-cart" button sends
// recomAddToCart, both credited to the block's algorithm. The demo only adds what the shop does
// with the click: open the product, or put it in the basket.

const blockToken = { popular: 0, alternatives: 0 }; // newest request per block; older answers are dropped

/** Lets the tracker credit clicks in `list` to `methodName`, then handles them as the shop. */
function setupBlock(list, methodName) {
  // Order matters: listeners on one element run in the order they were added, so trackBlock has
  // recorded recomMouseDown before our listener opens the product and sends `view`.
  if (state.rr) {
    try {
      state.rr.trackBlock(list, methodName);
    } catch (err) {
      addLog({ kind: "error", error: { code: "threw", message: String(err?.message ?? err), method: "trackBlock" }, at: Date.now() });
    }
  }
  list.addEventListener("click", (event) => {
    const el = event.target.closest("[data-rr-item-id]");
    if (!el || !list.contains(el)) return;
    const item = findItem(Number(el.dataset.rrItemId));
    if (!item) return;
    const onAdd = event.target.closest('[data-rr-action="add-to-cart"]');
    const sent = onAdd && el.contains(onAdd) ? "recomAddToCart" : "recomMouseDown";
    if (state.rr) toast(`trackBlock: ${sent}(${item.itemId}, { methodName: "${methodName}" })`, "info");
    if (sent === "recomAddToCart") addToBasket(item);
    else openProduct(item);
  });
  // Keyboard: Enter or Space on an item is a click (trackBlock listens for clicks).
  list.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target.matches?.("[data-rr-item-id]")) {
      event.preventDefault();
      event.target.click();
    }
  });
}

function recommendationCard(item) {
  return h(
    "article",
    {
      className: "rec",
      tabIndex: 0,
      dataset: { rrItemId: String(item.itemId) },
      title: "Click to open (trackBlock sends recomMouseDown)",
    },
    thumb(item, "small"),
    h("div", { className: "rec-body" },
      h("div", { className: "rec-name" }, item.name),
      priceTag(item),
      h("button", {
        type: "button",
        className: "ghost small",
        disabled: !item.isAvailable,
        dataset: { rrAction: "add-to-cart" },
        title: "trackBlock sends recomAddToCart; the basket gets addToBasket",
      }, "+ Add"),
    ),
  );
}

function blockMessage(text, className = "rec-empty") {
  return h("p", { className }, text);
}

/**
 * Shows what `request` resolves to in `list`. recommend() never rejects and answers within
 * 500 ms: with the last good answer, or [] when there is none, so [] gets a friendly empty state.
 */
async function renderBlock(name, list, request, limit) {
  const token = ++blockToken[name];
  list.setAttribute("aria-busy", "true");
  list.replaceChildren(blockMessage("Loading recommendations…", "rec-loading"));
  let items = [];
  try {
    items = normalizeList((await request()) ?? []);
  } catch (err) {
    addLog({ kind: "error", error: { code: "threw", message: String(err?.message ?? err), method: "recommend" }, at: Date.now() });
  }
  if (token !== blockToken[name]) return; // a newer request owns the block now
  list.removeAttribute("aria-busy");
  for (const item of items) if (!state.recItems.has(item.itemId)) state.recItems.set(item.itemId, item);
  list.replaceChildren(
    ...(items.length
      ? items.slice(0, limit).map(recommendationCard)
      : [blockMessage("No recommendations right now. The store works as usual.")]),
  );
}

const recommend = (algorithm, params) => () =>
  typeof state.rr?.recommend === "function" ? state.rr.recommend(algorithm, params) : Promise.resolve([]);

const loadPopular = () => renderBlock("popular", $("#popular"), recommend("popular", { categoryIds: [0] }), POPULAR_LIMIT);

const loadAlternatives = (item) =>
  renderBlock("alternatives", $("#alternatives"), recommend("alternative", { itemIds: [item.itemId] }), ALTERNATIVES_LIMIT);

// ---------------------------------------------------------------- consent

function readConsentNote() {
  try {
    return localStorage.getItem(CONSENT_KEY) === "out" ? "out" : "on";
  } catch {
    return "on";
  }
}

function setConsentNote(value) {
  state.consent = value;
  try {
    localStorage.setItem(CONSENT_KEY, value);
  } catch {
    // the pill is only a reminder; the tracker keeps the real choice
  }
  renderConsent();
}

function renderConsent() {
  const pill = $("#consent-state");
  const out = state.consent === "out";
  pill.textContent = !state.rr ? "–" : out ? "opted out" : "tracking on";
  pill.className = !state.rr ? "" : out ? "bad" : "ok";
}

/** Runs a consent method (optOut, optIn, forget), then shows the new id and queue. */
function consentCall(method, message) {
  if (!state.rr) return;
  try {
    state.rr[method]();
    toast(`${method}() → ${message}`, "info");
  } catch (err) {
    addLog({ kind: "error", error: { code: "threw", message: String(err?.message ?? err), method }, at: Date.now() });
  }
  if (method === "optOut") setConsentNote("out");
  if (method === "optIn") setConsentNote("on");
  updateSessionInfo();
}

// ---------------------------------------------------------------- live log of the mock

function addLog(entry) {
  state.log.unshift(entry);
  state.log.length = Math.min(state.log.length, LOG_LIMIT);
  renderLog();
}

function queryEntries(query) {
  if (!query) return [];
  if (typeof query === "string") return [...new URLSearchParams(query.replace(/^\?/, ""))];
  return Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]);
}


function bodyPreview(body) {
  if (body === undefined || body === null || body === "") return "";
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return shorten(text, 90);
}

function logLine(entry) {
  if (entry.kind === "error") {
    const { code, message, method, argument } = entry.error ?? {};
    const where = [method, argument].filter(Boolean).join(" · ");
    return h("li", { className: "entry error" },
      h("div", { className: "line" },
        h("span", { className: "time" }, clock(entry.at)),
        h("span", { className: "tag err" }, "onError"),
        h("span", { className: "path" }, code ? String(code) : "error"),
      ),
      h("div", { className: "detail" }, [where, message].filter(Boolean).join(": ")),
    );
  }
  const r = entry.req;
  const status = Number(r.status) || 0;
  const pid = state.config.partnerId;
  const path = String(r.path ?? "").split(pid).join("{pid}");
  // Key params only: identity is in the header, "_…" are cache busters; the tooltip has everything.
  // The relay's apiKey is what the mock's server API received: shown masked, never in full.
  const params = queryEntries(r.query)
    .filter(([k]) => !HIDDEN_PARAMS.has(k) && !k.startsWith("_"))
    .map(([k, v]) => (k.toLowerCase() === "apikey" ? [k, "•••• (added by the relay)"] : [k, v]));
  const tone = status >= 500 || !status ? "s5" : status >= 400 ? "s4" : status >= 300 ? "s3" : "s2";
  const masked = { ...r, query: Object.fromEntries(params), rawQuery: undefined };
  return h("li", { className: `entry${r.method === "OPTIONS" ? " preflight" : ""}`, title: JSON.stringify(masked, null, 2) },
    h("div", { className: "line" },
      h("span", { className: "time" }, clock(r.at)),
      h("span", { className: `tag method ${String(r.method).toLowerCase()}` }, r.method),
      h("span", { className: `tag ${tone}` }, status ? String(status) : "—"),
      h("span", { className: "path" }, path),
      r.fault ? h("span", { className: "tag warn" }, `fault${typeof r.fault === "string" ? `: ${r.fault}` : ""}`) : null,
      r.flagged ? h("span", { className: "tag err" }, "flagged") : null,
    ),
    params.length
      ? h("div", { className: "params" }, params.map(([k, v]) => h("span", { className: "param", title: `${k}=${v}` }, `${k}=${shorten(v, 20)}`)))
      : null,
    bodyPreview(r.body) ? h("div", { className: "detail body" }, bodyPreview(r.body)) : null,
  );
}

function renderLog() {
  const log = $("#log");
  if (!state.log.length) {
    log.replaceChildren(h("li", { className: "empty muted" }, "No requests yet. Click a product!"));
    return;
  }
  log.replaceChildren(...state.log.map(logLine));
}

async function pollMock() {
  const status = $("#mock-status");
  try {
    const res = await fetch(`${state.config.mockUrl}/__requests`, { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const requests = (await res.json()).filter((r) => !String(r.path).startsWith("/__"));
    const maxSeq = requests.reduce((m, r) => Math.max(m, Number(r.seq) || 0), 0);
    if (maxSeq < state.lastSeq) {
      // The mock was reset by someone else: start over.
      state.log = state.log.filter((e) => e.kind === "error");
      state.lastSeq = 0;
    }
    const fresh = requests.filter((r) => Number(r.seq) > state.lastSeq).sort((a, b) => a.seq - b.seq);
    if (fresh.length) {
      state.lastSeq = maxSeq;
      for (const req of fresh) state.log.unshift({ kind: "request", req });
      state.log.length = Math.min(state.log.length, LOG_LIMIT);
      renderLog();
    }
    status.textContent = `${requests.length} received`;
    status.className = "pill small ok";
  } catch {
    status.textContent = "unreachable";
    status.className = "pill small bad";
  } finally {
    setTimeout(pollMock, POLL_MS);
  }
}

async function clearLog() {
  try {
    await fetch(`${state.config.mockUrl}/__requests`, { method: "DELETE" });
  } catch {
    // the next poll will show the mock as unreachable
  }
  state.log = [];
  state.lastSeq = 0;
  renderLog();
}

// ---------------------------------------------------------------- boot

async function boot() {
  state.config = await loadConfig();
  $(RELAY_MODE ? "#mode-relay" : "#mode-direct").setAttribute("aria-current", "page");
  const status = $("#tracker-status");
  try {
    state.rr = await createTracker(state.config);
    status.textContent = "tracker ready";
    status.className = "pill ok";
    for (const id of ["#flush", "#opt-out", "#opt-in", "#forget"]) $(id).disabled = false;
    state.consent = readConsentNote();
  } catch (err) {
    state.rr = null;
    status.textContent = "tracker unavailable";
    status.className = "pill bad";
    $("#session-id").textContent = "—";
    showBanner(
      `The tracker could not be loaded (${err?.message ?? err}). Build it with ` +
        "`wasm-pack build --release --target web --out-dir pkg` (or run scripts/demo) and reload. " +
        "The storefront still works, but no events are sent.",
    );
  }
  updateSessionInfo();
  renderConsent();
  setInterval(updateSessionInfo, 250);

  const { items, source } = await loadProducts();
  state.products = items;
  state.productSource = source;
  renderCategories();
  renderGrid();
  renderBasket();
  renderLog();

  $("#search-form").addEventListener("submit", onSearch);
  $("#search").addEventListener("search", () => {
    if (!$("#search").value) setFilter({ kind: "all" });
  });
  $("#group-view").addEventListener("click", () => track("groupView", visibleProducts().map((p) => p.itemId)));
  $("#order").addEventListener("click", placeOrder);
  $("#email-form").addEventListener("submit", onEmail);
  $("#clear-log").addEventListener("click", clearLog);
  $("#opt-out").addEventListener("click", () => consentCall("optOut", "queue emptied; nothing is stored or sent until optIn()"));
  $("#opt-in").addEventListener("click", () => consentCall("optIn", "tracking on"));
  $("#forget").addEventListener("click", () => consentCall("forget", "queue emptied, new sessionExternalId"));
  setupBlock($("#popular"), "popular");
  setupBlock($("#alternatives"), "alternative");
  $("#flush").addEventListener("click", async () => {
    try {
      await state.rr?.flush();
      toast("flush() done", "info");
    } catch (err) {
      toast(`flush() failed: ${err?.message ?? err}`, "bad");
    }
    updateSessionInfo();
  });

  pollMock();
  await loadPopular();
  document.documentElement.dataset.ready = "true";
}

// Handy from the devtools console and for end-to-end tests.
window.demo = {
  state,
  get rr() {
    return state.rr;
  },
  track,
  openProduct: (id) => {
    const item = findItem(Number(id));
    if (item) openProduct(item);
  },
};

boot().catch((err) => {
  showBanner(`The demo failed to start: ${err?.message ?? err}`);
  document.documentElement.dataset.ready = "error";
});
