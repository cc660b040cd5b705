//! The WebView hand-off: a native app shares its installation id with the page through
//! `window.RetailRocketBridge`, so the app and its WebViews report one visitor.
//!
//! - iOS (`WKUserScript` at document start): `window.RetailRocketBridge = { sessionExternalId: "…" }`.
//! - Android (`addJavascriptInterface(bridge, "RetailRocketBridge")`, which exposes methods only):
//!   a `getSessionExternalId()` method.
//! - Back to the app: if the bridge has an `onSessionExternalId(id)` function, the tracker calls
//!   it with the id it uses (at start and after `forget()`).

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::ids::SessionExternalId;

fn bridge() -> Option<JsValue> {
    let bridge = Reflect::get(&js_sys::global(), &JsValue::from_str("RetailRocketBridge")).ok()?;
    (bridge.is_object() || bridge.is_function()).then_some(bridge)
}

fn member(bridge: &JsValue, name: &str) -> JsValue {
    Reflect::get(bridge, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The id the app handed in: `Ok` if valid, `Err(what was there)` if not, `None` if no bridge
/// offers one. Never throws, whatever the bridge does.
pub fn handed_in() -> Option<Result<SessionExternalId, String>> {
    let bridge = bridge()?;
    let mut value = member(&bridge, "sessionExternalId");
    for getter in ["sessionExternalId", "getSessionExternalId"] {
        if let Some(f) = member(&bridge, getter).dyn_ref::<Function>() {
            value = f.call0(&bridge).unwrap_or(JsValue::UNDEFINED);
            break;
        }
    }
    if value.is_undefined() || value.is_null() {
        return None;
    }
    let text = value.as_string();
    Some(text.as_deref().and_then(|t| SessionExternalId::parse(t).ok()).ok_or_else(|| match text {
        Some(t) => ["\"", &t.chars().take(60).collect::<String>(), "\""].concat(),
        None => "a value that is not a string".to_owned(),
    }))
}

/// Tells the app which id the page uses, if it asked to know.
pub fn hand_back(id: &str) {
    if let Some(bridge) = bridge() {
        if let Some(f) = member(&bridge, "onSessionExternalId").dyn_ref::<Function>() {
            let _ = f.call1(&bridge, &JsValue::from_str(id));
        }
    }
}
