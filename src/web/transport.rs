//! Sends a [`WireRequest`] with `fetch` and reduces whatever happens to a [`Reply`]: network
//! errors, CORS failures and timeouts all become status 0. Uses the global `fetch`, so it works
//! in pages, workers and Node alike.
//!
//! The global `fetch` is the page's to replace (polyfills, monitoring scripts, broken
//! extensions): what it returns is only read through checked paths, and our own timer settles
//! every attempt, so a `fetch` that returns junk, throws, or never settles (ignoring the abort
//! signal) cannot stall delivery.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Date, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::AbortController;

use crate::core::engine::Reply;
use crate::core::retry::retry_after_seconds;
use crate::core::wire::{Method, WireRequest};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> Result<JsValue, JsValue>;

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
    /// Let the request outlive the page: hand-offs only. The browser does not cancel an aborted
    /// keepalive request, so one our timer gave up on may still arrive (see `Engine::settle`).
    pub keepalive: bool,
    /// Never answer from, or store in, the browser's HTTP cache (events). Recommendations leave
    /// it on: the browser honours their `Cache-Control` across page loads.
    pub bypass_cache: bool,
}

/// An object with no prototype, for every options object handed to the browser: a page that
/// adds `headers`, `credentials` or `mode` to `Object.prototype` cannot slip them into ours.
pub fn bare_object() -> Object {
    Object::create(JsValue::NULL.unchecked_ref())
}

fn put(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// The `fetch` options: plain fields on a bare object (one import for all of them, rather than
/// one per web-sys setter).
fn init(request: &WireRequest, options: Options, signal: &JsValue) -> Object {
    let init = bare_object();
    put(&init, "mode", &"cors".into());
    // No cookies either way: the visitor is identified by the ids we send, not by cookies on
    // Retail Rocket's domain (which many browsers block anyway).
    put(&init, "credentials", &"omit".into());
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
        let headers = bare_object();
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

/// Waits for whatever the page's code returned, through a promise of our own: resolving it with
/// a thenable whose `then` throws rejects it, never throws.
async fn settled(value: JsValue) -> Option<JsValue> {
    JsFuture::from(Promise::new(&mut |resolve, _| {
        let _ = resolve.call1(&JsValue::UNDEFINED, &value);
    }))
    .await
    .ok()
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

/// One `fetch` and its answer; `None` for anything but an HTTP answer.
async fn attempt(url: &str, init: &Object, read_body: bool) -> Option<Reply> {
    let response = settled(global_fetch(url, init).ok()?).await?;
    let status = get(&response, "status").as_f64().filter(|s| (100.0..600.0).contains(s))?;
    let mut reply = Reply {
        status: status as u16,
        retry_after_ms: retry_after_ms(&response),
        cache_control: header(&response, "Cache-Control"),
        ..Reply::default()
    };
    if read_body {
        reply.body = settled(call(&response, "text", &JsValue::UNDEFINED)).await?.as_string()?;
    }
    Some(reply)
}

/// Sends `request` and waits for the answer, at most `options.timeout_ms`. The attempt is
/// settled once: by its answer, or by our timer (which also aborts it), whichever comes first;
/// the other then finds it settled.
pub async fn send(request: &WireRequest, options: Options) -> Reply {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map_or(JsValue::UNDEFINED, |c| c.signal().into());
    let init = init(request, options, &signal);
    let open: Rc<RefCell<Option<Function>>> = Rc::default();
    let answer: Rc<RefCell<Option<Reply>>> = Rc::default();
    let done = Promise::new(&mut |resolve, _| *open.borrow_mut() = Some(resolve));
    let on_timer = open.clone();
    let timer = Closure::once_into_js(move || {
        let resolve = on_timer.borrow_mut().take();
        if let Some(resolve) = resolve {
            if let Some(controller) = controller {
                controller.abort();
            }
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    // If the page's setTimeout throws, the attempt is made without our timer.
    let _ = set_timeout_once(&timer, f64::from(options.timeout_ms));
    let (url, for_answer) = (request.url.clone(), answer.clone());
    spawn_local(async move {
        let reply = attempt(&url, &init, options.read_body).await.unwrap_or_default();
        let resolve = open.borrow_mut().take();
        if let Some(resolve) = resolve {
            *for_answer.borrow_mut() = Some(reply);
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(done).await;
    let reply = answer.borrow_mut().take();
    reply.unwrap_or(Reply { timed_out: true, ..Reply::default() })
}
