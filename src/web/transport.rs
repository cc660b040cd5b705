//! Sends a [`WireRequest`] with `fetch` and reduces whatever happens to a [`Reply`]: network
//! errors, CORS failures and timeouts all become status 0. Uses the global `fetch`, so it works
//! in pages, workers and Node alike.

use std::future::Future;

use js_sys::{Date, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestCache, RequestCredentials, RequestInit, RequestMode, Response};

use crate::core::engine::Reply;
use crate::core::retry::retry_after_seconds;
use crate::core::wire::{Method, WireRequest};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    // `fetch(url, init)`, never `fetch(new Request(…))`: Firefox drops a keepalive request made
    // from a Request object when the page closes while it is under way.
    fn global_fetch(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;

    // `catch`: Firefox throws from setTimeout while it tears a page down; the request must
    // still go out (it is the unload hand-off), only without its timeout.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout_once(callback: &JsValue, ms: f64) -> Result<JsValue, JsValue>;
}

/// How the request should travel.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Abort after this long.
    pub timeout_ms: u32,
    /// Read the body (only the session handshake needs it).
    pub read_body: bool,
    /// Let the request outlive the page (unload flush).
    pub keepalive: bool,
    /// Never answer from, or store in, the browser's HTTP cache (events). Recommendations leave
    /// it on: the browser honours their `Cache-Control` across page loads.
    pub bypass_cache: bool,
}

fn build(request: &WireRequest, options: Options, signal: &web_sys::AbortSignal) -> Result<RequestInit, JsValue> {
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    // No cookies either way: the visitor is identified by the ids we send, not by cookies on
    // Retail Rocket's domain (which many browsers block anyway).
    init.set_credentials(RequestCredentials::Omit);
    init.set_signal(Some(signal));
    if options.bypass_cache {
        init.set_cache(RequestCache::NoStore);
    }
    if options.keepalive {
        // Not in web-sys's RequestInit bindings; it is a plain field of the init dictionary.
        js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE)?;
    }
    match request.method {
        Method::Get => init.set_method("GET"),
        Method::Post => {
            init.set_method("POST");
            if let Some(body) = &request.body {
                init.set_body(&JsValue::from_str(body));
                let headers = web_sys::Headers::new()?;
                headers.set("Content-Type", "application/json")?;
                init.set_headers(&headers);
            }
        }
    }
    Ok(init)
}

fn retry_after_ms(response: &Response) -> Option<u64> {
    let header = response.headers().get("Retry-After").ok()??;
    retry_after_seconds(&header).or_else(|| {
        let at = Date::parse(&header);
        at.is_finite().then(|| (at - Date::now()).max(0.0) as u64)
    })
}

/// Sends `request` and waits for the answer, at most `options.timeout_ms`. The request is
/// made when this is called, not when the future is first polled: a page being hidden hands
/// its events off from the event handler itself, and Firefox runs no more tasks or microtasks
/// of a page it is closing.
pub fn send(request: &WireRequest, options: Options) -> impl Future<Output = Reply> {
    let started = start(request, options);
    async move {
        let Some(fetched) = started else { return Reply::default() };
        let reply = async {
            let response: Response = JsFuture::from(fetched).await.ok()?.dyn_into().ok()?;
            let mut reply = Reply {
                status: response.status(),
                retry_after_ms: retry_after_ms(&response),
                cache_control: response.headers().get("Cache-Control").ok().flatten(),
                body: String::new(),
            };
            if options.read_body {
                let text = JsFuture::from(response.text().ok()?).await.ok()?;
                reply.body = text.as_string().unwrap_or_default();
            }
            Some(reply)
        }
        .await;
        reply.unwrap_or_default()
    }
}

/// Calls `fetch` at once, with its timeout armed; `None` if the request could not be made.
fn start(request: &WireRequest, options: Options) -> Option<Promise> {
    let controller = AbortController::new().ok()?;
    let init = build(request, options, &controller.signal()).ok()?;
    let fetched = global_fetch(&request.url, &init).ok()?;
    // The timer always fires (aborting a finished request does nothing), which also frees the
    // one-shot closure; cancelling it instead would leak the closure.
    let abort = Closure::once_into_js(move || controller.abort());
    let _ = set_timeout_once(&abort, options.timeout_ms as f64);
    Some(fetched)
}
