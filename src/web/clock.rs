//! Time and randomness from the JS host.

use js_sys::{Date, Math};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::host;

#[wasm_bindgen]
extern "C" {
    // `catch`: a page or an old WebView may lack `performance` or replace it.
    #[wasm_bindgen(catch, js_namespace = performance, js_name = now)]
    fn performance_now() -> Result<f64, JsValue>;
}

/// Milliseconds since the epoch (`Date.now()`; `SystemTime` panics on this target).
pub fn now_ms() -> u64 {
    Date::now() as u64
}

/// Milliseconds on a clock that only moves forward (`performance.now()`), for durations the
/// wall clock must not stretch or cut short when it is set (NTP, a laptop waking up);
/// `Date.now()` where there is no such clock.
pub fn monotonic_ms() -> u64 {
    performance_now().map_or_else(|_| now_ms(), |ms| ms as u64)
}

/// A random number in `0..1` for jitter (not for ids).
pub fn jitter() -> f64 {
    Math::random()
}

/// 16 random bytes from `crypto.getRandomValues`; `Math.random` only where no crypto exists.
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        bytes.iter_mut().for_each(|b| *b = (Math::random() * 256.0) as u8);
    }
    bytes
}

/// Resolves after `ms` milliseconds (at once if the page's `setTimeout` throws: a sender that
/// never woke up would hold the site's lock for good).
pub async fn sleep(ms: u64) {
    let _ = JsFuture::from(host::sleep(ms as f64)).await;
}
