//! The WebView hand-off: a native app shares its installation id with the page through
//! `window.RetailRocketBridge`, so the app and its WebViews report one visitor.
//!
//! - iOS (`WKUserScript` at document start): `window.RetailRocketBridge = { sessionExternalId: "…" }`.
//! - Android (`addJavascriptInterface(bridge, "RetailRocketBridge")`, which exposes methods only):
//!   a `getSessionExternalId()` method.
//! - Back to the app: if the bridge has an `onSessionExternalId(id)` function, the tracker calls
//!   it with the id it uses (at start and after `forget()`).

use crate::core::ids::SessionExternalId;
use crate::web::host;

/// The id the app handed in: `Ok` if valid, `Err(what was there)` if not, `None` if no bridge
/// offers one. Never throws, whatever the bridge does (`js/host.js` asks it).
pub fn handed_in() -> Option<Result<SessionExternalId, String>> {
    let value = host::bridge_id();
    if value.is_undefined() {
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
    host::bridge_tell(id);
}
