//! What the page says about itself: its URL and referrer (sent with events, as Retail Rocket's
//! tracker does) and its query string (read once for e-mail attribution on landing).

use super::host;
use crate::core::engine::Page;

/// The page's URL and referrer now (empty where there is no page).
pub fn current() -> Page {
    Page { url: host::page("href").unwrap_or_default(), referrer: host::page("referrer").unwrap_or_default() }
}

/// `location.search`, with its `?` (empty where there is no page).
pub fn search() -> String {
    host::page("search").unwrap_or_default()
}

/// There is a page (not a server or a worker): events can be sent.
pub fn exists() -> bool {
    host::is("window")
}
