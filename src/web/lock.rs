//! One sender per site: the Web Locks API (`navigator.locks`, asked through `js/host.js`) lets
//! exactly one tab send at a time, so two tabs sharing the queue never send an event twice.
//!
//! A holding is a lease (`core::lease`): the lock is given up when the task ends, or when it
//! stays quiet longer than it said it would. The second is timed by the host's plain JS timer,
//! which this side only sets, so a tracker whose wasm can no longer run (a trap, an exception
//! unwound through it) does not keep the site's other pages from sending.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::clock::monotonic_ms;
use super::host::{self, HostHolding};
use crate::core::lease::{self, Lease};

/// The holder's side of a lease on the lock (cloned into the task it runs).
#[derive(Debug, Clone)]
pub struct Holding(Rc<Held>);

#[derive(Debug)]
struct Held {
    lease: Cell<Lease>,
    /// How long the task may be quiet between two of its steps, unless it says otherwise.
    quiet_ms: u64,
    /// The host's side: its timer, its release, and whether the lock was lost.
    host: HostHolding,
}

impl Holding {
    /// The lease, ended if the host lost the lock (released by its timer, at `pagehide`, or
    /// taken by another tab).
    fn lease(&self) -> Lease {
        let mut lease = self.0.lease.get();
        if self.0.host.lost() {
            lease.end();
        }
        lease
    }

    /// The task is about to wait for up to `quiet_ms` (a backoff): the lease lasts that long,
    /// plus the grace. Returns whether the lock is still held.
    pub fn renew(&self, quiet_ms: u64) -> bool {
        let mut lease = self.lease();
        let held = lease.renew(monotonic_ms(), quiet_ms);
        self.0.lease.set(lease);
        self.arm();
        held
    }

    /// False once the lease ran out or the lock was lost: the lock may be another tab's, so
    /// stop sending.
    pub fn held(&self) -> bool {
        self.lease().held()
    }

    /// Restarts the host's timer for what is left of the lease (gives the lock up now if
    /// nothing is).
    fn arm(&self) {
        match self.lease().remaining_ms(monotonic_ms()) {
            0 => self.0.host.release(),
            remaining => self.0.host.arm(remaining as f64),
        }
    }
}

/// Runs the task under its lease: each step of the task renews the lease for the default quiet
/// time; the lock is given up when the task ends.
struct Watched {
    task: Pin<Box<dyn Future<Output = ()>>>,
    holding: Holding,
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
            this.holding.0.host.release();
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

/// A task to run under the lock, given its holding (none: it runs unlocked). Boxed, so that one
/// copy of [`exclusive`] serves every caller.
pub type Task = Box<dyn FnOnce(Option<Holding>) -> Pin<Box<dyn Future<Output = ()>>>>;

/// Runs `task` while holding the site-wide lock `name`, unless another tab holds it (with
/// `take`, it is taken from that tab: see `core::lease::Takeover`). Where there is no lock to be
/// had (no Web Locks API, or it refuses), runs `task` without one. The task gets its
/// [`Holding`]; between two of its steps it may be quiet for `quiet_ms` (or what it last asked
/// for with [`Holding::renew`]) plus the grace, or it loses the lock; it loses it too when
/// another tab takes it. Returns once the task has ended, even if the lock was given up before.
pub async fn exclusive(name: &str, quiet_ms: u64, take: bool, task: Task) -> Locked {
    let asked = host::lock(name, take, lease::deadline(0, quiet_ms) as f64);
    let granted = JsFuture::from(asked).await.unwrap_or(JsValue::UNDEFINED);
    if granted.is_null() {
        return Locked::Busy;
    }
    if granted.is_undefined() {
        task(None).await;
        return Locked::Ran;
    }
    let lease = Cell::new(Lease::new(monotonic_ms(), quiet_ms));
    let holding = Holding(Rc::new(Held { lease, quiet_ms, host: granted.unchecked_into() }));
    Watched { task: task(Some(holding.clone())), holding }.await;
    Locked::Ran
}
