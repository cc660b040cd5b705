//! One sender per site: the Web Locks API (`navigator.locks`) lets exactly one tab send at a
//! time, so two tabs sharing the queue never send an event twice.
//!
//! A holding is a lease (`core::lease`): the lock is given up when the task ends, or when it
//! stays quiet longer than it said it would. The second is timed by a plain JS timer that
//! settles the lock's promise by itself, so a tracker whose wasm can no longer run (a trap, an
//! exception unwound through it) does not keep the site's other pages from sending.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::clock::monotonic_ms;
use super::task::spawn_local;
use crate::core::lease::Lease;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn request_lock(name: &str, options: &Object, callback: &JsValue) -> Result<Promise, JsValue>;

    // `setTimeout(release, ms, true)`: when it fires, the browser calls the promise's own
    // resolve function, none of our code. `catch`: Firefox throws from it during teardown.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout_with(callback: &Function, ms: f64, argument: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue) -> Result<(), JsValue>;

    // The global `addEventListener` (the window's; none in Node).
    #[wasm_bindgen(catch, js_name = addEventListener)]
    fn add_listener(kind: &str, listener: &Function) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, js_name = removeEventListener)]
    fn remove_listener(kind: &str, listener: &Function) -> Result<(), JsValue>;

    /// A promise, for its `then` (`catch`: the page may have replaced it).
    type Settling;
    #[wasm_bindgen(catch, method, js_name = then)]
    fn then(this: &Settling, callback: &JsValue) -> Result<JsValue, JsValue>;
}

/// The holder's side of a lease on the lock (cloned into the task it runs).
#[derive(Debug, Clone)]
pub struct Holding(Rc<Held>);

#[derive(Debug)]
struct Held {
    lease: Cell<Lease>,
    /// How long the task may be quiet between two of its steps, unless it says otherwise.
    quiet_ms: u64,
    /// Settles the promise the lock callback returned: the lock is given up.
    release: Function,
    /// The timer that calls `release` when the lease runs out.
    timer: RefCell<Option<JsValue>>,
}

impl Holding {
    /// `release` settles `promise`, the one the lock callback returned.
    fn new(promise: &Promise, release: Function, quiet_ms: u64) -> Holding {
        let held = Held {
            lease: Cell::new(Lease::new(monotonic_ms(), quiet_ms)),
            quiet_ms,
            release,
            timer: RefCell::default(),
        };
        let holding = Holding(Rc::new(held));
        holding.arm();
        // A page going into the back/forward cache stops its timers but, in WebKit 2.38, keeps
        // its locks: `pagehide` gives the lock up (the browser calls `release` itself, so this
        // works in a page whose wasm can no longer run too). It comes after the tracker's own
        // `pagehide` listener, which hands the queue to the browser.
        let _ = add_listener("pagehide", &holding.0.release);
        // However the lock was given up, the task is told so at its next step.
        let for_then = holding.clone();
        let on_released = Closure::once_into_js(move |_: JsValue| for_then.lose());
        let _ = promise.unchecked_ref::<Settling>().then(&on_released);
        holding
    }

    fn lose(&self) {
        let mut lease = self.0.lease.get();
        lease.end();
        self.0.lease.set(lease);
        self.disarm();
        let _ = remove_listener("pagehide", &self.0.release);
    }

    /// The task is about to wait for up to `quiet_ms` (a backoff): the lease lasts that long,
    /// plus the grace. Returns whether the lock is still held.
    pub fn renew(&self, quiet_ms: u64) -> bool {
        let mut lease = self.0.lease.get();
        let held = lease.renew(monotonic_ms(), quiet_ms);
        self.0.lease.set(lease);
        self.arm();
        held
    }

    /// False once the lease ran out: the lock may be another tab's, so stop sending.
    pub fn held(&self) -> bool {
        self.0.lease.get().held()
    }

    /// Restarts the timer for what is left of the lease (gives the lock up now if nothing is).
    fn arm(&self) {
        self.disarm();
        let remaining = self.0.lease.get().remaining_ms(monotonic_ms());
        // setTimeout takes at most 2^31 - 1 ms (a longer delay fires at once).
        let ms = remaining.min(i32::MAX as u64) as f64;
        if remaining == 0 {
            self.give_up();
        } else if let Ok(id) = set_timeout_with(&self.0.release, ms, &JsValue::TRUE) {
            *self.0.timer.borrow_mut() = Some(id);
        }
    }

    fn disarm(&self) {
        if let Some(id) = self.0.timer.borrow_mut().take() {
            let _ = clear_timeout(&id);
        }
    }

