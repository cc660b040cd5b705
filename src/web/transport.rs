//! Sends a [`WireRequest`] with `fetch` and reduces whatever happens to a [`Reply`]: network
//! errors, CORS failures and timeouts all become status 0. Uses the global `fetch`, so it works
//! in pages, workers and Node alike.

use js_sys::{Date, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Request, RequestCache, RequestCredentials, RequestInit, RequestMode, Response};

use crate::core::engine::Reply;
use crate::core::retry::retry_after_seconds;
use crate::core::wire::{Method, WireRequest};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(request: &Request) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_once(callback: &JsValue, ms: f64);
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

fn build(request: &WireRequest, options: Options, signal: &web_sys::AbortSignal) -> Result<Request, JsValue> {
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    // No cookies, but for the session handshake: events identify the visitor by the ids they
    // carry, as Retail Rocket's tracker sends them.
    init.set_credentials(if request.credentials { RequestCredentials::Include } else { RequestCredentials::Omit });
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
    Request::new_with_str_and_init(&request.url, &init)
}

fn retry_after_ms(response: &Response) -> Option<u64> {
    let header = response.headers().get("Retry-After").ok()??;
    retry_after_seconds(&header).or_else(|| {
        let at = Date::parse(&header);
        at.is_finite().then(|| (at - Date::now()).max(0.0) as u64)
    })
}

/// Sends `request` and waits for the answer, at most `options.timeout_ms`.
pub async fn send(request: &WireRequest, options: Options) -> Reply {
    let Ok(controller) = AbortController::new() else {
        return Reply::default();
    };
    let Ok(req) = build(request, options, &controller.signal()) else {
        return Reply::default();
    };
    // The timer always fires (aborting a finished request does nothing), which also frees the
    // one-shot closure; cancelling it instead would leak the closure.
    let abort = Closure::once_into_js(move || controller.abort());
    set_timeout_once(&abort, options.timeout_ms as f64);
    let reply = async {
        let response: Response = JsFuture::from(global_fetch(&req).ok()?).await.ok()?.dyn_into().ok()?;
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
