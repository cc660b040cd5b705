//! Tells the page about problems: the `onError` callback and, in debug mode, the console.
//! A callback that throws is ignored; nothing reaches the host page's stack.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::core::problem::Problem;

/// Where problems go.
#[derive(Debug)]
pub struct Reporter {
    /// The page's `onError`, if it gave one.
    pub on_error: Option<Function>,
    /// Also log to the console.
    pub debug: bool,
}

fn set(target: &Object, key: &str, value: &str) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &JsValue::from_str(value));
}

impl Reporter {
    /// Reports one problem.
    pub fn report(&self, problem: &Problem) {
        let message = problem.to_string();
        if self.debug {
            web_sys::console::warn_2(&JsValue::from_str("[retailrocket-tracker]"), &JsValue::from_str(&message));
        }
        if let Some(callback) = &self.on_error {
            let error = Object::new();
            set(&error, "code", problem.code());
            set(&error, "message", &message);
            if let Problem::Input(input) = problem {
                set(&error, "method", input.method);
                set(&error, "argument", &input.argument);
            }
            let _ = callback.call1(&JsValue::UNDEFINED, &error);
        }
    }
}
