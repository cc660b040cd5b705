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
  /** Where the visitor id is kept. Default `"auto"`: localStorage, then a cookie, then memory. */
  storage?: "auto" | "local" | "cookie" | "memory";
  /** Most undelivered events kept; beyond it the oldest are dropped and reported. Default 1000. */
  maxQueue?: number;
  /** `false`: stay silent (nothing stored, nothing sent; calls wait in memory) until `optIn()`. Default `true`. */
  consent?: boolean;
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
    | "storage_unavailable";
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
  /** Quantity, default 1. */
  qnt?: number;
  /** Unit price after discounts, greater than 0. */
  price: number | string;
}

/** A completed order. */
export interface Order {
  /** Your order number, at most 50 characters. */
  transaction: string;
  items: OrderItem[];
  stockId?: string;
}

/** Options of {@link Tracker.setEmail}. */
export interface EmailOptions {
  isAgreedToReceiveMarketingMail?: boolean;
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
