//! Objects the tracker builds and hands to the page or the browser (request options, lock
//! options, `onError` payloads, recommendation items): made without a prototype where the browser
//! reads them, and filled through one setter.
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

/// An object with no prototype: a page that adds `headers`, `credentials` or `mode` to
/// `Object.prototype` cannot slip them into ours.
pub fn bare() -> Object {
    Object::create(JsValue::NULL.unchecked_ref())
}

/// `target[key] = value`, on an object the tracker made.
pub fn set(target: &Object, key: &str, value: &JsValue) {
    reflect_set(target, key, value);
}
