//! `recommend()` and `items()`: product recommendations and details, answered within
//! `timeoutMs` (500 ms by default, as Retail Rocket asks) or from the fallback: the last good
//! answer to the same request, else an empty list. They never reject. `trackBlock()` credits
//! clicks in a recommendation block.

use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;

use super::args::{elements, field, nth, Call};
use super::state::State;
use super::tracker::{track_recommendation, Tracker};
use crate::core::engine::{Consent, Engine};
use crate::core::error::InputError;
use crate::core::ids::{Invalid, ItemId};
use crate::core::problem::Problem;
use crate::core::recs::{self, Api, Asked, Needs, Recommendation, Settled};
use crate::core::wire::{Method, Transfer, WireRequest};
use crate::web::clock::now_ms;
use crate::web::lifecycle::{self, Listening};
use crate::web::task::spawn_local;
use crate::web::transport;
use crate::web::{host, object};

/// Resolves `resolve` with a fresh copy of `items` (or `[]`), so a page changing the array it
/// got cannot change what others get.
fn settle(resolve: &Function, items: Option<&Array>) {
    let copy = items.map_or_else(Array::new, |a| a.slice(0, a.length()));
    let _ = resolve.call1(&JsValue::UNDEFINED, &copy);
}

/// The items of a response body (see `js/host.js`): `None` if the body is not a JSON array.
fn parse_items(body: &str) -> Option<Array> {
    host::items(body).dyn_into::<Array>().ok()
}

/// The `stop()` that `trackBlock` returns: removes the listener; calling it again does nothing.
/// (A closure, not `new Function`, which a strict CSP forbids.)
fn stop_function(listener: Option<Listening>) -> Function {
    let mut listener = listener;
    Closure::<dyn FnMut()>::new(move || drop(listener.take())).into_js_value().unchecked_into()
}

fn resolved_empty() -> Promise {
    Promise::resolve(&JsValue::from(Array::new()))
}

/// Serves `url` as the core's rules decide: now, with the request under way, or with a new one.
fn answer(tracker: &Tracker, url: String) -> Promise {
    let mut fetch = None;
    let promise = Promise::new(&mut |resolve, _| {
        let Ok(mut answers) = tracker.state.recs.try_borrow_mut() else { return settle(&resolve, None) };
        let asked = answers.ask(url.clone(), resolve, now_ms());
        drop(answers);
        match asked {
            Asked::Serve(resolve, items) => settle(&resolve, items.as_ref()),
            Asked::Fetch { url, timeout_ms } => fetch = Some((url, timeout_ms)),
            Asked::Joined => {}
        }
    });
    if let Some((url, timeout_ms)) = fetch {
        spawn_local(request_items(tracker.state.clone(), url, timeout_ms));
    }
    promise
}

/// Makes the request the rules asked for and hands its reply back; answers everyone who
/// waited for it and reports a failure.
async fn request_items(state: Rc<State>, url: String, timeout_ms: u32) {
    let request = WireRequest::new(Method::Get, url.clone(), None);
    let options = Transfer { timeout_ms, read_body: true, keepalive: false, bypass_cache: false };
    let reply = transport::send(&request, options).await;
    let Ok(mut answers) = state.recs.try_borrow_mut() else { return };
    let Settled { waiters, items, problem } = answers.replied(&url, &reply, parse_items, now_ms());
    drop(answers);
    for resolve in &waiters {
        settle(resolve, items.as_ref());
    }
    if let Some(problem) = problem {
        state.reporter.report(&problem);
    }
}

