//! Moves queued events to the wire, one request at a time and in order: asks the engine for the
//! next job, sends it, hands the reply back, waits when told to. At most one sender runs per page.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

use super::report::Reporter;
use crate::core::engine::{Engine, Job, Next};
use crate::web::clock::{jitter, now_ms, sleep};
use crate::web::storage::SharedStore;
use crate::web::transport::{self, Options};

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT_MS: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing in flight, nothing scheduled.
    Idle,
    /// A request is in flight.
    Sending,
    /// The last attempt failed; the next is scheduled.
    Waiting,
}

/// State shared by the `Tracker` object and its sender task.
#[derive(Debug)]
pub struct Shared {
    /// The core. Never borrowed across an `.await` or a call into page code.
    pub engine: RefCell<Engine<SharedStore>>,
    /// Where problems go.
    pub reporter: Reporter,
    /// False where there is no page to send from (server-side rendering): calls are checked
    /// and queued in memory, nothing is sent.
    pub can_send: bool,
    state: Cell<State>,
    /// `flush()` promises waiting for the sender to settle.
    waiters: RefCell<Vec<Function>>,
}

impl Shared {
    /// Wraps an opened engine.
    pub fn new(engine: Engine<SharedStore>, reporter: Reporter, can_send: bool) -> Rc<Shared> {
        Rc::new(Shared {
            engine: RefCell::new(engine),
            reporter,
            can_send,
            state: Cell::new(State::Idle),
            waiters: RefCell::default(),
        })
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

    /// Resolves `resolve` once the queue is empty or the current attempt has failed.
    pub fn on_settled(self: &Rc<Self>, resolve: Function) {
        if self.state.get() == State::Waiting || !self.can_send {
            let _ = resolve.call0(&JsValue::UNDEFINED);
            return;
        }
        self.waiters.borrow_mut().push(resolve);
        self.wake();
    }

    /// Starts the sender unless it is already running or waiting out a backoff.
    pub fn wake(self: &Rc<Self>) {
        if self.can_send && self.state.get() == State::Idle {
            self.state.set(State::Sending);
            spawn_local(run(self.clone()));
        }
    }
}

async fn run(shared: Rc<Shared>) {
    loop {
        let job = match shared.engine.try_borrow_mut() {
            Ok(mut engine) => engine.next_job(now_ms()),
            Err(_) => None,
        };
        let Some(job) = job else { break };
        let options = Options {
            timeout_ms: REQUEST_TIMEOUT_MS,
            read_body: matches!(job, Job::Initialize(_)),
            keepalive: false,
        };
        let reply = transport::send(job.request(), options).await;
        let next = match shared.engine.try_borrow_mut() {
            Ok(mut engine) => engine.complete(&job, &reply, jitter()),
            Err(_) => Next::Continue,
        };
        shared.report_problems();
        if let Next::Wait(ms) = next {
            shared.state.set(State::Waiting);
            shared.settle_waiters();
            sleep(ms).await;
            shared.state.set(State::Sending);
        }
    }
    shared.state.set(State::Idle);
    shared.report_problems();
    shared.settle_waiters();
}
