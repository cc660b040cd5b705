//! The browser effects written in JS (`js/host.js`): one coarse call each.
//!
//! The package build (`scripts/build`, feature `js-host`) imports that module. `wasm-pack test`
//! cannot (wasm-bindgen has no module snippets for Node): there every request gets no answer,
//! no body is a product list, there is no lock to be had, and the page is never heard from.

#[cfg(not(feature = "js-host"))]
use js_sys::Promise;
#[cfg(not(feature = "js-host"))]
use wasm_bindgen::JsValue;

#[cfg(feature = "js-host")]
#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/host.js")]
extern "C" {
    /// One HTTP request: settles with the lines `Reply::from_host` reads, never rejects.
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        url: &str,
        post: bool,
        body: Option<&str>,
        cookies: bool,
        keepalive: bool,
        no_store: bool,
        read_body: bool,
        timeout_ms: u32,
    ) -> js_sys::Promise;

    /// The product list of an answer's body (an array), or `undefined` if it is not a list.
    pub fn items(body: &str) -> wasm_bindgen::JsValue;

    /// Asks for the site's lock: settles with a [`HostHolding`], `null` (another tab holds
    /// it) or `undefined` (no lock to be had), never rejects. `ms`: the first lease.
    pub fn lock(name: &str, steal: bool, ms: f64) -> js_sys::Promise;

    /// localStorage can be read (see `storageOpen`).
    #[wasm_bindgen(js_name = storageOpen)]
    pub fn storage_open(probe: &str) -> bool;
    /// `localStorage.getItem`, `None` when absent or refused.
    #[wasm_bindgen(js_name = storageGet)]
    pub fn storage_get(key: &str) -> Option<String>;
    /// `localStorage.setItem`: false when refused.
    #[wasm_bindgen(js_name = storageSet)]
    pub fn storage_set(key: &str, value: &str) -> bool;
    /// `localStorage.removeItem`.
    #[wasm_bindgen(js_name = storageRemove)]
    pub fn storage_remove(key: &str);
    /// The keys starting with `prefix`, one per line.
    #[wasm_bindgen(js_name = storageKeys)]
    pub fn storage_keys(prefix: &str) -> String;

    /// `location[name]` (`href`, `search`, `hostname`, `protocol`) or, for `referrer`,
    /// `document.referrer`; `None` where there is no window.
    pub fn page(name: &str) -> Option<String>;
    /// Whether the page is `hidden`, is `online`, or there is a `window`.
    pub fn is(name: &str) -> bool;
    /// `document.cookie`; `None` without an HTML document.
    pub fn cookies() -> Option<String>;
    /// `document.cookie = cookie`.
    #[wasm_bindgen(js_name = setCookie)]
    pub fn set_cookie(cookie: &str);

    /// The id a native app hands in through `window.RetailRocketBridge` (any value; `undefined`
    /// when there is none).
    #[wasm_bindgen(js_name = bridgeId)]
    pub fn bridge_id() -> wasm_bindgen::JsValue;
    /// Tells the app the page's id, if its bridge asks to know.
    #[wasm_bindgen(js_name = bridgeTell)]
    pub fn bridge_tell(id: &str);

    /// Resolves after `ms` milliseconds (at once if the page's `setTimeout` throws).
    pub fn sleep(ms: f64) -> js_sys::Promise;

    /// Follows the page's lifecycle, calling `on(event, key)`; returns the stop function.
    pub fn listen(on: &wasm_bindgen::JsValue) -> wasm_bindgen::JsValue;

    /// Follows the clicks on a block's items, calling `on(add, id)`; returns the stop function,
    /// or `undefined` when `block` is not an element.
    pub fn clicks(block: &wasm_bindgen::JsValue, on: &wasm_bindgen::JsValue) -> wasm_bindgen::JsValue;
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A granted lock (see `lock` in `js/host.js`).
    #[derive(Debug)]
    pub type HostHolding;
    /// The lock was given up or taken: it may be another tab's.
    #[wasm_bindgen(method, getter)]
    pub fn lost(this: &HostHolding) -> bool;
    /// Gives the lock up in `ms` unless armed again.
    #[wasm_bindgen(method)]
    pub fn arm(this: &HostHolding, ms: f64);
    /// Gives the lock up now.
    #[wasm_bindgen(method)]
    pub fn release(this: &HostHolding);
}

/// Without the host: no answer.
#[cfg(not(feature = "js-host"))]
#[allow(clippy::too_many_arguments)]
pub fn send(_: &str, _: bool, _: Option<&str>, _: bool, _: bool, _: bool, _: bool, _: u32) -> Promise {
    Promise::resolve(&JsValue::from_str("0"))
}

