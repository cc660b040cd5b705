//! Moves queued events to the wire, one request at a time and in order: asks the engine for the
//! next job, sends it, hands the reply back, waits when told to. One sender runs per site (the
//! tab holding the lock); it pauses while the browser is offline, and when the page is hidden it
//! hands every waiting event to the browser at once.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::report::Reporter;
use crate::core::engine::{Engine, HandOff, Job, Next, Reply};
use crate::core::keys;
use crate::core::lease::{self, Takeover};
use crate::web::clock::{jitter, now_ms, sleep};
use crate::web::lifecycle::{hidden, online, Listener};
use crate::web::lock::{self, Holding, Locked, Task};
use crate::web::task::spawn_local;
use crate::web::transport::{self, Options};

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT_MS: u32 = 10_000;
/// While another tab sends, how often to check whether events are still waiting.
const BUSY_RECHECK_MS: u64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No sender task.
    Idle,
    /// The sender task runs (asking for the lock, or sending).
    Running,
    /// The sender task waits out a backoff after a failed attempt (holding the lock).
    Waiting,
    /// Another tab is the site's sender; this one checks back now and then.
    Standby,
}

/// State shared by the `Tracker` object, its sender task and its page listeners.
#[derive(Debug)]
pub struct Shared {
    /// The core. Never borrowed across an `.await` or a call into page code.
    pub engine: RefCell<Engine>,
    /// Where problems go.
    pub reporter: Reporter,
    /// False where there is no page to send from (server-side rendering): calls are checked
    /// and queued in memory, nothing is sent.
    pub can_send: bool,
    /// The name of the sender lock of this config.
    lock_name: String,
    state: Cell<State>,
    /// True while this tab holds the site's sender lock (only then may it hand events off).
    holds_lock: Cell<bool>,
    /// This tab tracked events and has not yet heard whether it is the site's sender.
    tracked_unconfirmed: Cell<bool>,
    /// The last send run stopped because its lease on the lock ran out.
    lease_lost: Cell<bool>,
    /// `flush()` promises waiting for the sender to settle.
    waiters: RefCell<Vec<Function>>,
    listeners: RefCell<Vec<Listener>>,
}

