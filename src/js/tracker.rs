//! `Tracker`: the class pages use. Method names and argument shapes follow Retail Rocket's own
//! `rrApi`, so `rrApi.view(id)` becomes `rr.view(id)`.
//!
//! Every tracking method returns `true` when the event was accepted (it is then already in
//! storage) and `false` when an argument was wrong (nothing is sent; `onError` says why). None of
//! them throws. Only the constructor throws, for a bad config.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::args::{field, Call};
use super::bridge;
use super::config;
use super::page_events;
use super::report::Reporter;
use super::state::State;
use crate::core::config::StorageMode;
use crate::core::engine::Engine;
use crate::core::error::InputError;
use crate::core::event::Event;
use crate::core::ids::{Invalid, ShortText};
use crate::core::landing;
use crate::core::order::order_lines;
use crate::core::problem::Problem;
use crate::web::clock::{now_ms, random_bytes};
use crate::web::{page, storage};

/// Sends shopper events to Retail Rocket from a page or WebView, with only the public partnerId.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Tracker {
    /// Everything it knows and runs (see `state`).
    pub(super) state: Rc<State>,
}

thread_local! {
    /// Whether this page load's pageView and e-mail landing were tracked already.
    static PAGE_LOAD_REPORTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Eight random hex digits (written as the storage space is, `core::engine::space`: one copy of
/// the formatting).
fn tab_id() -> String {
    let [a, b, c, d, ..] = random_bytes();
    crate::core::text::hex(u32::from_be_bytes([a, b, c, d]).into(), 8)
}

/// Turns a tracking call's arguments (at a time, for an engine) into events, or says why not.
pub(super) type BuildEvents<'a> = dyn Fn(u64, &Engine) -> Result<Vec<Event>, InputError> + 'a;

/// Validates with `build`, queues what it returns, reports a refusal. Never panics: a
/// re-entrant call (from inside `onError`) is refused rather than aliasing the engine.
/// (`build` is a `&dyn Fn`: one copy of this function serves every method, which keeps the wasm
/// small.)
pub(super) fn track_with(state: &Rc<State>, build: &BuildEvents<'_>) -> bool {
    let now = now_ms();
    let accepted = match state.engine.try_borrow_mut() {
        Ok(mut engine) => match build(now, &engine) {
            Ok(events) if events.is_empty() => false,
            Ok(events) => {
                if engine.config().page_context {
                    engine.set_page(page::current());
                }
                engine.track(events, now)
            }
            Err(error) => {
                engine.report(Problem::Input(error));
                false
            }
        },
        Err(_) => false,
    };
    state.report_problems();
    if accepted {
        state.tracked();
    }
    accepted
}

/// `recomMouseDown` and `recomAddToCart`: a recommended product was clicked or put in the basket.
pub(super) fn track_recommendation(
    state: &Rc<State>,
    method: &'static str,
    product_id: &JsValue,
    options: &JsValue,
) -> bool {
    let call = Call(method);
    track_with(state, &|now, engine| {
        let item = call.item("productId", product_id)?;
        // `rrApi.recomMouseDown(id, "popular")`: the method name itself, as tracking.js allows.
        let method_name = if options.is_string() {
            Some(call.text("methodName", options)?)
        } else {
            call.options("options", options)?;
            match call.opt_text("options.methodName", &field(options, "methodName"))? {
                Some(name) => Some(name),
                None => call.opt_text("options.suggestMethod", &field(options, "suggestMethod"))?,
            }
        };
        let suggester = call.opt_text("options.suggester", &field(options, "suggester"))?;
        let suggester = match suggester {
            Some(suggester) => suggester,
            None => ShortText::parse("widget").map_err(|p| InputError::new(method, "options.suggester", p))?,
        };
        Ok(vec![if method == "recomMouseDown" {
            engine.remember_recommendation_click(item, now);
            Event::RecomMouseDown { item, method: method_name, suggester }
        } else {
            Event::RecomAddToCart { item, method: method_name, suggester }
        }])
    })
}

impl Tracker {
    fn track(&self, build: &BuildEvents<'_>) -> bool {
        track_with(&self.state, build)
    }

    fn default_stock(engine: &Engine) -> Option<&ShortText> {
        engine.config().stock_id.as_ref()
    }
}

impl Drop for Tracker {
    /// `free()` (or `using`): the tracker stops (see `State::close`).
    fn drop(&mut self) {
        self.state.close();
    }
}

#[wasm_bindgen]
impl Tracker {
    /// Creates a tracker. Throws a `TypeError` (with a `code`) if the config is invalid:
    /// a missing or malformed `partnerId`, a non-HTTPS URL, an unknown key, or anything that
    /// looks like a secret.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "TrackerConfig")] config: JsValue) -> Result<Tracker, JsValue> {
        let (mut config, on_error) = config::read(&config).map_err(|e| config::to_js_error(&e))?;
        let reporter = Reporter { on_error, debug: config.debug, busy: Default::default() };
        // An id in the config wins; else one a native app offers through the bridge.
        let mut bridge_problem = None;
        if config.session_external_id.is_none() {
            match bridge::handed_in() {
                Some(Ok(id)) => config.session_external_id = Some(id),
                Some(Err(got)) => bridge_problem = Some(Problem::InvalidBridgeId { got }),
                None => {}
            }
        }
        let rcuid = config.session_cookie && config.storage != StorageMode::Memory;
        let stores = storage::open(config.storage, config.consent, rcuid);
        let can_send = page::exists();
        // Retail Rocket's tracker reports each page load, and a landing from one of its e-mails:
        // the first tracker made on the page does (the module lives as long as the page).
        let mut on_load = Vec::new();
        if can_send && !PAGE_LOAD_REPORTED.replace(true) {
            on_load = landing::events(&page::search());
            if config.page_view {
                on_load.insert(0, Event::PageView);
            }
            // A relay takes what Retail Rocket's server API has; the rest of what the page load
            // asks for is simply not made (the page did not call for it).
            if config.relay_url.is_some() {
                on_load.retain(|event| crate::core::relay::refusal(&event.parts()).is_none());
            }
        }
        let engine = Engine::open(config, stores, &tab_id(), random_bytes);
        let state = State::new(engine, reporter, can_send);
        if can_send {
            page_events::listen(&state);
        }
        if let Some(problem) = bridge_problem {
            state.reporter.report(&problem);
        }
        bridge::hand_back(&state.visitor());
        // Taken, not cloned: the build runs once, and cloning events cost the module 0.6 KB gzip.
        let on_load = std::cell::Cell::new(on_load);
        track_with(&state, &|_, _| Ok(on_load.take()));
        // Events left by an earlier page (closed, crashed, offline) go out now.
        state.wake();
        state.refresh_session();
        Ok(Tracker { state })
    }

    /// The visitor's id: 32 lowercase hex characters, the same on every visit from this browser,
    /// unchanged by login. Hand it to your server to use Retail Rocket's server-side APIs.
    #[wasm_bindgen(getter, js_name = sessionExternalId)]
    pub fn session_external_id(&self) -> String {
        self.state.visitor()
    }

    /// The visitor's Retail Rocket session (the `rcuid` of Retail Rocket's own tracker), or
    /// `null` until Retail Rocket has named it. Pass it as `session` to Retail Rocket's
    /// server-side calls for the same visitor.
    #[wasm_bindgen(getter)]
    #[wasm_bindgen(unchecked_return_type = "string | null")]
    pub fn session(&self) -> JsValue {
        let session =
            self.state.engine.try_borrow().ok().and_then(|e| e.session().map(|s| JsValue::from_str(s.as_str())));
        session.unwrap_or(JsValue::NULL)
    }

    /// How many events are not yet delivered (in every tab of this site).
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> u32 {
        self.state.engine.try_borrow_mut().map(|mut e| e.pending() as u32).unwrap_or(0)
    }

    /// Resolves when every queued event is delivered, or as soon as an attempt fails (the
    /// tracker keeps retrying in the background). Never rejects.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn flush(&self) -> Promise {
        let state = self.state.clone();
        Promise::new(&mut move |resolve, _reject| state.on_settled(resolve))
    }

    /// The visitor agreed to tracking (after `consent: false`, or an earlier `optOut()`):
    /// events wait no longer, and the id and queue are stored from now on.
    #[wasm_bindgen(js_name = optIn)]
    pub fn opt_in(&self) {
        if let Ok(mut engine) = self.state.engine.try_borrow_mut() {
            engine.opt_in();
        }
        self.state.report_problems();
        self.state.wake();
    }

    /// The visitor refused tracking: the queue is emptied, nothing more is sent, and the choice
    /// is remembered on this browser until `optIn()`. Tracking calls then return `false`.
    #[wasm_bindgen(js_name = optOut)]
    pub fn opt_out(&self) {
        if let Ok(mut engine) = self.state.engine.try_borrow_mut() {
            engine.opt_out();
        }
    }

    /// Forgets the visitor: empties the queue and issues a new `sessionExternalId`.
    pub fn forget(&self) {
        if let Ok(mut engine) = self.state.engine.try_borrow_mut() {
            engine.forget(random_bytes());
        }
        bridge::hand_back(&self.state.visitor());
    }

    /// A product page was seen. `options.stockId` (or a stock id string) is optional.
    pub fn view(
        &self,
        #[wasm_bindgen(js_name = productId, unchecked_param_type = "ProductId")] product_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "StockOptions | string")] options: Option<JsValue>,
    ) -> bool {
        let call = Call("view");
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.track(&|now, engine| {
            let item = call.item("productId", &product_id)?;
            let stock = call.stock(&options, Self::default_stock(engine))?;
            let recom_item = engine.recommendation_credit(now);
            Ok(vec![Event::View { item, stock, recom_item }])
        })
    }

    /// A group of product variants (colours, sizes) was seen.
    #[wasm_bindgen(js_name = groupView)]
    pub fn group_view(
        &self,
        #[wasm_bindgen(js_name = productIds, unchecked_param_type = "ProductId[]")] product_ids: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "StockOptions | string")] options: Option<JsValue>,
    ) -> bool {
        let call = Call("groupView");
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.track(&|now, engine| {
            let items = call.items("productIds", &product_ids)?;
            let stock = call.stock(&options, Self::default_stock(engine))?;
            let recom_item = engine.recommendation_credit(now);
            Ok(vec![Event::GroupView { items, stock, recom_item }])
        })
    }

    /// A product was put in the basket.
    #[wasm_bindgen(js_name = addToBasket)]
    pub fn add_to_basket(
        &self,
        #[wasm_bindgen(js_name = productId, unchecked_param_type = "ProductId")] product_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "StockOptions | string")] options: Option<JsValue>,
    ) -> bool {
        let call = Call("addToBasket");
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.track(&|_, engine| {
            let item = call.item("productId", &product_id)?;
            let stock = call.stock(&options, Self::default_stock(engine))?;
            Ok(vec![Event::AddToBasket { item, stock }])
        })
    }

    /// A product was taken out of the basket.
    #[wasm_bindgen(js_name = removeFromBasket)]
    pub fn remove_from_basket(
        &self,
        #[wasm_bindgen(js_name = productId, unchecked_param_type = "ProductId")] product_id: JsValue,
    ) -> bool {
        let call = Call("removeFromBasket");
        self.track(&|_, _| Ok(vec![Event::RemoveFromBasket { item: call.item("productId", &product_id)? }]))
    }

    /// A category page was seen: a category id (YML feeds) or a full path such as
    /// `"Women/Clothing/Skirts"` (Product API feeds).
    #[wasm_bindgen(js_name = categoryView)]
    pub fn category_view(
        &self,
        #[wasm_bindgen(js_name = categoryIdOrPath, unchecked_param_type = "ProductId")] category: JsValue,
    ) -> bool {
        let call = Call("categoryView");
        self.track(&|_, _| Ok(vec![Event::CategoryView(call.category("categoryIdOrPath", &category)?)]))
    }

    /// A search was made.
    pub fn search(&self, #[wasm_bindgen(unchecked_param_type = "string")] phrase: JsValue) -> bool {
        let call = Call("search");
        self.track(&|_, _| Ok(vec![Event::Search { phrase: call.long_text("phrase", &phrase)? }]))
    }

    /// An order was placed: one event per distinct product, quantities summed.
    pub fn order(&self, #[wasm_bindgen(unchecked_param_type = "Order")] order: JsValue) -> bool {
        let call = Call("order");
        self.track(&|_, engine| {
            call.object("order", &order)?;
            let transaction = call.long_text("order.transaction", &field(&order, "transaction"))?;
            let items = call.order_items(&field(&order, "items"))?;
            let stock = call
                .opt_text("order.stockId", &field(&order, "stockId"))?
                .or_else(|| Self::default_stock(engine).cloned());
            order_lines(&transaction, &items, stock.as_ref()).map_err(|line| {
                InputError::new("order", super::args::nth("order.items", line, ".qnt"), Invalid::Quantity)
            })
        })
    }

    /// The shopper gave an e-mail address (sent in the request, as Retail Rocket's protocol
    /// requires; call it only with the shopper's consent). `isAgreedToReceiveMarketingMail` is
    /// sent as given, `true` when not given (as Retail Rocket's tracker does); every other key
    /// but `contactExternalId` is the store's custom data (`d.<key>`).
    #[wasm_bindgen(js_name = setEmail)]
    pub fn set_email(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] email: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "EmailOptions")] options: Option<JsValue>,
    ) -> bool {
        let call = Call("setEmail");
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.track(&|_, _| {
            let email = call.email("email", &email)?;
            call.options("options", &options)?;
            let agreed = call.opt_bool(
                "options.isAgreedToReceiveMarketingMail",
                &field(&options, "isAgreedToReceiveMarketingMail"),
            )?;
            let contact = call.opt_external_id("options.contactExternalId", &field(&options, "contactExternalId"))?;
            let custom = call.custom_data(&options, &["isAgreedToReceiveMarketingMail", "contactExternalId"])?;
            let (basket, viewed) = (Vec::new(), Vec::new()); // filled in from storage by the engine
            Ok(vec![Event::SetEmail { email, agreed: agreed.unwrap_or(true), contact, custom, basket, viewed }])
        })
    }

    /// A recommended product was clicked. A view of it within 60 seconds (usually on the
    /// product page this click opens) is credited to the recommendation.
    #[wasm_bindgen(js_name = recomMouseDown)]
    pub fn recom_mouse_down(
        &self,
        #[wasm_bindgen(js_name = productId, unchecked_param_type = "ProductId")] product_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RecomOptions")] options: Option<JsValue>,
    ) -> bool {
        track_recommendation(&self.state, "recomMouseDown", &product_id, &options.unwrap_or(JsValue::UNDEFINED))
    }

    /// A recommended product was put in the basket from the recommendation block.
    #[wasm_bindgen(js_name = recomAddToCart)]
    pub fn recom_add_to_cart(
        &self,
        #[wasm_bindgen(js_name = productId, unchecked_param_type = "ProductId")] product_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RecomOptions")] options: Option<JsValue>,
    ) -> bool {
        track_recommendation(&self.state, "recomAddToCart", &product_id, &options.unwrap_or(JsValue::UNDEFINED))
    }
    /// A page was shown. Sent once per page load by itself (config `pageView: false` turns that
    /// off); call it for a new page in a single-page app.
    #[wasm_bindgen(js_name = pageView)]
    pub fn page_view(&self) -> bool {
        self.track(&|_, _| Ok(vec![Event::PageView]))
    }

    /// A recommendation block with `productIds` was shown. `to` is ignored, as Retail Rocket's
    /// tracker ignores it (it reports the shown products for both).
    #[wasm_bindgen(js_name = recomTrack)]
    pub fn recom_track(
        &self,
        #[wasm_bindgen(js_name = methodName, unchecked_param_type = "string")] method_name: JsValue,
        #[wasm_bindgen(js_name = to, unchecked_param_type = "unknown")] _to: JsValue,
        #[wasm_bindgen(js_name = productIds, unchecked_param_type = "ProductId[]")] product_ids: JsValue,
    ) -> bool {
        let call = Call("recomTrack");
        self.track(&|_, _| {
            let method = call.text("methodName", &method_name)?;
            Ok(vec![Event::RecomTrack { method, items: call.items("productIds", &product_ids)? }])
        })
    }

    /// The shopper subscribed to the store's welcome e-mails.
    #[wasm_bindgen(js_name = welcomeSequence)]
    pub fn welcome_sequence(&self, #[wasm_bindgen(unchecked_param_type = "string")] email: JsValue) -> bool {
        let call = Call("welcomeSequence");
        self.track(&|_, _| Ok(vec![Event::WelcomeSequence { email: call.email("email", &email)? }]))
    }

    /// The shopper asked to hear when a product is back in stock (`options.stockId`, or a stock
    /// id string, is optional).
    #[wasm_bindgen(js_name = subscribeOnItemBackInStock)]
    pub fn subscribe_on_item_back_in_stock(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] email: JsValue,
        #[wasm_bindgen(js_name = productId, unchecked_param_type = "ProductId")] product_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "StockOptions | string")] options: Option<JsValue>,
    ) -> bool {
        let call = Call("subscribeOnItemBackInStock");
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.track(&|_, engine| {
            let email = call.email("email", &email)?;
            let item = call.item("productId", &product_id)?;
            Ok(vec![Event::BackInStock { email, item, stock: call.stock(&options, Self::default_stock(engine))? }])
        })
    }

    /// The shopper asked to hear when products get cheaper: `{ id, price }` or a list of them,
    /// `price` being the price the shopper saw.
    #[wasm_bindgen(js_name = subscribeOnPriceDrop)]
    pub fn subscribe_on_price_drop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] email: JsValue,
        #[wasm_bindgen(unchecked_param_type = "PriceDropItem | PriceDropItem[]")] items: JsValue,
    ) -> bool {
        let call = Call("subscribeOnPriceDrop");
        self.track(&|_, _| {
            let email = call.email("email", &email)?;
            Ok(vec![Event::PriceDrop { email, items: call.price_drop_items("items", &items)? }])
        })
    }
}
