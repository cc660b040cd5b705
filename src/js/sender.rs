//! Performs the send loop that `core::delivery` rules: asks for the site's sender lock, sends
//! what it is told to, sleeps when told to, and feeds back each reply and what it read of the
//! page; hands waiting events to the browser when told to (see `page_events`), and refreshes the
//! session once per page load.

use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::JsValue;

use super::state::State;
use crate::core::delivery::{self, Flush, Input, Now, Step, REQUEST_TIMEOUT_MS};
use crate::core::engine::HandOff;
use crate::web::clock::{jitter, monotonic_ms, now_ms, sleep};
use crate::web::lifecycle::{hidden, online};
use crate::web::lock::{self, Holding, Locked, Task};
use crate::web::task::spawn_local;
use crate::web::transport;

/// What this page reads for the send loop, but for the randomness (see `Input::takes_jitter`)
/// and the lease (outside the run under the lock, it holds).
pub(super) fn now() -> Now {
    Now { ms: now_ms(), steady_ms: monotonic_ms(), online: online(), hidden: hidden(), jitter: 0.5, held: true }
}

impl State {
    /// The send loop's next step (see `core::delivery`); then the page hears of problems, and
    /// of the `flush()` promises it answered. (`held`: the lock's lease still holds.)
    fn advance(&self, input: Input, held: bool) -> Step {
        let Ok(mut delivery) = self.delivery.try_borrow_mut() else { return Step::Done };
        let (step, settle) = match self.engine.try_borrow_mut() {
            Ok(mut engine) => {
                // Read under the borrows: a page function that throws here (a replaced
                // `Math.random`) leaves them held, and this tracker stops whole, its event under
                // way still stored for the next page, rather than living on beside a run that
                // never heard its reply (a later hand-off would leave that event to a request
                // that is over). The engine suite's "dies holding the lock" row is that case.
                let jitter = if input.takes_jitter() { jitter() } else { 0.5 };
                let step = delivery.step(&mut engine, input, Now { held, jitter, ..now() });
                (step, delivery.take_flushes())
            }
            Err(_) => {
                delivery.abandon();
                (Step::Done, delivery.take_flushes())
            }
        };
        drop(delivery);
        self.report_problems();
        if settle {
            self.answer_flushes();
        }
        step
    }

    /// Calls `resolve` once the queue is empty or the current attempt has failed.
    pub fn on_settled(self: &Rc<Self>, resolve: Function) {
        let now = now();
        let Ok(mut delivery) = self.delivery.try_borrow_mut() else {
            let _ = resolve.call0(&JsValue::UNDEFINED);
            return;
        };
        let flush = delivery.flush(now);
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

    pub(super) fn hand_off(self: &Rc<Self>, scope: HandOff) {
        // Freed meanwhile (by a page handler that ran after ours), while the lock was asked for.
        if self.closed.get() {
            return;
        }
        let jobs = match self.engine.try_borrow_mut() {
            Ok(mut engine) => engine.hand_off(now_ms(), scope),
            Err(_) => return,
        };
        for job in jobs {
            let state = self.clone();
            // Requested here, in the page's event handler: a closing page may run nothing later.
            let reply = transport::send(job.request(), delivery::HAND_OFF);
            spawn_local(async move {
                let reply = reply.await;
                let wait = state.engine.try_borrow_mut().map(|mut e| e.settle_after_ms(&job, &reply)).unwrap_or(0);
                if wait > 0 {
                    sleep(wait).await;
                }
                if let Ok(mut engine) = state.engine.try_borrow_mut() {
                    engine.complete_handed_off(&job, &reply);
                }
                state.report_problems();
                state.wake();
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
        let state = self.clone();
        spawn_local(async move {
            let reply = transport::send(&request, delivery::REFRESH).await;
            if let Ok(mut engine) = state.engine.try_borrow_mut() {
                engine.session_refreshed(&reply);
            }
        });
    }
}

/// The sender task: asks for the lock, and while another tab holds it, stands by.
async fn drive(state: Rc<State>) {
    let mut step = state.advance(Input::Started, true);
    loop {
        let input = match step {
            Step::AskLock { steal } => {
                let for_run = state.clone();
                let sender: Task = Box::new(move |holding| Box::pin(run(for_run, holding)));
                // Between two steps the sender is quiet at most for one request (its timeout),
                // but for backoffs, which it announces (`Holding::renew`).
                match lock::exclusive(&state.lock_name, REQUEST_TIMEOUT_MS.into(), steal, sender).await {
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
        step = state.advance(input, true);
    }
}

/// The run under the lock (`holding`: none where there is no lock to be had): sends and sleeps
/// as told until told to give the lock up.
async fn run(state: Rc<State>, holding: Option<Holding>) {
    let held = || holding.as_ref().is_none_or(Holding::held);
    let mut step = state.advance(Input::Granted, held());
    loop {
        let input = match step {
            // Freed by the page's `onError` after this send was decided: it is not made.
            Step::Send(..) if state.closed.get() => Input::Freed,
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
        step = state.advance(input, held());
    }
}
