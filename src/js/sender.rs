//! Performs the send loop that `core::delivery` rules: asks for the site's sender lock, sends
//! what it is told to, sleeps when told to, and feeds back each reply and what it read of the
//! page. Also follows the page (hidden, leaving, shown, online, another tab's writes) and hands
//! waiting events to the browser when told to.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::report::Reporter;
use crate::core::delivery::{self, Delivery, Flush, Input, Leave, Now, Step, REQUEST_TIMEOUT_MS};
use crate::core::engine::{Engine, HandOff};
use crate::core::keys;
use crate::web::clock::{jitter, now_ms, sleep};
use crate::web::lifecycle::{hidden, online, Listener};
use crate::web::lock::{self, Holding, Locked, Task};
use crate::web::task::spawn_local;
use crate::web::transport;

/// State shared by the `Tracker` object, its sender task and its page listeners.
#[derive(Debug)]
pub struct Shared {
    /// The core. Never borrowed across an `.await` or a call into page code.
    pub engine: RefCell<Engine>,
    /// The send loop's state (borrowed with the engine, under the same rule).
    delivery: RefCell<Delivery>,
    /// Where problems go.
    pub reporter: Reporter,
    /// False where there is no page to send from (server-side rendering): calls are checked
    /// and queued in memory, nothing is sent.
    pub can_send: bool,
    /// The name of the sender lock of this config.
    lock_name: String,
    /// `flush()` promises waiting for the sender to settle.
    waiters: RefCell<Vec<Function>>,
    listeners: RefCell<Vec<Listener>>,
}

/// What this page reads for the send loop (outside the run under the lock).
fn now() -> Now {
    Now { ms: now_ms(), online: online(), hidden: hidden(), jitter: jitter(), held: true }
}

impl Shared {
    /// Wraps an opened engine and starts listening to the page.
    pub fn new(engine: Engine, reporter: Reporter, can_send: bool) -> Rc<Shared> {
        let lock_name = format!("{}:{}", keys::SENDER_LOCK, engine.space());
        let shared = Rc::new(Shared {
            lock_name,
            engine: RefCell::new(engine),
            delivery: RefCell::new(Delivery::new(can_send)),
            reporter,
            can_send,
            waiters: RefCell::default(),
            listeners: RefCell::default(),
        });
        if can_send {
            listen(&shared);
        }
        shared
    }

    /// Passes the engine's problems to the page (outside any borrow of the engine).
    pub fn report_problems(&self) {
        let problems = match self.engine.try_borrow_mut() {
            Ok(mut engine) => engine.take_problems(),
            Err(_) => return,
        };
        for problem in &problems {
            self.reporter.report(problem);
        }
    }

