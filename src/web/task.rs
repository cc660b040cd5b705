//! Runs our futures, each poll from a callback of its own that the browser calls once.
//!
//! Why not `wasm_bindgen_futures::spawn_local`: it polls every task from one shared callback.
//! Firefox terminates whatever script a page is running when the browser shuts the page's
//! process down (closing its last tab or window: pref `dom.abort_script_on_child_shutdown`,
//! logged as "Script terminated by timeout"). The termination cannot be caught and skips
//! `finally`, so wasm-bindgen's glue never clears the "in use" mark of the callback it cut
//! off, and each later call of that callback throws "closure invoked recursively or after being
//! dropped" into the page. With the shared callback, one cut-off poll broke every later
//! wake-up of every task. Here a callback cut off is never called again, and a task cut off in
//! the middle of its poll is never polled again (its future is still borrowed), so nothing
//! throws.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // `catch`: a page being torn down may refuse.
    #[wasm_bindgen(catch, js_name = queueMicrotask)]
    fn queue_microtask(callback: &JsValue) -> Result<(), JsValue>;
}

struct Task {
    /// `None` once finished. Borrowed while polled: a poll that never returned leaves it so.
    future: RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>,
    /// A poll is queued.
    queued: Cell<bool>,
}

thread_local! {
    /// The live tasks, by id (an index; a finished task's slot is reused).
    static TASKS: RefCell<Vec<Option<Rc<Task>>>> = RefCell::default();
}

/// A waker names its task: wakers must be `Send`, our tasks are not. A waker outliving its
/// task may poll the slot's next task once for nothing, which futures allow.
struct TaskId(usize);

impl Wake for TaskId {
    fn wake(self: Arc<Self>) {
        queue(self.0);
    }
}

fn task(id: usize) -> Option<Rc<Task>> {
    TASKS.with(|t| t.try_borrow().ok().and_then(|t| t.get(id).cloned().flatten()))
}

fn queue(id: usize) {
    let Some(task) = task(id) else { return };
    if task.queued.replace(true) {
        return;
    }
    let callback = Closure::once_into_js(move || poll(id));
    if queue_microtask(&callback).is_err() {
        task.queued.set(false);
    }
}

fn poll(id: usize) {
    let Some(task) = task(id) else { return };
    task.queued.set(false);
    let finished = {
        // Already borrowed: an earlier poll of this task was cut off. It is dead.
        let Ok(mut slot) = task.future.try_borrow_mut() else { return };
        let Some(future) = slot.as_mut() else { return };
        let waker = Waker::from(Arc::new(TaskId(id)));
        if future.as_mut().poll(&mut Context::from_waker(&waker)).is_pending() {
            return;
        }
        slot.take()
    };
    TASKS.with(|t| {
        if let Some(slot) = t.try_borrow_mut().ok().as_mut().and_then(|t| t.get_mut(id)) {
            *slot = None;
        }
    });
    drop(finished);
}

/// Runs `future` to completion, starting in a microtask.
pub fn spawn_local(future: impl Future<Output = ()> + 'static) {
    let task = Rc::new(Task { future: RefCell::new(Some(Box::pin(future))), queued: Cell::new(false) });
    let id = TASKS.with(|t| {
        let mut t = t.try_borrow_mut().ok()?;
        let id = t.iter().position(Option::is_none).unwrap_or(t.len());
        if id == t.len() {
            t.push(None);
        }
        *t.get_mut(id)? = Some(task);
        Some(id)
    });
    if let Some(id) = id {
        queue(id);
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Tasks interleave at their awaits and all run to the end.
    #[wasm_bindgen_test]
    async fn tasks_interleave_and_run_to_the_end() {
        use std::cell::RefCell;
        use std::rc::Rc;

        use super::spawn_local;
        use js_sys::Promise;
        use wasm_bindgen_futures::JsFuture;

        let tick = || JsFuture::from(Promise::resolve(&JsValue::NULL));
        let steps = Rc::new(RefCell::new(Vec::new()));
        for task in 0..3 {
            let steps = steps.clone();
            spawn_local(async move {
                for step in 0..2 {
                    let _ = tick().await;
                    steps.borrow_mut().push((task, step));
                }
            });
        }
        for _ in 0..20 {
            if steps.borrow().len() == 6 {
                break;
            }
            let _ = tick().await;
        }
        assert_eq!(*steps.borrow(), [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]);
    }
}
