//! What a tracker does as the page changes: hidden or leaving → hand waiting events to the
//! browser (as `core::delivery` decides); shown, online, or another tab queued something →
//! send; another tab opted out or forgot the visitor → follow it.

use std::rc::Rc;

use super::sender::now;
use super::state::State;
use crate::core::delivery::{Leave, REQUEST_TIMEOUT_MS};
use crate::core::engine::HandOff;
use crate::core::keys;
use crate::web::lifecycle::{self, hidden, PageEvent};
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
    let weak = Rc::downgrade(state);
    let listening = lifecycle::listen(move |event| {
        let Some(s) = weak.upgrade() else { return };
        match event {
            // Unloaded, or into the back/forward cache. (When the document is done, the host
            // stops listening after this: see `listen` in `js/host.js`.)
            PageEvent::Hide => s.on_leaving(true),
            // WebKit fires only `beforeunload` (no pagehide, no visibilitychange) when a page
            // is navigated away from before it finished loading. Handing off twice is harmless:
            // what the first hand-off took out of storage is not in the queue for the second.
            // (Not `on_leaving`: a navigation another script cancels is followed by no
            // pageshow.)
            PageEvent::BeforeUnload => s.on_hidden(),
            PageEvent::Show => s.on_leaving(false),
            PageEvent::Online => s.wake(),
            PageEvent::Visibility if hidden() => s.on_hidden(),
            PageEvent::Visibility => s.wake(),
            PageEvent::Storage(key) => {
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
            }
        }
    });
    *state.listeners.borrow_mut() = Some(listening);
}
