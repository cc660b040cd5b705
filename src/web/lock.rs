//! One sender per site: the Web Locks API (`navigator.locks`) lets exactly one tab send at a
//! time, so two tabs sharing the queue never send an event twice.

use std::future::Future;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

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
/// Web Locks API is missing (Safari before 15.4), runs `task` without a lock.
pub async fn exclusive<F>(name: &str, task: F) -> Locked
where
    F: Future<Output = ()> + 'static,
{
    if !supported() {
        task.await;
        return Locked::Ran;
    }
    let options = Object::new();
    let _ = Reflect::set(&options, &JsValue::from_str("ifAvailable"), &JsValue::TRUE);
    // The lock is held until the promise the callback returns settles; `null` means busy.
    let callback = Closure::once_into_js(move |lock: JsValue| -> Promise {
        if lock.is_null() {
            return Promise::resolve(&JsValue::FALSE);
        }
        future_to_promise(async move {
            task.await;
            Ok(JsValue::TRUE)
        })
    });
    match request_lock(name, &options, &callback) {
        Ok(promise) => match JsFuture::from(promise).await {
            Ok(ran) if ran.is_truthy() => Locked::Ran,
            _ => Locked::Busy,
        },
        Err(_) => Locked::Busy,
    }
}
