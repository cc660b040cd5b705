//! Sends a [`WireRequest`] with `fetch` and reduces whatever happens to a [`Reply`]: network
//! errors, CORS failures and timeouts all become status 0. Uses the global `fetch`, so it works
//! in pages, workers and Node alike.
//!
//! The global `fetch` is the page's to replace (polyfills, monitoring scripts, broken
//! extensions): what it returns is only read through checked paths, and our own timer settles
//! every attempt, so a `fetch` that returns junk, throws, or never settles (ignoring the abort
//! signal) cannot stall delivery.

use std::future::Future;

use js_sys::{Array, Date, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

use super::object;
use crate::core::retry::retry_after_seconds;
use crate::core::wire::{Method, Reply, Transfer, WireRequest};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    // `fetch(url, init)`, never `fetch(new Request(…))`: Firefox drops a keepalive request made
    // from a Request object when the page closes while it is under way.
    fn global_fetch(url: &str, init: &Object) -> Result<JsValue, JsValue>;

    // `catch`: Firefox throws from setTimeout while it tears a page down; the request must
    // still go out (it is the unload hand-off), only without its timeout.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout_once(callback: &JsValue, ms: f64) -> Result<JsValue, JsValue>;
}

fn put(target: &Object, key: &str, value: &JsValue) {
    object::set(target, key, value);
}

/// The `fetch` options: plain fields on a bare object (one import for all of them, rather than
/// one per web-sys setter).
fn init(request: &WireRequest, options: Transfer, signal: &JsValue) -> Object {
    let init = object::bare();
    put(&init, "mode", &"cors".into());
    // No cookies, but for the session handshake: events identify the visitor by the ids they
    // carry, as Retail Rocket's tracker sends them.
    put(&init, "credentials", &if request.credentials { "include" } else { "omit" }.into());
    put(&init, "signal", signal);
    if options.bypass_cache {
        put(&init, "cache", &"no-store".into());
    }
    if options.keepalive {
        put(&init, "keepalive", &JsValue::TRUE);
    }
    put(&init, "method", &if request.method == Method::Post { "POST" } else { "GET" }.into());
    if let Some(body) = &request.body {
        put(&init, "body", &body.into());
        let headers = object::bare();
        put(&headers, "Content-Type", &"application/json".into());
        put(&init, "headers", &headers);
    }
    init
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target.name(arg)`, or `undefined` if that is not a function or it throws.
fn call(target: &JsValue, name: &str, arg: &JsValue) -> JsValue {
    get(target, name).dyn_into::<Function>().ok().and_then(|f| f.call1(target, arg).ok()).unwrap_or(JsValue::UNDEFINED)
}

fn header(response: &JsValue, name: &str) -> Option<String> {
    call(&get(response, "headers"), "get", &JsValue::from_str(name)).as_string()
}

fn retry_after_ms(response: &JsValue) -> Option<u64> {
    let header = header(response, "Retry-After")?;
    retry_after_seconds(&header).or_else(|| {
        let at = Date::parse(&header);
        at.is_finite().then(|| (at - Date::now()).max(0.0) as u64)
    })
}

/// Sends `request` and waits for the answer, at most `options.timeout_ms`. The attempt is
/// settled once: by its answer, or by our timer (which also aborts it), whichever comes first.
/// Whatever the page's `fetch` returns is raced against the timer through `Promise.race`, which
/// never throws (a thenable whose `then` throws rejects the race).
///
/// The request is made when this is called, not when the future is first polled: a page being
/// hidden hands its events off from the event handler itself, and Firefox runs no more tasks or
/// microtasks of a page it is closing.
pub fn send(request: &WireRequest, options: Transfer) -> impl Future<Output = Reply> {
    let mut controller = AbortController::new().ok();
    let signal = controller.as_ref().map_or(JsValue::UNDEFINED, |c| c.signal().into());
    let init = init(request, options, &signal);
    // What the timer resolves with: no page value can be this object.
    let expired: JsValue = Object::new().into();
    let timer = Promise::new(&mut |resolve, _| {
        let (controller, expired) = (controller.take(), expired.clone());
        // The timer always fires (aborting a finished request does nothing), which also frees
        // the one-shot closure. If the page's setTimeout throws, there is no timer.
        let fire = Closure::once_into_js(move || {
            if let Some(controller) = controller {
                controller.abort();
            }
            let _ = resolve.call1(&JsValue::UNDEFINED, &expired);
        });
        let _ = set_timeout_once(&fire, f64::from(options.timeout_ms));
    });
    let within = move |value: &JsValue| JsFuture::from(Promise::race(&Array::of2(value, &timer)));
    let fetched = within(&global_fetch(&request.url, &init).unwrap_or(JsValue::UNDEFINED));
    async move {
        let timed_out = Reply { timed_out: true, ..Reply::default() };
        let Ok(response) = fetched.await else {
            return Reply::default();
        };
        if response == expired {
            return timed_out;
        }
        let Some(status) = get(&response, "status").as_f64().filter(|s| (100.0..600.0).contains(s)) else {
            return Reply::default();
        };
        let mut reply = Reply {
            status: status as u16,
            retry_after_ms: retry_after_ms(&response),
            cache_control: header(&response, "Cache-Control"),
            ..Reply::default()
        };
        if options.read_body {
            match within(&call(&response, "text", &JsValue::UNDEFINED)).await {
                Ok(text) if text == expired => return timed_out,
                Ok(text) => reply.body = text.as_string().unwrap_or_default(),
                Err(_) => return Reply::default(),
            }
        }
        reply
    }
}
