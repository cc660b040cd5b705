// Types of the package entry (index.js): the generated ones, and an init() that never rejects.
// Re-export here every type the generated retailrocket_tracker.d.ts exports for pages
// (tests/compat/package.test.mjs checks that none is missing).
import type { InitInput } from "./retailrocket_tracker.js";

export { Tracker } from "./retailrocket_tracker.js";
export type {
  Algorithm,
  CustomValue,
  EmailOptions,
  InitInput,
  Item,
  Order,
  OrderItem,
  PriceDropItem,
  ProductId,
  RecomOptions,
  RecommendParams,
  StockOptions,
  TrackerConfig,
  TrackerError,
} from "./retailrocket_tracker.js";

/**
 * Loads the WebAssembly tracker. Resolves `true` when it is ready, and `false` when this browser
 * or page cannot run it (no `WebAssembly`, a Content-Security-Policy without `'wasm-unsafe-eval'`,
 * a failed download), after one `console.warn` saying why. Never rejects. In Node it reads the
 * `.wasm` next to this file. Without an argument the `.wasm` is fetched from next to this module.
 *
 * A `new Tracker(config)` made before it settles keeps its calls (up to 100; tracking calls return
 * `true`) and replays them in order once the module is ready. If it cannot load, those calls are
 * dropped, and later trackers do nothing (tracking calls return `false`), so a page never breaks
 * because of tracking. A config holding a secret-looking key is refused with a `TypeError` either
 * way; other config mistakes of an early tracker are reported with a console warning.
 */
export default function init(
  input?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<boolean>;
