//! Helpers shared by the Node and browser wasm test suites.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

/// A config object from `(key, value)` pairs, with a loopback tracking URL where nothing
/// listens, so no test talks to the real Retail Rocket, and no automatic pageView: the tests
/// count the events they make.
pub fn config(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    let base = [
        ("partnerId", JsValue::from_str("608423a9b126ac6ab3f8f0a5")),
        ("trackingUrl", JsValue::from_str("http://127.0.0.1:9")),
        ("pageView", JsValue::FALSE),
    ];
    for (key, value) in base.iter().chain(pairs) {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.into()
}

/// An `onError` that collects the errors it receives into a JS array, and that array.
pub fn error_sink() -> (JsValue, js_sys::Array) {
    let errors = js_sys::Array::new();
    let push =
        Function::new_with_args("errors", "return (e) => errors.push(e)").call1(&JsValue::NULL, &errors).unwrap();
    (push, errors)
}

/// `object[key]` as a string.
pub fn get_str(object: &JsValue, key: &str) -> String {
    Reflect::get(object, &JsValue::from_str(key)).unwrap().as_string().unwrap_or_default()
}

/// True for 32 lowercase hex characters.
pub fn is_generated_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
