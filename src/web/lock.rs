//! One sender per site: the Web Locks API (`navigator.locks`) lets exactly one tab send at a
//! time, so two tabs sharing the queue never send an event twice.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::task::future_to_promise;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn request_lock(name: &str, options: &Object, callback: &JsValue) -> Result<Promise, JsValue>;
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

/// Runs `task` while holding the site-wide lock `name`, unless another tab holds it. Where the
/// Web Locks API is missing (Safari before 15.4) or refuses (opaque origins), runs `task`
/// without a lock.
pub async fn exclusive<F>(name: &str, task: F) -> Locked
where
    F: Future<Output = ()> + 'static,
{
    if !supported() {
        task.await;
        return Locked::Ran;
    }
    let options = super::object::bare();
    super::object::set(&options, "ifAvailable", &JsValue::TRUE);
    // The task waits here until the lock callback takes it; if the lock request fails instead
    // (opaque origins such as file:// WebViews reject it), it is still here to run unlocked.
    let slot = Rc::new(RefCell::new(Some(task)));
    let for_callback = slot.clone();
    // The lock is held until the promise the callback returns settles; `null` means busy.
    let callback = Closure::once_into_js(move |lock: JsValue| -> Promise {
        match for_callback.borrow_mut().take() {
            Some(task) if !lock.is_null() => future_to_promise(async move {
                task.await;
                Ok(JsValue::TRUE)
            }),
            _ => Promise::resolve(&JsValue::FALSE),
        }
    });
    let granted = match request_lock(name, &options, &callback) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(error) => Err(error),
    };
    match granted {
        Ok(ran) if ran.is_truthy() => Locked::Ran,
        Ok(_) => Locked::Busy,
        Err(_) => {
            let task = slot.borrow_mut().take();
            if let Some(task) = task {
                task.await;
            }
            Locked::Ran
        }
    }
}
