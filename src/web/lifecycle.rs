//! The page's lifecycle (hidden, shown, online, another tab's storage write) and a block's
//! clicks, heard through `js/host.js`. A [`Listening`] stops when dropped.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::host;

/// What the page went through, as `listen` in `js/host.js` numbers it.
#[derive(Debug, PartialEq, Eq)]
pub enum PageEvent {
    /// `pagehide`: unloaded, or put in the back/forward cache.
    Hide,
    /// `beforeunload`.
    BeforeUnload,
    /// `pageshow`.
    Show,
    /// `online`.
    Online,
    /// `storage`: another tab wrote the key (`None`: it cleared the whole storage).
    Storage(Option<String>),
    /// `visibilitychange`.
    Visibility,
}

impl PageEvent {
    fn from_host(event: u32, key: Option<String>) -> Option<PageEvent> {
        Some(match event {
            0 => PageEvent::Hide,
            1 => PageEvent::BeforeUnload,
            2 => PageEvent::Show,
            3 => PageEvent::Online,
            4 => PageEvent::Storage(key),
            5 => PageEvent::Visibility,
            _ => return None,
        })
    }
}

/// Listeners in the page, removed when this is dropped.
#[derive(Debug)]
pub struct Listening {
    /// The host's stop function.
    stop: JsValue,
    _heard: Closure<dyn FnMut(u32, Option<String>)>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.dyn_ref::<Function>() {
            let _ = stop.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Follows the page: `on` hears each [`PageEvent`].
pub fn listen(mut on: impl FnMut(PageEvent) + 'static) -> Listening {
    let heard = Closure::<dyn FnMut(u32, Option<String>)>::new(move |event, key| {
        if let Some(event) = PageEvent::from_host(event, key) {
            on(event);
        }
    });
    Listening { stop: host::listen(heard.as_ref()), _heard: heard }
}

/// Follows the clicks on the items of `block`: `on(add, id)` (see `clicks` in `js/host.js`).
/// `None` when `block` is not an element.
pub fn clicks(block: &JsValue, mut on: impl FnMut(bool, String) + 'static) -> Option<Listening> {
    let heard = Closure::<dyn FnMut(u32, Option<String>)>::new(move |add, id: Option<String>| {
        on(add == 1, id.unwrap_or_default());
    });
    let stop = host::clicks(block, heard.as_ref());
    stop.is_function().then(|| Listening { stop, _heard: heard })
}

/// True unless the browser says it is offline.
pub fn online() -> bool {
    host::is("online")
}

/// True when the page is hidden (another tab, app in background, closing).
pub fn hidden() -> bool {
    host::is("hidden")
}
