//! The browser effects written in JS (`js/host.js`): one coarse call each.
//!
//! The package build (`scripts/build`, feature `js-host`) imports that module. `wasm-pack test`
//! cannot (wasm-bindgen has no module snippets for Node): there every request gets no answer
//! and no body is a product list.

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
}

/// Without the host: no answer.
#[cfg(not(feature = "js-host"))]
#[allow(clippy::too_many_arguments)]
pub fn send(_: &str, _: bool, _: Option<&str>, _: bool, _: bool, _: bool, _: bool, _: u32) -> Promise {
    Promise::resolve(&JsValue::from_str("0"))
}

/// Without the host: not a list.
#[cfg(not(feature = "js-host"))]
pub fn items(_: &str) -> JsValue {
    JsValue::UNDEFINED
}