impl Shared {
    /// Wraps an opened engine and starts listening to the page.
    pub fn new(engine: Engine, reporter: Reporter, can_send: bool) -> Rc<Shared> {
        let lock_name = format!("{}:{}", keys::SENDER_LOCK, engine.space());
        let shared = Rc::new(Shared {
            lock_name,
            engine: RefCell::new(engine),
            reporter,
            can_send,
            state: Cell::new(State::Idle),
            holds_lock: Cell::new(false),
            tracked_unconfirmed: Cell::new(false),
            lease_lost: Cell::new(false),
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

    fn settle_waiters(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for resolve in waiters {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    /// Calls `resolve` once the queue is empty or the current attempt has failed.
    pub fn on_settled(self: &Rc<Self>, resolve: Function) {
        if matches!(self.state.get(), State::Waiting | State::Standby) || !self.can_send || !online() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
            return;
        }
        self.waiters.borrow_mut().push(resolve);
        if self.state.get() == State::Idle {
            self.wake();
        }
    }

    /// This page tracked events: starts the sender (see [`wake`](Self::wake)).
    pub fn tracked(self: &Rc<Self>) {
        if !self.holds_lock.get() && self.state.get() != State::Standby {
            self.tracked_unconfirmed.set(true);
        }
        self.wake();
    }

    /// Starts the sender unless it is already running, waiting out a backoff, or standing by
    /// (a tab in standby checks back by itself).
    pub fn wake(self: &Rc<Self>) {
        if self.can_send && self.state.get() == State::Idle {
            self.state.set(State::Running);
            spawn_local(drive(self.clone()));
        }
    }

    /// The page is being hidden: hand waiting events to the browser (see `Engine::hand_off`).
    /// The site's sender hands off the queue. A tab that has just tracked events and not yet
    /// heard back about the lock hands off those of its own at once: the page may be closing,
    /// and a lock granted later would come too late. Any other tab takes the lock first; if
    /// another tab holds it, that tab is alive and delivers.
    fn on_hidden(self: &Rc<Self>) {
        if !online() {
            return;
        }
        if self.holds_lock.get() {
            self.hand_off(HandOff::Queue);
        } else if self.tracked_unconfirmed.get() {
            self.hand_off(HandOff::OwnEvents);
        } else {
            let shared = self.clone();
            spawn_local(async move {
                let inner = shared.clone();
                let name = inner.lock_name.clone();
                let task: Task = Box::new(|_| Box::pin(async move { inner.hand_off(HandOff::Queue) }));
                lock::exclusive(&name, REQUEST_TIMEOUT_MS.into(), false, task).await;
            });
        }
    }

    /// `pagehide` (the page is going away, or into the back/forward cache) or `pageshow`.
    fn on_leaving(self: &Rc<Self>, leaving: bool) {
        if let Ok(mut engine) = self.engine.try_borrow_mut() {
            engine.page_leaving(leaving);
        }
        // The lock is given up with `pagehide` (see `web::lock`), which WebKit 2.38 does not
        // always honour for a page going into its back/forward cache: the tabs standing by
        // are told, and take the lock if it stays busy (`core::lease::Takeover`).
        if leaving && self.holds_lock.get() {
            self.end_lease();
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
            let options =
                Options { timeout_ms: REQUEST_TIMEOUT_MS, read_body: false, keepalive: true, bypass_cache: true };
            // Requested here, in the page's event handler: a closing page may run nothing later.
            let reply = transport::send(job.request(), options);
            spawn_local(async move {
                let reply = reply.await;
                let wait = settle_wait(&shared, &job, &reply);
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
            let options =
                Options { timeout_ms: REQUEST_TIMEOUT_MS, read_body: true, keepalive: false, bypass_cache: true };
            let reply = transport::send(&request, options).await;
            if let Ok(mut engine) = shared.engine.try_borrow_mut() {
                engine.session_refreshed(&reply);
            }
        });
    }

    /// Tells the tabs standing by that this page's lease is over.
    fn end_lease(&self) {
        if let Ok(mut engine) = self.engine.try_borrow_mut() {
            engine.end_lease();
        }
    }

    fn pending(&self) -> usize {
        self.engine.try_borrow_mut().map(|mut e| e.pending()).unwrap_or(0)
    }
}

/// How long to wait before a reply is settled (see `Engine::settle_after_ms`).
fn settle_wait(shared: &Shared, job: &Job, reply: &Reply) -> u64 {
    shared.engine.try_borrow_mut().map(|mut e| e.settle_after_ms(job, reply)).unwrap_or(0)
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

/// The sender task: sends while this tab holds the lock; while another tab does, checks back
/// now and then in case that tab went away or some events live only in this page's memory.
async fn drive(shared: Rc<Shared>) {
    let mut standby = Takeover::default();
    let mut take = false;
    loop {
        // Between two steps the sender waits at most for one request (its timeout), but for
        // backoffs, which it announces: see `run`.
        let for_run = shared.clone();
        let sender: Task = Box::new(move |holding| Box::pin(run(for_run, holding)));
        if lock::exclusive(&shared.lock_name, REQUEST_TIMEOUT_MS.into(), take, sender).await == Locked::Ran {
            break;
        }
        shared.tracked_unconfirmed.set(false);
        shared.state.set(State::Standby);
        shared.settle_waiters();
        // Jittered, so that two tabs standing by do not check, and take the lock, in step.
        sleep(BUSY_RECHECK_MS + (jitter() * 1_000.0) as u64).await;
        if shared.pending() == 0 || !online() {
            break;
        }
        // Still busy, as far as this tab knows: take the lock if its holder stopped running.
        let said = shared.engine.try_borrow().ok().and_then(|e| e.shared_lease());
        take = standby.busy(said, now_ms());
        // Still Standby while asking again: `run` says Running once the lock is ours.
    }
    shared.state.set(State::Idle);
    shared.report_problems();
    shared.settle_waiters();
    // The lock was given up under a live page (it went into the back/forward cache and came
    // back, or it was quiet too long): the page asks again rather than wait for its next event.
    if shared.lease_lost.replace(false) && !hidden() && online() && shared.pending() > 0 {
        shared.wake();
    }
}

/// Sends until there is nothing left to send or the browser goes offline (called holding the
/// lock), or the lock's lease ran out (this page was quiet too long: another may send now).
async fn run(shared: Rc<Shared>, holding: Option<Holding>) {
    shared.state.set(State::Running);
    shared.holds_lock.set(true);
    shared.tracked_unconfirmed.set(false);
    while online() && holding.as_ref().is_none_or(Holding::held) {
        let job = match shared.engine.try_borrow_mut() {
            Ok(mut engine) => engine.next_job(now_ms()),
            Err(_) => None,
        };
        let Some(job) = job else { break };
        if let Ok(mut engine) = shared.engine.try_borrow_mut() {
            engine.share_lease(lease::deadline(now_ms(), REQUEST_TIMEOUT_MS.into()));
        }
        // Keepalive where it needs no preflight (see `Job::outlives_page`): the event under way
        // when the page goes away is left to this request, and Firefox cancels a regular one
        // with a closing window. Our timer's abort still ends it while the page lives.
        let options = Options {
            timeout_ms: REQUEST_TIMEOUT_MS,
            read_body: matches!(job, Job::Initialize(_)),
            keepalive: job.outlives_page(),
            bypass_cache: true,
        };
        let reply = transport::send(job.request(), options).await;
        let wait = settle_wait(&shared, &job, &reply);
        if wait > 0 {
            sleep(wait).await;
        }
        let next = match shared.engine.try_borrow_mut() {
            Ok(mut engine) => engine.complete(&job, &reply, jitter()),
            Err(_) => Next::Continue,
        };
        shared.report_problems();
        if let Next::Wait(ms) = next {
            // A lock taken meanwhile is the taker's to speak of.
            if holding.as_ref().is_some_and(|h| !h.held()) {
                break;
            }
            if let Ok(mut engine) = shared.engine.try_borrow_mut() {
                engine.share_wait(now_ms() + ms);
                engine.share_lease(lease::deadline(now_ms(), ms));
            }
            shared.state.set(State::Waiting);
            shared.settle_waiters();
            if let Some(holding) = &holding {
                holding.renew(ms);
            }
            sleep(ms).await;
            shared.state.set(State::Running);
        }
    }
    let lost = holding.as_ref().is_some_and(|h| !h.held());
    // Done: the lock is given up now. (A lock taken from this page is the taker's to speak of.)
    if !lost {
        shared.end_lease();
    }
    shared.lease_lost.set(lost);
    shared.holds_lock.set(false);
}
