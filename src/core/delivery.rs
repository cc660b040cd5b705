//! The send loop's rules: when the sender starts, whether it may send (the site's sender lock),
//! what it sends next and how, how long it waits and why, what a hidden page hands off, and when
//! a `flush()` is answered. Free of any browser API: the browser layer performs the [`Step`] it
//! is given (ask for the lock, send, sleep) and reports how it went, with what it read of the
//! page ([`Now`]).
//!
//! ```text
//! Started ─▶ AskLock ─┬─ Granted ─▶ Send ─▶ Replied ─┬─ Send … (the next job)
//!                     │                              ├─ Sleep (a held failure, a backoff) ─▶ Slept
//!                     │                              └─ Release (nothing left, offline, lost) ─▶ Released
//!                     └─ Busy ─▶ Sleep (standby) ─▶ Slept ─┬─ AskLock (steal: the holder stopped)
//!                                                          └─ Done (nothing left, offline)
//! ```
//!
//! One sender runs per site, the tab holding the lock; the others stand by, checking back now
//! and then in case the holder went away or some events live only in their own memory.

use super::engine::{Engine, HandOff, Job, Next};
use super::lease::{Said, Takeover};
use super::wire::{Reply, Transfer};

/// How long one request may take before it counts as failed.
pub const REQUEST_TIMEOUT_MS: u32 = 10_000;
/// While another tab sends, how often to check whether events are still waiting (plus up to a
/// second of jitter, so that two tabs standing by do not check, and take the lock, in step).
pub const BUSY_RECHECK_MS: u64 = 2_000;

/// How a hand-off travels: with `keepalive`, so that it outlives the page.
pub const HAND_OFF: Transfer =
    Transfer { timeout_ms: REQUEST_TIMEOUT_MS, read_body: false, keepalive: true, bypass_cache: true };

/// How the once-per-page session refresh travels (see `Engine::take_session_refresh`).
pub const REFRESH: Transfer =
    Transfer { timeout_ms: REQUEST_TIMEOUT_MS, read_body: true, keepalive: false, bypass_cache: true };

/// How a job of the send loop travels: with `keepalive` where it needs no preflight (see
/// `Job::outlives_page`), so that the event under way when the page goes away is left to its
/// request (Firefox cancels a regular one with a closing window); our timer's abort still ends
/// it while the page lives. Only the handshake's answer is read.
fn transfer(job: &Job) -> Transfer {
    Transfer {
        timeout_ms: REQUEST_TIMEOUT_MS,
        read_body: matches!(job, Job::Initialize(_)),
        keepalive: job.outlives_page(),
        bypass_cache: true,
    }
}

/// What the browser layer read of the page for one step.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    /// `Date.now()`.
    pub ms: u64,
    /// `performance.now()`: a clock that only moves forward, for durations (see [`Takeover`]).
    pub steady_ms: u64,
    /// The browser does not say it is offline.
    pub online: bool,
    /// The page is hidden.
    pub hidden: bool,
    /// A random number in `0..1`, for the steps that take one ([`Input::takes_jitter`]; any
    /// value for the others).
    pub jitter: f64,
    /// The lock's lease still holds (false once it ran out or another tab took the lock;
    /// always true outside the run under the lock, and where there is no lock).
    pub held: bool,
}

/// What happened since the sender's last step.
#[derive(Debug)]
pub enum Input {
    /// A sender task was started (see [`Delivery::wake`]).
    Started,
    /// The lock asked for is another tab's.
    Busy,
    /// The lock is this tab's (or there is no lock to be had): the run under it begins.
    Granted,
    /// The reply to the last [`Step::Send`].
    Replied(Job, Reply),
    /// The last [`Step::Sleep`] is over.
    Slept,
    /// The lock was given up after [`Step::Release`].
    Released,
    /// The tracker was freed after a [`Step::Send`] was decided (by the page's `onError`, told of
    /// problems right after the step): that send is not made, and the event stays stored.
    Freed,
}

impl Input {
    /// Whether the step after this input may use [`Now::jitter`] (a backoff, a standby's
    /// recheck): the browser layer need not ask the page's `Math.random` for the others.
    pub fn takes_jitter(&self) -> bool {
        matches!(self, Input::Busy | Input::Replied(..) | Input::Slept)
    }
}

/// What the sender task does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Ask for the site's sender lock (`steal`: take it from a holder that stopped running),
    /// then report [`Input::Granted`] from inside it, or [`Input::Busy`].
    AskLock {
        /// Take the lock from its holder.
        steal: bool,
    },
    /// Send the job and report [`Input::Replied`].
    Send(Job, Transfer),
    /// Sleep this long, then report [`Input::Slept`]; with `renew`, the lock's lease is
    /// first extended to cover it (a backoff).
    Sleep {
        /// Milliseconds.
        ms: u64,
        /// Extend the lock's lease (the sleep holds the lock).
        renew: bool,
    },
    /// The run under the lock is over: give it up, then report [`Input::Released`].
    Release,
    /// The sender task ends.
    Done,
}

