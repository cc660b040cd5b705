//! What the page says about itself: its URL and referrer (sent with events, as Retail Rocket's
//! tracker does) and its query string (read once for e-mail attribution on landing).

use crate::core::engine::Page;

/// The page's URL and referrer now (empty where there is no page).
pub fn current() -> Page {
    let Some(window) = web_sys::window() else { return Page::default() };
    let url = window.location().href().unwrap_or_default();
    let referrer = window.document().map(|d| d.referrer()).unwrap_or_default();
    Page { url, referrer }
}

/// `location.search`, with its `?` (empty where there is no page).
pub fn search() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}
