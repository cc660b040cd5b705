//! What a tracker does as the page changes: hidden or leaving → hand waiting events to the
//! browser (as `core::delivery` decides); shown, online, or another tab queued something →
//! send; another tab opted out or forgot the visitor → follow it.

use std::rc::{Rc, Weak};

use js_sys::Reflect;
use wasm_bindgen::JsCast;

use super::sender::now;
use super::state::State;
use crate::core::delivery::{Leave, REQUEST_TIMEOUT_MS};
use crate::core::engine::HandOff;
use crate::core::keys;
use crate::web::lifecycle::{hidden, Listener};
use crate::web::lock::{self, Task};
use crate::web::task::spawn_local;

impl State {
    /// The page is being hidden: hands waiting events to the browser, as `Delivery::hidden`
    /// decides.
    fn on_hidden(self: &Rc<Self>) {
        let now = now();
        let Ok(leave) = self.delivery.try_borrow().map(|d| d.hidden(now)) else { return };
        match leave {
            Leave::Stay => {}
            Leave::HandOff(scope) => self.hand_off(scope),
            Leave::HandOffUnderLock => {
                let state = self.clone();
                spawn_local(async move {
                    let inner = state.clone();
                    let name = inner.lock_name.clone();
                    let task: Task = Box::new(|_| Box::pin(async move { inner.hand_off(HandOff::Queue) }));
                    lock::exclusive(&name, REQUEST_TIMEOUT_MS.into(), false, task).await;
                });
            }
        }
    }

    /// `pagehide` (the page is going away, or into the back/forward cache) or `pageshow`.
    fn on_leaving(self: &Rc<Self>, leaving: bool) {
        if let (Ok(mut delivery), Ok(mut engine)) = (self.delivery.try_borrow_mut(), self.engine.try_borrow_mut()) {
            delivery.page_leaving(&mut engine, leaving);
        }
        if leaving {
            self.on_hidden();
        } else {
            self.wake();
        }
    }
}

/// Follows the page (see the module notes).
pub fn listen(state: &Rc<State>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let weak = Rc::downgrade(state);
    let with = move |f: fn(&Rc<State>, web_sys::Event)| {
        let weak: Weak<State> = weak.clone();
        move |event: web_sys::Event| {
            if let Some(state) = weak.upgrade() {
                f(&state, event);
            }
        }
    };
    let window_target: &web_sys::EventTarget = window.as_ref();
    let mut listeners = vec![
        Listener::new(
            window_target,
            "pagehide",
            with(|s, event| {
                s.on_leaving(true);
                // Not into the back/forward cache: this document is done. Its listeners go now,
                // so that none is called again after Firefox cut it off in mid-call during the
                // teardown (see `web::task`).
                if !Reflect::get(&event, &"persisted".into()).is_ok_and(|p| p.is_truthy()) {
                    let listeners = s.listeners.try_borrow_mut().map(|mut l| std::mem::take(&mut *l));
                    drop(listeners);
                }
            }),
        ),
        // WebKit fires only `beforeunload` (no pagehide, no visibilitychange) when a page is
        // navigated away from before it finished loading. Handing off twice is harmless: what
        // the first hand-off took out of storage is not in the queue for the second. (Not
        // `on_leaving`: a navigation another script cancels is followed by no pageshow.)
        Listener::new(window_target, "beforeunload", with(|s, _| s.on_hidden())),
        Listener::new(window_target, "pageshow", with(|s, _| s.on_leaving(false))),
        Listener::new(window_target, "online", with(|s, _| s.wake())),
        Listener::new(
            window_target,
            "storage",
            with(|s, event| {
                let key = event.dyn_ref::<web_sys::StorageEvent>().and_then(|e| e.key());
                let Ok(mut engine) = s.engine.try_borrow_mut() else { return };
                // `None`: the whole storage was cleared.
                if key.as_deref().is_none_or(|k| k == keys::OPT_OUT || k == keys::VISITOR) {
                    engine.identity_changed_elsewhere();
                }
                if key.is_none_or(|k| k.starts_with(keys::QUEUE_PREFIX)) {
                    engine.queue_changed_elsewhere();
                    drop(engine);
                    s.wake();
                }
            }),
        ),
    ];
    if let Some(document) = window.document() {
        let on_visibility = with(|s, _| if hidden() { s.on_hidden() } else { s.wake() });
        listeners.push(Listener::new(document.as_ref(), "visibilitychange", on_visibility));
    }
    *state.listeners.borrow_mut() = listeners.into_iter().flatten().collect();
}