    /// The send loop's next step (see `core::delivery`); then the page hears of problems, and
    /// of the `flush()` promises it answered. (`held`: the lock's lease still holds.)
    fn advance(&self, input: Input, held: bool) -> Step {
        let (Ok(mut delivery), Ok(mut engine)) = (self.delivery.try_borrow_mut(), self.engine.try_borrow_mut()) else {
            return Step::Release;
        };
        let step = delivery.step(&mut engine, input, Now { held, ..now() });
        let settle = delivery.take_flushes();
        drop((delivery, engine));
        self.report_problems();
        if settle {
            let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
            for resolve in waiters {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
        step
    }

    /// Calls `resolve` once the queue is empty or the current attempt has failed.
    pub fn on_settled(self: &Rc<Self>, resolve: Function) {
        let Ok(mut delivery) = self.delivery.try_borrow_mut() else {
            let _ = resolve.call0(&JsValue::UNDEFINED);
            return;
        };
        let flush = delivery.flush(now());
        drop(delivery);
        match flush {
            Flush::Now => drop(resolve.call0(&JsValue::UNDEFINED)),
            Flush::Later { start } => {
                self.waiters.borrow_mut().push(resolve);
                if start {
                    self.start_sender();
                }
            }
        }
    }

    /// This page tracked events: starts the sender (see [`wake`](Self::wake)).
    pub fn tracked(self: &Rc<Self>) {
        if self.delivery.try_borrow_mut().is_ok_and(|mut d| d.tracked()) {
            self.start_sender();
        }
    }

    /// Starts the sender unless it is already running, waiting out a backoff, or standing by.
    pub fn wake(self: &Rc<Self>) {
        if self.delivery.try_borrow_mut().is_ok_and(|mut d| d.wake()) {
            self.start_sender();
        }
    }

    fn start_sender(self: &Rc<Self>) {
        spawn_local(drive(self.clone()));
    }

    /// The page is being hidden: hands waiting events to the browser, as `Delivery::hidden`
    /// decides.
    fn on_hidden(self: &Rc<Self>) {
        let Ok(leave) = self.delivery.try_borrow().map(|d| d.hidden(now())) else { return };
        match leave {
            Leave::Stay => {}
            Leave::HandOff(scope) => self.hand_off(scope),
            Leave::HandOffUnderLock => {
                let shared = self.clone();
                spawn_local(async move {
                    let inner = shared.clone();
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

    fn hand_off(self: &Rc<Self>, scope: HandOff) {
        let jobs = match self.engine.try_borrow_mut() {
            Ok(mut engine) => engine.hand_off(now_ms(), scope),
            Err(_) => return,
        };
        for job in jobs {
            let shared = self.clone();
            // Requested here, in the page's event handler: a closing page may run nothing later.
            let reply = transport::send(job.request(), delivery::HAND_OFF);
            spawn_local(async move {
                let reply = reply.await;
                let wait = shared.engine.try_borrow_mut().map(|mut e| e.settle_after_ms(&job, &reply)).unwrap_or(0);
                if wait > 0 {
                    sleep(wait).await;
                }
                if let Ok(mut engine) = shared.engine.try_borrow_mut() {
                    engine.complete_handed_off(&job, &reply);
                }
                shared.report_problems();
                shared.wake();
            });
        }
    }

    /// Asks Retail Rocket, once per page load, whether the session this page started with
    /// still holds (see `Engine::take_session_refresh`); events do not wait for the answer.
    pub fn refresh_session(self: &Rc<Self>) {
        if !self.can_send {
            return;
        }
        let Some(request) = self.engine.try_borrow_mut().ok().and_then(|mut e| e.take_session_refresh(now_ms())) else {
            return;
        };
        let shared = self.clone();
        spawn_local(async move {
            let reply = transport::send(&request, delivery::REFRESH).await;
            if let Ok(mut engine) = shared.engine.try_borrow_mut() {
                engine.session_refreshed(&reply);
            }
        });
    }
}

/// Follows the page: hidden or unloading → hand off; visible, online, back from the cache, or
/// another tab queued something → send.
fn listen(shared: &Rc<Shared>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let weak = Rc::downgrade(shared);
    let with = move |f: fn(&Rc<Shared>, web_sys::Event)| {
        let weak: Weak<Shared> = weak.clone();
        move |event: web_sys::Event| {
            if let Some(shared) = weak.upgrade() {
                f(&shared, event);
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
    *shared.listeners.borrow_mut() = listeners.into_iter().flatten().collect();
}

/// The sender task: asks for the lock, and while another tab holds it, stands by.
async fn drive(shared: Rc<Shared>) {
    let mut step = shared.advance(Input::Started, true);
    loop {
        let input = match step {
            Step::AskLock { steal } => {
                let for_run = shared.clone();
                let sender: Task = Box::new(move |holding| Box::pin(run(for_run, holding)));
                // Between two steps the sender is quiet at most for one request (its timeout),
                // but for backoffs, which it announces (`Holding::renew`).
                match lock::exclusive(&shared.lock_name, REQUEST_TIMEOUT_MS.into(), steal, sender).await {
                    Locked::Ran => Input::Released,
                    Locked::Busy => Input::Busy,
                }
            }
            Step::Sleep { ms, .. } => {
                sleep(ms).await;
                Input::Slept
            }
            Step::Send(..) | Step::Release | Step::Done => break,
        };
        step = shared.advance(input, true);
    }
}

/// The run under the lock (`holding`: none where there is no lock to be had): sends and sleeps
/// as told until told to give the lock up.
async fn run(shared: Rc<Shared>, holding: Option<Holding>) {
    let held = || holding.as_ref().is_none_or(Holding::held);
    let mut step = shared.advance(Input::Granted, held());
    loop {
        let input = match step {
            Step::Send(job, transfer) => {
                let reply = transport::send(job.request(), transfer).await;
                Input::Replied(job, reply)
            }
            Step::Sleep { ms, renew } => {
                if let (true, Some(holding)) = (renew, &holding) {
                    holding.renew(ms);
                }
                sleep(ms).await;
                Input::Slept
            }
            Step::AskLock { .. } | Step::Release | Step::Done => break,
        };
        step = shared.advance(input, held());
    }
}