    fn give_up(&self) {
        self.disarm();
        let _ = self.0.release.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
    }
}

/// Runs the task under its lease: each step of the task renews the lease for the default quiet
/// time; the lock is given up when the task ends, and then `finished` is called.
struct Watched {
    task: Pin<Box<dyn Future<Output = ()>>>,
    holding: Holding,
    finished: Option<Function>,
}

impl Future for Watched {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // A lease already lost gives the lock up here; the task still runs its step, sees
        // `held()` false and stops.
        this.holding.renew(this.holding.0.quiet_ms);
        let poll = this.task.as_mut().poll(cx);
        if poll.is_ready() {
            this.holding.give_up();
            if let Some(finished) = this.finished.take() {
                let _ = finished.call0(&JsValue::UNDEFINED);
            }
        }
        poll
    }
}

/// How a locked run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// We held the lock (or there is no lock API) and ran the task.
    Ran,
    /// Another tab holds the lock; the task did not run.
    Busy,
}

fn supported() -> bool {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).unwrap_or(JsValue::UNDEFINED);
    navigator.is_object() && Reflect::get(&navigator, &JsValue::from_str("locks")).is_ok_and(|l| l.is_object())
}

/// A task to run under the lock, given its holding (none: it runs unlocked). Boxed, so that one
/// copy of [`exclusive`] serves every caller.
pub type Task = Box<dyn FnOnce(Option<Holding>) -> Pin<Box<dyn Future<Output = ()>>>>;

/// Runs `task` while holding the site-wide lock `name`, unless another tab holds it (with
/// `take`, it is taken from that tab: see `core::lease::Takeover`). Where the Web Locks API is
/// missing (Safari before 15.4) or refuses (opaque origins), runs `task` without a lock. The
/// task gets its [`Holding`]; between two of its steps it may be quiet for `quiet_ms` (or what
/// it last asked for with [`Holding::renew`]) plus the grace, or it loses the lock; it loses it
/// too when another tab takes it.
pub async fn exclusive(name: &str, quiet_ms: u64, take: bool, task: Task) -> Locked {
    if !supported() {
        task(None).await;
        return Locked::Ran;
    }
    let options = super::object::bare();
    super::object::set(&options, if take { "steal" } else { "ifAvailable" }, &JsValue::TRUE);
    // The task waits here until the lock callback takes it; if the lock request fails instead
    // (opaque origins such as file:// WebViews reject it), it is still here to run unlocked.
    let slot = Rc::new(RefCell::new(Some(task)));
    let for_callback = slot.clone();
    let held = Rc::new(RefCell::new(None::<Holding>));
    let for_held = held.clone();
    // Settled when the task has ended. The lock can be given up before that (the lease ran out,
    // the page was hidden), and the task must still end before this run does: a second task
    // started meanwhile would send beside it.
    let mut finish = None;
    let finished = Promise::new(&mut |resolve, _| finish = Some(resolve));
    // The lock is held until the promise the callback returns settles; `null` means busy.
    let callback = Closure::once_into_js(move |lock: JsValue| -> Promise {
        match for_callback.borrow_mut().take() {
            Some(task) if !lock.is_null() => {
                let mut release = None;
                let promise = Promise::new(&mut |resolve, _| release = Some(resolve));
                if let Some(release) = release {
                    let holding = Holding::new(&promise, release, quiet_ms);
                    *for_held.borrow_mut() = Some(holding.clone());
                    spawn_local(Watched { task: task(Some(holding.clone())), holding, finished: finish });
                }
                promise
            }
            _ => Promise::resolve(&JsValue::FALSE),
        }
    });
    let granted = match request_lock(name, &options, &callback) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(error) => Err(error),
    };
    match granted {
        Ok(ran) if ran.is_truthy() => {
            let _ = JsFuture::from(finished).await;
            Locked::Ran
        }
        Ok(_) => Locked::Busy,
        // Another tab took the lock while the task ran: it stops at its next step.
        Err(_) if held.borrow().is_some() => {
            if let Some(holding) = held.borrow_mut().take() {
                holding.lose();
            }
            let _ = JsFuture::from(finished).await;
            Locked::Ran
        }
        // Taken before the callback ran (a page frozen right after its grant, back now): the
        // lock is another tab's, and a late callback finds no task.
        Err(error)
            if Reflect::get(&error, &"name".into()).ok().and_then(|n| n.as_string()).as_deref()
                == Some("AbortError") =>
        {
            slot.borrow_mut().take();
            Locked::Busy
        }
        Err(_) => {
            let task = slot.borrow_mut().take();
            if let Some(task) = task {
                task(None).await;
            }
            Locked::Ran
        }
    }
}