/// Without the host: the same wait, from Rust.
#[cfg(not(feature = "js-host"))]
pub fn sleep(ms: f64) -> Promise {
    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(catch, js_name = setTimeout)]
        fn set_timeout(callback: &js_sys::Function, ms: f64) -> Result<JsValue, JsValue>;
    }
    Promise::new(&mut |resolve, _| {
        if set_timeout(&resolve, ms).is_err() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    })
}

/// Without the host: no lock to be had.
#[cfg(not(feature = "js-host"))]
pub fn lock(_: &str, _: bool, _: f64) -> Promise {
    Promise::resolve(&JsValue::UNDEFINED)
}

/// Without the host: nothing to follow.
#[cfg(not(feature = "js-host"))]
pub fn listen(_: &JsValue) -> JsValue {
    JsValue::UNDEFINED
}

/// Without the host: nothing to follow.
#[cfg(not(feature = "js-host"))]
pub fn clicks(_: &JsValue, _: &JsValue) -> JsValue {
    JsValue::UNDEFINED
}

/// Without the host: the page, localStorage and cookies through web-sys, so the wasm tests
/// (`tests/browser.rs`) have them; the package's own are `js/host.js`'s, which the engine
/// suite's rows run.
#[cfg(not(feature = "js-host"))]
mod local {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    pub fn page(name: &str) -> Option<String> {
        let window = web_sys::window()?;
        let location = window.location();
        match name {
            "referrer" => window.document().map(|d| d.referrer()),
            "href" => location.href().ok(),
            "search" => location.search().ok(),
            "hostname" => location.hostname().ok(),
            _ => location.protocol().ok(),
        }
    }
    pub fn is(name: &str) -> bool {
        let window = web_sys::window();
        match name {
            "hidden" => window
                .and_then(|w| w.document())
                .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden),
            "online" => window.is_none_or(|w| w.navigator().on_line()),
            _ => window.is_some(),
        }
    }
    fn document() -> Option<web_sys::HtmlDocument> {
        web_sys::window()?.document()?.dyn_into().ok()
    }
    pub fn cookies() -> Option<String> {
        document()?.cookie().ok()
    }
    pub fn set_cookie(cookie: &str) {
        if let Some(document) = document() {
            let _ = document.set_cookie(cookie);
        }
    }
    fn bridge() -> Option<JsValue> {
        let bridge = Reflect::get(&js_sys::global(), &JsValue::from_str("RetailRocketBridge")).ok()?;
        (bridge.is_object() || bridge.is_function()).then_some(bridge)
    }
    fn member(bridge: &JsValue, name: &str) -> JsValue {
        Reflect::get(bridge, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }
    pub fn bridge_id() -> JsValue {
        let Some(bridge) = bridge() else { return JsValue::UNDEFINED };
        let mut value = member(&bridge, "sessionExternalId");
        for getter in ["sessionExternalId", "getSessionExternalId"] {
            if let Some(f) = member(&bridge, getter).dyn_ref::<Function>() {
                value = f.call0(&bridge).unwrap_or(JsValue::UNDEFINED);
                break;
            }
        }
        if value.is_null() {
            JsValue::UNDEFINED
        } else {
            value
        }
    }
    pub fn bridge_tell(id: &str) {
        if let Some(bridge) = bridge() {
            if let Some(f) = member(&bridge, "onSessionExternalId").dyn_ref::<Function>() {
                let _ = f.call1(&bridge, &JsValue::from_str(id));
            }
        }
    }
    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }
    pub fn storage_open(probe: &str) -> bool {
        storage().is_some_and(|s| s.get_item(probe).is_ok())
    }
    pub fn storage_get(key: &str) -> Option<String> {
        storage()?.get_item(key).ok()?
    }
    pub fn storage_set(key: &str, value: &str) -> bool {
        storage().is_some_and(|s| s.set_item(key, value).is_ok())
    }
    pub fn storage_remove(key: &str) {
        if let Some(s) = storage() {
            let _ = s.remove_item(key);
        }
    }
    pub fn storage_keys(prefix: &str) -> String {
        let Some(s) = storage() else { return String::new() };
        let mut keys = Vec::new();
        for i in 0..s.length().unwrap_or(0) {
            if let Ok(Some(key)) = s.key(i) {
                if key.starts_with(prefix) {
                    keys.push(key);
                }
            }
        }
        keys.join("\n")
    }
}
#[cfg(not(feature = "js-host"))]
pub use local::*;

/// Without the host: not a list.
#[cfg(not(feature = "js-host"))]
pub fn items(_: &str) -> JsValue {
    JsValue::UNDEFINED
}
