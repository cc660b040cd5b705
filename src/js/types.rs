//! TypeScript declarations for the shapes the `Tracker` takes, so editors and `tsc` catch
//! mistakes (including any attempt to pass a secret: no config type has a place for one).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A product or category id from your feed: an integer from 1 to 2^53 − 1, as a number or a string of digits. */
export type ProductId = number | string;

/** Configuration of a {@link Tracker}. Only public values: a key that looks like a secret is refused. */
export interface TrackerConfig {
  /** Your shop's public Retail Rocket id (24 hexadecimal characters). */
  partnerId: string;
  /** Base URL of the tracking endpoints. Default `https://tracking.retailrocket.net`. */
  trackingUrl?: string;
  /** Base URL of the recommendation endpoints. Default `https://api.retailrocket.net`. */
  apiUrl?: string;
  /** Default stock (region/warehouse) id for events that take one; at most 50 characters. */
  stockId?: string;
  /** A visitor id handed in by a native app (letters and digits, at most 50; a UUID's hyphens are removed). Wins over the stored one. */
  sessionExternalId?: string;
  /** Send events to your own server instead (`"/rr"` on this site, or an https:// URL), as batches shaped for Retail Rocket's server API; your server adds the apiKey. */
  relayUrl?: string;
  /** Where the visitor id is kept. Default `"auto"`: localStorage, then a cookie, then memory. */
  storage?: "auto" | "local" | "cookie" | "memory";
  /** Most undelivered events kept; beyond it the oldest are dropped and reported. Default 1000. */
  maxQueue?: number;
  /** `false`: stay silent (nothing stored, nothing sent; calls wait in memory) until `optIn()`. Default `true`. */
  consent?: boolean;
  /** Longest wait for `recommend()`/`items()` before the fallback answers, in ms. Default 500. */
  timeoutMs?: number;
  /** Send one `pageView` per page load, as Retail Rocket's tracker does. Default `true`. */
  pageView?: boolean;
  /** Send `pvid`, `pageUrl` and `referrer` with events, as Retail Rocket's tracker does. Default `true`. */
  pageContext?: boolean;
  /** Adopt and write Retail Rocket's `rcuid` session cookie, shared with its own tracker and your server code. Default `true`. */
  sessionCookie?: boolean;
  /** Log refused calls and delivery problems to the console. */
  debug?: boolean;
  /** Receives every refused call and delivery problem. Never called for successes. */
  onError?: (error: TrackerError) => void;
}

/** What `onError` receives. */
export interface TrackerError {
  code:
    | "invalid_argument"
    | "queue_full"
    | "event_refused"
    | "delivery_failed"
    | "storage_corrupt"
    | "storage_unavailable"
    | "recommendations_unavailable"
    | "not_relayed"
    | "bridge_invalid"
    | "session_unavailable";
  /** A sentence saying what happened and what was expected. */
  message: string;
  /** For `invalid_argument`: the tracker method, e.g. `"view"`. */
  method?: string;
  /** For `invalid_argument`: the argument, e.g. `"productId"` or `"items[1].price"`. */
  argument?: string;
}

/** Options of events that take a stock id (falls back to the config's `stockId`). */
export interface StockOptions {
  stockId?: string;
}

/** One line of an order. */
export interface OrderItem {
  id: ProductId;
  /** Quantity above 0, default 1; fractional for goods sold by weight. */
  qnt?: number | string;
  /** Unit price after discounts, at least 0 (0 for a gift). */
  price: number | string;
}

/** A completed order. */
export interface Order {
  /** Your order number (at most 500 characters; 50 in relay mode). */
  transaction: string;
  items: OrderItem[];
  stockId?: string;
}

/** A custom data value of {@link Tracker.setEmail}, sent as `d.<key>`. */
export type CustomValue = string | number | boolean | Array<string | number | boolean>;

/** Options of {@link Tracker.setEmail}: the two known keys, and any of your own custom data (`name`, `gender`, `birthday`, …). */
export interface EmailOptions {
  /** Marketing consent; sent as given, `true` when not given (as Retail Rocket's tracker does). */
  isAgreedToReceiveMarketingMail?: boolean;
  /** Your customer id (letters and digits, at most 50). Needed in relay mode, where setEmail becomes setContact. */
  contactExternalId?: string;
  [custom: string]: CustomValue | undefined;
}

/** A product of {@link Tracker.subscribeOnPriceDrop}: its id and the price the shopper saw. */
export interface PriceDropItem {
  id: ProductId;
  price: number | string;
}

/** A recommendation algorithm of Retail Rocket's API 2.0. */
export type Algorithm =
  | "popular" | "latest" | "saleByPopular" | "saleByLatest"
  | "alternative" | "related" | "accessories"
  | "search" | "personal" | "visitorinterest";

/** What an algorithm needs: categories for popular/latest/sale*, products for alternative/related/accessories, a phrase for search. */
export interface RecommendParams {
  /** Category ids from your feed; 0 means the whole shop. */
  categoryIds?: ProductId[];
  /** Full category paths, for Product API feeds. */
  categoryPaths?: string[];
  /** The products to find alternatives, related items or accessories for. */
  itemIds?: ProductId[];
  /** The search phrase (at most 50 characters). */
  phrase?: string;
  /** Only products in stock there (falls back to the config's `stockId`). */
  stockId?: string;
}

/** A product as Retail Rocket describes it (its feed's fields, in camelCase). Any field may be missing except `itemId`. */
export interface Item {
  itemId: number;
  name?: string;
  price?: number;
  oldPrice?: number;
  pictureUrl?: string;
  url?: string;
  vendor?: string;
  model?: string;
  typePrefix?: string;
  description?: string;
  categoryIds?: number[];
  categoryNames?: string[];
  categoryPathsToRoot?: number[][];
  params?: Record<string, string>;
  groupId?: number;
  stockId?: string | null;
  isAvailable?: boolean;
  [field: string]: unknown;
}

/** Which recommendation block an interaction came from. */
export interface RecomOptions {
  /** The algorithm name, e.g. `"popular"` (`suggestMethod` is accepted too). */
  methodName?: string;
  suggestMethod?: string;
  /** The kind of block, default `"widget"`. */
  suggester?: string;
}
"#;