/// When a `flush()` is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// At once: nothing is being sent (or nothing can be).
    Now,
    /// When [`Delivery::take_flushes`] says so; `start`: a sender task is to be started.
    Later {
        /// Start a sender task.
        start: bool,
    },
}

/// What a hidden page does with waiting events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leave {
    /// Nothing (offline: nothing would arrive).
    Stay,
    /// Hand these to the browser at once (see [`Engine::hand_off`]).
    HandOff(HandOff),
    /// Take the lock first, then hand off the queue: if another tab holds it, that tab is alive
    /// and delivers.
    HandOffUnderLock,
}

/// Where the sender is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No sender task.
    Idle,
    /// The sender task runs (asking for the lock, or sending).
    Running,
    /// The sender task waits out a backoff (holding the lock).
    Waiting,
    /// Another tab is the site's sender; this one checks back now and then.
    Standby,
}

/// The state of one tracker's sender.
#[derive(Debug)]
pub struct Delivery {
    /// Where there is no page to send from (server-side rendering), nothing is ever sent; nor
    /// once the tracker is freed (see [`close`](Self::close)).
    can_send: bool,
    phase: Phase,
    /// This tab holds the site's sender lock (only then may it hand the queue off).
    holds_lock: bool,
    /// This tab tracked events and has not yet heard whether it is the site's sender.
    tracked_unconfirmed: bool,
    /// The run under the lock stopped because its lease ran out.
    lease_lost: bool,
    /// A reply held before it is believed (see `Engine::settle_after_ms`).
    on_hold: Option<(Job, Reply)>,
    standby: Takeover,
    /// `flush()` promises wait for the sender to settle.
    flushes: usize,
    /// The waiting `flush()` promises are to be resolved now.
    flushes_due: bool,
}

impl Delivery {
    /// A sender that has not started; with `can_send` false it never does.
    pub fn new(can_send: bool) -> Delivery {
        Delivery {
            can_send,
            phase: Phase::Idle,
            holds_lock: false,
            tracked_unconfirmed: false,
            lease_lost: false,
            on_hold: None,
            standby: Takeover::default(),
            flushes: 0,
            flushes_due: false,
        }
    }

    /// Something may be waiting to be sent: returns true when a sender task is to be started
    /// (none runs, waits out a backoff or stands by: a tab standing by checks back by itself).
    pub fn wake(&mut self) -> bool {
        let start = self.can_send && self.phase == Phase::Idle;
        if start {
            self.phase = Phase::Running;
        }
        start
    }

    /// The page tracked events: as [`wake`](Self::wake).
    pub fn tracked(&mut self) -> bool {
        if !self.holds_lock && self.phase != Phase::Standby {
            self.tracked_unconfirmed = true;
        }
        self.wake()
    }

    /// A `flush()` asks to be answered once the queue is empty or the current attempt failed.
    pub fn flush(&mut self, now: Now) -> Flush {
        if matches!(self.phase, Phase::Waiting | Phase::Standby) || !self.can_send || !now.online {
            return Flush::Now;
        }
        self.flushes += 1;
        Flush::Later { start: self.wake() }
    }

    /// Whether the waiting `flush()` promises are to be answered now (asked after every step).
    pub fn take_flushes(&mut self) -> bool {
        let due = std::mem::take(&mut self.flushes_due) && self.flushes > 0;
        if due {
            self.flushes = 0;
        }
        due
    }

    fn settle_flushes(&mut self) {
        self.flushes_due = true;
    }

    /// The page is being hidden. The site's sender hands off the queue. A tab that has just
    /// tracked events and not yet heard back about the lock hands off those of its own at once:
    /// the page may be closing, and a lock granted later would come too late.
    pub fn hidden(&self, now: Now) -> Leave {
        if !now.online || !self.can_send {
            Leave::Stay
        } else if self.holds_lock {
            Leave::HandOff(HandOff::Queue)
        } else if self.tracked_unconfirmed {
            Leave::HandOff(HandOff::OwnEvents)
        } else {
            Leave::HandOffUnderLock
        }
    }

    /// `pagehide` (`leaving`: the page goes away, or into the back/forward cache) or `pageshow`.
    /// The lock is given up with `pagehide`, which WebKit 2.38 does not always honour for a page
    /// going into its back/forward cache, so the tabs standing by are told the lease is over
    /// (they take the lock if it stays busy: see [`Takeover`]).
    pub fn page_leaving(&mut self, engine: &mut Engine, leaving: bool) {
        engine.page_leaving(leaving);
        if leaving && self.holds_lock {
            engine.end_lease();
        }
    }

