//! Objects the tracker builds and hands to the page (`onError` payloads, the options of a
//! block's clicks, a config error's `code`), filled through one setter. (What the browser reads,
//! request and lock options, `js/host.js` makes without a prototype.)
//!
//! The setter is a plain import of `Reflect.set` rather than `js_sys::Reflect::set`'s catching
//! one: setting a field on an object of our own cannot throw, and the plain import is smaller.

use js_sys::Object;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn reflect_set(target: &Object, key: &str, value: &JsValue) -> bool;
}

/// `target[key] = value`, on an object the tracker made.
pub fn set(target: &Object, key: &str, value: &JsValue) {
    reflect_set(target, key, value);
}
