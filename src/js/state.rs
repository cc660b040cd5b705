//! A tracker's state: the core (engine, send loop, recommendation rules) and where problems
//! go, shared by the `Tracker` object, its tasks and its page listeners. Nothing here is
//! borrowed across an `.await`, nor across a call into page code that may call back in
//! (`onError`, a promise's `resolve`). Reads of the page under a borrow (an argument's getters
//! while its event is built, the clock, `Math.random` in the send loop's step) can throw: that
//! leaves the borrow held, and the tracker refuses every later call rather than run half-alive
//! (see `sender::State::advance`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function};
use wasm_bindgen::JsValue;

use super::report::Reporter;
use crate::core::delivery::Delivery;
use crate::core::engine::Engine;
use crate::core::keys;
use crate::core::recs::Answers;
use crate::web::lifecycle::Listening;

/// A tracker's state, shared by the `Tracker` object, its tasks and its page listeners.
#[derive(Debug)]
pub struct State {
    /// The core. Never borrowed across an `.await` or a call into page code that may call back in.
    pub engine: RefCell<Engine>,
    /// The send loop's state (borrowed with the engine, under the same rule).
    pub delivery: RefCell<Delivery>,
    /// Where problems go.
    pub reporter: Reporter,
    /// False where there is no page to send from (server-side rendering): calls are checked
    /// and queued in memory, nothing is sent.
    pub can_send: bool,
    /// The name of the sender lock of this config.
    pub lock_name: String,
    /// `flush()` promises waiting for the sender to settle.
    pub waiters: RefCell<Vec<Function>>,
    /// The page listeners (see `page_events`), removed with the state.
    pub listeners: RefCell<Option<Listening>>,
    /// The recommendation rules: answers kept and requests under way (product lists are
    /// arrays; whoever waits for one is the `resolve` of the promise its call returned).
    pub recs: RefCell<Answers<Array, Function>>,
    /// The tracker was freed (see [`close`](Self::close)).
    pub closed: Cell<bool>,
}

impl State {
    /// Wraps an opened engine (the tracker then has it follow the page: `page_events::listen`).
    pub fn new(engine: Engine, reporter: Reporter, can_send: bool) -> Rc<State> {
        let lock_name = [keys::SENDER_LOCK, ":", engine.space()].concat();
        let recs = RefCell::new(Answers::new(engine.config().timeout_ms));
        Rc::new(State {
            recs,
            closed: Cell::new(false),
            lock_name,
            engine: RefCell::new(engine),
            delivery: RefCell::new(Delivery::new(can_send)),
            reporter,
            can_send,
            waiters: RefCell::default(),
            listeners: RefCell::default(),
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

    /// Resolves the `flush()` promises waiting (the send loop said so).
    pub fn answer_flushes(&self) {
        let waiters = self.waiters.try_borrow_mut().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default();
        for resolve in waiters {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    /// The tracker was freed: it stops listening to the page, answers the `flush()` promises
    /// waiting and sends nothing more (see `Delivery::close`); a task under way ends at its next
    /// step. What is queued stays stored for the next tracker or page.
    pub fn close(&self) {
        self.closed.set(true);
        let settle = self.delivery.try_borrow_mut().is_ok_and(|mut d| {
            d.close();
            d.take_flushes()
        });
        let listeners = self.listeners.try_borrow_mut().map(|mut l| l.take());
        drop(listeners);
        if settle {
            self.answer_flushes();
        }
    }

    /// The visitor's `sessionExternalId` (empty while the engine is in use).
    pub fn visitor(&self) -> String {
        self.engine.try_borrow().map(|e| e.visitor().as_str().to_owned()).unwrap_or_default()
    }
}
