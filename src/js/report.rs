//! Tells the page about problems: the `onError` callback and, in debug mode, the console.
//! A callback that throws is ignored; nothing reaches the host page's stack. A problem raised
//! by a call the callback itself makes is not passed to it again: an `onError` that calls back
//! with bad input would otherwise recurse until the stack overflows.

use std::cell::Cell;

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // `catch`: a page may replace `console.warn` with something that throws.
    #[wasm_bindgen(catch, js_namespace = console, js_name = warn)]
    fn warn(label: &str, message: &str) -> Result<(), JsValue>;
}

use crate::core::problem::Problem;

/// Where problems go.
#[derive(Debug)]
pub struct Reporter {
    /// The page's `onError`, if it gave one.
    pub on_error: Option<Function>,
    /// Also log to the console.
    pub debug: bool,
    /// True while `on_error` runs.
    pub busy: Cell<bool>,
}

fn set(target: &Object, key: &str, value: &str) {
    crate::web::object::set(target, key, &JsValue::from_str(value));
}

impl Reporter {
    /// Reports one problem.
    pub fn report(&self, problem: &Problem) {
        let message = problem.message();
        if self.debug {
            let _ = warn("[retailrocket-tracker]", &message);
        }
        if let Some(callback) = self.on_error.as_ref().filter(|_| !self.busy.get()) {
            let error = Object::new();
            set(&error, "code", problem.code());
            set(&error, "message", &message);
            if let Problem::Input(input) = problem {
                set(&error, "method", input.method);
                set(&error, "argument", &input.argument);
            }
            self.busy.set(true);
            let _ = callback.call1(&JsValue::UNDEFINED, &error);
            self.busy.set(false);
        }
    }
}
