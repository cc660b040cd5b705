//! Retail Rocket tracking and recommendations for storefronts and mobile-app WebViews, as a
//! WebAssembly module.
//!
//! The crate has two layers:
//! - [`core`]: plain Rust. Validation, events, the persistent outbound queue, retry policy and
//!   Retail Rocket's partnerId-only wire format. Tested natively with `cargo test`.
//! - `js` (wasm32 only): the `Tracker` class that pages use, plus the browser effects (storage,
//!   `fetch`, timers) behind small interfaces in `web`.
//!
//! Only Retail Rocket's public `partnerId` is ever used. Methods that need the secret `apiKey`
//! do not exist in this crate, and cannot be switched on for the browser build:

#![deny(missing_docs)]

#[cfg(all(feature = "server-secrets", target_arch = "wasm32"))]
compile_error!(
    "the `server-secrets` feature cannot be built for the browser: Retail Rocket's apiKey must never \
     reach a page or an app. Call apiKey endpoints from your own server (see the README's relay section)."
);

// Everything but `Tracker` is internal. Natively only the core's own tests use it, so items the
// wasm face alone uses would read as dead code there.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) mod core;

#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use js::Tracker;

// The heap: talc instead of the default dlmalloc, measured at about 2.6 KB smaller (gzip) for
// this module. Single-threaded (no atomics), so the lock-free global is sound.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
