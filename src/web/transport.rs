//! Sends a [`WireRequest`] with the `send` of `js/host.js` (the page's `fetch`, raced against
//! our own timer) and reads what it settles with into a [`Reply`] (`Reply::from_host`): network
//! errors, CORS failures and timeouts are status 0.

use std::future::Future;

use js_sys::Date;
use wasm_bindgen_futures::JsFuture;

use super::host;
use crate::core::wire::{Method, Reply, Transfer, WireRequest};

/// The milliseconds until an HTTP date, by the browser's date parser and clock.
fn until(date: &str) -> Option<u64> {
    let at = Date::parse(date);
    at.is_finite().then(|| (at - Date::now()).max(0.0) as u64)
}

/// Sends `request` and waits for the answer, at most `options.timeout_ms`. The request is made
/// when this is called, not when the future is first polled (see `js/host.js`).
pub fn send(request: &WireRequest, options: Transfer) -> impl Future<Output = Reply> {
    let sent = host::send(
        &request.url,
        request.method == Method::Post,
        request.body.as_deref(),
        request.credentials,
        options.keepalive,
        options.bypass_cache,
        options.read_body,
        options.timeout_ms,
    );
    async move {
        let text = JsFuture::from(sent).await.ok().and_then(|v| v.as_string()).unwrap_or_default();
        Reply::from_host(&text, until)
    }
}