/// Builds the request URL with `build` and serves it; a refused argument resolves to `[]` and
/// goes to `onError` (reported after the engine is released, since `onError` may call back in).
/// `Ok(None)`: nothing to ask for, `[]`. Where there is no page (server-side rendering), nothing
/// is fetched.
fn request(tracker: &Tracker, build: impl FnOnce(&Engine, Api<'_>) -> Result<Option<String>, InputError>) -> Promise {
    let state = &tracker.state;
    if !state.can_send {
        return resolved_empty();
    }
    let built = match state.engine.try_borrow() {
        Ok(engine) => {
            let config = engine.config();
            build(&engine, Api { base: &config.api_url, partner_id: &config.partner_id })
        }
        Err(_) => return resolved_empty(),
    };
    match built {
        Ok(Some(url)) => answer(tracker, url),
        Ok(None) => resolved_empty(),
        Err(error) => {
            state.reporter.report(&Problem::Input(error));
            resolved_empty()
        }
    }
}

/// `params.categoryIds` / `params.categoryPaths` for category algorithms.
fn categories(call: Call, params: &JsValue) -> Result<(Vec<u64>, Vec<String>), InputError> {
    let list = |key: &str| -> Result<Vec<JsValue>, InputError> {
        let value = field(params, key);
        if value.is_undefined() || value.is_null() {
            return Ok(Vec::new());
        }
        elements(&value, 0, 100).ok_or_else(|| InputError::new(call.0, ["params.", key].concat(), Invalid::IdList))
    };
    let mut ids = Vec::new();
    for (i, v) in list("categoryIds")?.iter().enumerate() {
        let digits = v.as_string().map(|s| {
            if s.trim() == "0" {
                Some(0.0)
            } else {
                ItemId::parse(s.trim()).ok().map(|id| id.get() as f64)
            }
        });
        let n = v.as_f64().or(digits.flatten());
        let id = n.ok_or(Invalid::Category).and_then(recs::category_id);
        ids.push(id.map_err(|p| InputError::new(call.0, nth("params.categoryIds", i, ""), p))?);
    }
    let mut paths = Vec::new();
    for (i, v) in list("categoryPaths")?.iter().enumerate() {
        let path = v.as_string().ok_or(Invalid::Category).and_then(|s| recs::category_path(&s));
        paths.push(path.map_err(|p| InputError::new(call.0, nth("params.categoryPaths", i, ""), p))?);
    }
    if ids.is_empty() && paths.is_empty() {
        return Err(InputError::new(call.0, "params.categoryIds", Invalid::IdList));
    }
    Ok((ids, paths))
}

fn recommendation(call: Call, algorithm: &JsValue, params: &JsValue) -> Result<Recommendation, InputError> {
    let name = algorithm.as_string().unwrap_or_default();
    let needs = recs::algorithm(&name).ok_or_else(|| InputError {
        got: algorithm.as_string().map(|s| ["\"", &s, "\""].concat()),
        ..InputError::new(call.0, "algorithm", Invalid::Algorithm)
    })?;
    call.options("params", params)?;
    Ok(match needs {
        Needs::Categories(algorithm) => {
            let (ids, paths) = categories(call, params)?;
            Recommendation::Category { algorithm, ids, paths }
        }
        Needs::Products(algorithm) => {
            Recommendation::Products { algorithm, items: call.items("params.itemIds", &field(params, "itemIds"))? }
        }
        Needs::Phrase => Recommendation::Search { phrase: call.text("params.phrase", &field(params, "phrase"))? },
        Needs::Visitor(algorithm) => Recommendation::Visitor { algorithm },
    })
}

#[wasm_bindgen]
impl Tracker {
    /// Recommended products, resolved within `timeoutMs`. Never rejects: on a timeout, a
    /// network error, an error status or a malformed answer it resolves with the last good
    /// answer to the same request, or `[]`, and tells `onError`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Item[]>")]
    pub fn recommend(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Algorithm")] algorithm: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RecommendParams")] params: Option<JsValue>,
    ) -> Promise {
        let call = Call("recommend");
        let params = params.unwrap_or(JsValue::UNDEFINED);
        request(self, |engine, api| {
            let rec = recommendation(call, &algorithm, &params)?;
            let stock = call.stock(&params, engine.config().stock_id.as_ref())?;
            // Without consent the visitor is not identified, and personal picks have nothing to go on.
            let session = engine.session().filter(|_| engine.consent() == Consent::Granted).map(|s| s.as_str());
            if session.is_none() && matches!(rec, Recommendation::Visitor { .. }) {
                return Ok(None);
            }
            Ok(Some(api.recommendation(&rec, stock.as_ref(), session)))
        })
    }

    /// Details of products by id (name, price, picture…), with the same timeout and fallback
    /// rules as `recommend`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Item[]>")]
    pub fn items(
        &self,
        #[wasm_bindgen(js_name = productIds, unchecked_param_type = "ProductId[]")] product_ids: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "StockOptions | string")] options: Option<JsValue>,
    ) -> Promise {
        let call = Call("items");
        let options = options.unwrap_or(JsValue::UNDEFINED);
        request(self, |engine, api| {
            let items = call.items("productIds", &product_ids)?;
            let stock = call.stock(&options, engine.config().stock_id.as_ref())?;
            Ok(Some(api.items(&items, stock.as_ref())))
        })
    }

    /// Credits clicks inside a recommendation block to `methodName` (the algorithm): a click
    /// inside an element with `data-rr-item-id="<productId>"` sends `recomMouseDown`, or
    /// `recomAddToCart` when it lands inside an element with `data-rr-action="add-to-cart"`.
    /// Returns a function that stops listening.
    #[wasm_bindgen(js_name = trackBlock, unchecked_return_type = "() => void")]
    pub fn track_block(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Element")] block: JsValue,
        #[wasm_bindgen(js_name = methodName, unchecked_param_type = "string")] method_name: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{ suggester?: string }")] options: Option<JsValue>,
    ) -> Function {
        let call = Call("trackBlock");
        let options = options.unwrap_or(JsValue::UNDEFINED);
        // The click's options are filled in once the block is known to be an element (nothing
        // of the page's is read for a refused call; no click can come in between).
        let recom_options = Object::new();
        let for_clicks = recom_options.clone();
        let weak = Rc::downgrade(&self.state);
        let on_click = move |add: bool, id: String| {
            let Some(state) = weak.upgrade() else { return };
            let method = if add { "recomAddToCart" } else { "recomMouseDown" };
            track_recommendation(&state, method, &JsValue::from_str(&id), &for_clicks);
        };
        let checked = call.text("methodName", &method_name).and_then(|_| {
            lifecycle::clicks(&block, on_click).ok_or_else(|| InputError::new(call.0, "block", Invalid::Element))
        });
        if checked.is_ok() {
            object::set(&recom_options, "methodName", &method_name);
            object::set(&recom_options, "suggester", &field(&options, "suggester"));
        }
        match checked {
            Ok(listening) => stop_function(Some(listening)),
            Err(error) => {
                self.state.reporter.report(&Problem::Input(error));
                stop_function(None)
            }
        }
    }
}