    /// The tracker was freed: nothing more is sent or handed off, the `flush()` promises waiting
    /// are answered, and a sender task ends at its next step (a request under way still ends,
    /// and its reply is read). What is queued stays stored for the next tracker or page.
    pub fn close(&mut self) {
        self.can_send = false;
        self.settle_flushes();
    }

    /// The sender task stops where it is (its state could not be reached): nothing runs now,
    /// and the next [`wake`](Self::wake) starts a sender again. The lock, if held, is given up
    /// with the task; this page no longer counts as its holder.
    pub fn abandon(&mut self) {
        self.phase = Phase::Idle;
        self.holds_lock = false;
        self.on_hold = None;
        self.settle_flushes();
    }

    /// The sender's next step, given what happened since its last one.
    pub fn step(&mut self, engine: &mut Engine, input: Input, now: Now) -> Step {
        match input {
            Input::Started => {
                // A new round of standby checks: what an earlier round saw is stale.
                self.standby = Takeover::default();
                Step::AskLock { steal: false }
            }
            Input::Busy => self.stand_by(now),
            Input::Granted => {
                self.phase = Phase::Running;
                self.holds_lock = true;
                self.tracked_unconfirmed = false;
                self.next(engine, now)
            }
            Input::Replied(job, reply) => {
                let wait = engine.settle_after_ms(&job, &reply);
                if wait > 0 {
                    self.on_hold = Some((job, reply));
                    return Step::Sleep { ms: wait, renew: false };
                }
                self.completed(engine, &job, &reply, now)
            }
            Input::Slept if self.phase == Phase::Standby => self.recheck(engine, now),
            // A held reply is believed now, or a backoff ends.
            Input::Slept => match self.on_hold.take() {
                Some((job, reply)) => self.completed(engine, &job, &reply, now),
                None => {
                    self.phase = Phase::Running;
                    self.next(engine, now)
                }
            },
            Input::Released => self.finish(engine, now),
            Input::Freed => self.release(engine, now.held),
        }
    }

    /// Another tab holds the lock: stand by and check back.
    fn stand_by(&mut self, now: Now) -> Step {
        self.tracked_unconfirmed = false;
        self.phase = Phase::Standby;
        self.settle_flushes();
        Step::Sleep { ms: BUSY_RECHECK_MS + (now.jitter * 1_000.0) as u64, renew: false }
    }

    fn recheck(&mut self, engine: &mut Engine, now: Now) -> Step {
        if !self.can_send || engine.pending() == 0 || !now.online {
            return self.finish(engine, now);
        }
        // Still busy, as far as this tab knows: take the lock if its holder stopped running.
        let steal = self.standby.busy(engine.shared_lease(), now.ms, now.steady_ms);
        Step::AskLock { steal }
    }

    /// The sender task ends, unless the lock was lost under a live page (it came back from the
    /// back/forward cache, or was quiet too long): then it is asked for again at once rather
    /// than at the page's next event.
    fn finish(&mut self, engine: &mut Engine, now: Now) -> Step {
        self.settle_flushes();
        if std::mem::take(&mut self.lease_lost) && self.can_send && !now.hidden && now.online && engine.pending() > 0 {
            self.phase = Phase::Running;
            return Step::AskLock { steal: false };
        }
        self.phase = Phase::Idle;
        Step::Done
    }

    fn completed(&mut self, engine: &mut Engine, job: &Job, reply: &Reply, now: Now) -> Step {
        match engine.complete(job, reply, now.jitter) {
            Next::Continue => self.next(engine, now),
            // Robbed meanwhile: the backoff is the taker's to speak of.
            Next::Wait(_) if !now.held => self.release(engine, false),
            // Freed: the lock goes now, and the other tabs still hear how long to wait.
            Next::Wait(ms) if !self.can_send => {
                engine.share_wait(now.ms + ms);
                self.release(engine, true)
            }
            Next::Wait(ms) => {
                engine.share_wait(now.ms + ms);
                engine.share_lease(Said::new(now.ms, ms));
                self.phase = Phase::Waiting;
                self.settle_flushes();
                Step::Sleep { ms, renew: true }
            }
        }
    }

    /// The next job while this tab may send: there is one, the browser is online, and the lease
    /// holds.
    fn next(&mut self, engine: &mut Engine, now: Now) -> Step {
        let job = if self.can_send && now.online && now.held { engine.next_job(now.ms) } else { None };
        let Some(job) = job else { return self.release(engine, now.held) };
        engine.share_lease(Said::new(now.ms, REQUEST_TIMEOUT_MS.into()));
        let transfer = transfer(&job);
        Step::Send(job, transfer)
    }

    /// The run under the lock is over. The tabs standing by are told this page's lease is over,
    /// unless the lock was taken from it (`held` false): then it is the taker's to speak of.
    fn release(&mut self, engine: &mut Engine, held: bool) -> Step {
        if held {
            engine.end_lease();
        }
        self.lease_lost = !held;
        self.holds_lock = false;
        Step::Release
    }
}

#[cfg(test)]
mod tests;
