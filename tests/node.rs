//! The tracker in Node (`wasm-pack test --node`): no window, no storage, no page. It must load,
//! validate and refuse exactly as in a browser, keep ids in memory, and never send anything.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, error_sink, get_str, is_generated_id};
use retailrocket_tracker::Tracker;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn without_a_page_the_id_lives_in_memory() {
    let a = Tracker::new(config(&[])).unwrap();
    let b = Tracker::new(config(&[])).unwrap();
    assert!(is_generated_id(&a.session_external_id()));
    assert_ne!(a.session_external_id(), b.session_external_id(), "nothing persists without storage");
}

#[wasm_bindgen_test]
fn a_handed_in_id_is_used_with_its_hyphens_removed() {
    let t = Tracker::new(config(&[("sessionExternalId", "3beb9714-82e9-4c08-938d-1391f5d86f2b".into())])).unwrap();
    assert_eq!(t.session_external_id(), "3beb971482e94c08938d1391f5d86f2b");
}

#[wasm_bindgen_test]
fn secrets_in_the_config_are_refused_with_a_clear_error() {
    for key in ["apiKey", "apikey", "X-API-KEY", "authorization", "token", "secret"] {
        let error = Tracker::new(config(&[(key, "s3cr3t".into())])).unwrap_err();
        assert!(error.is_instance_of::<js_sys::TypeError>());
        assert_eq!(get_str(&error, "code"), "config_secret");
        let message = get_str(&error, "message");
        assert!(message.contains(key) && message.contains("server"), "{message}");
    }
}

#[wasm_bindgen_test]
fn bad_configs_throw_type_errors_naming_the_key() {
    let cases: [(&str, JsValue, &str); 4] = [
        ("partnerId", "not-a-partner".into(), "config_invalid"),
        ("trackingUrl", "http://tracking.example.com".into(), "config_invalid"),
        ("sessionExternalId", "shopper@example.com".into(), "config_invalid"),
        ("trackingURL", "https://x.example".into(), "config_unknown_key"),
    ];
    for (key, value, code) in cases {
        let error = Tracker::new(config(&[(key, value)])).unwrap_err();
        assert_eq!(get_str(&error, "code"), code, "{key}");
        assert!(get_str(&error, "message").contains(key));
    }
    assert_eq!(
        get_str(&Tracker::new(JsValue::from_str("608423a9b126ac6ab3f8f0a5")).unwrap_err(), "code"),
        "config_not_object"
    );
}

#[wasm_bindgen_test]
fn tracking_calls_return_true_or_false_and_never_throw() {
    let (on_error, errors) = error_sink();
    let t = Tracker::new(config(&[("onError", on_error)])).unwrap();
    assert!(t.view(101.into(), None));
    assert!(t.view("102".into(), Some(js_sys::JSON::parse(r#"{"stockId":"msk"}"#).unwrap())));
    assert!(!t.view("abc".into(), None));
    assert!(!t.view(1.5.into(), None));
    assert!(!t.search(JsValue::UNDEFINED));
    assert_eq!(errors.length(), 3);
    let first = errors.get(0);
    assert_eq!(get_str(&first, "code"), "invalid_argument");
    assert_eq!(get_str(&first, "method"), "view");
    assert_eq!(get_str(&first, "argument"), "productId");
    assert!(get_str(&first, "message").contains("got \"abc\""));
    assert_eq!(t.pending(), 2, "accepted events wait in the queue; nothing is sent from a server");
}

#[wasm_bindgen_test]
fn an_on_error_that_throws_does_not_escape() {
    let thrower = js_sys::Function::new_no_args("throw new Error('page bug')");
    let t = Tracker::new(config(&[("onError", thrower.into())])).unwrap();
    assert!(!t.view(JsValue::NULL, None));
    assert!(t.view(5.into(), None));
}

#[wasm_bindgen_test]
fn page_values_that_throw_are_refused_and_never_unwind_through_the_tracker() {
    let trap = js_sys::Function::new_no_args("throw 1");
    let handler = js_sys::Object::new();
    for name in ["ownKeys", "get", "getPrototypeOf", "has"] {
        js_sys::Reflect::set(&handler, &name.into(), &trap).unwrap();
    }
    let hostile: JsValue = js_sys::Proxy::new(&js_sys::Object::new(), &handler).into();
    let revoked = js_sys::Proxy::revocable(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Function::from(js_sys::Reflect::get(&revoked, &"revoke".into()).unwrap()).call0(&JsValue::NULL).unwrap();
    let revoked = js_sys::Reflect::get(&revoked, &"proxy".into()).unwrap();
    // An escaping exception would leave the module's stack pointer moved: after about 1,200 of
    // them every call failed with "memory access out of bounds".
    for _ in 0..1_500 {
        let error = Tracker::new(hostile.clone()).unwrap_err();
        assert!(error.is_instance_of::<js_sys::TypeError>());
        assert_eq!(get_str(&error, "code"), "config_not_object");
    }
    let (on_error, errors) = error_sink();
    let t = Tracker::new(config(&[("onError", on_error)])).unwrap();
    for value in [&hostile, &revoked] {
        assert!(!t.view(value.clone(), None));
        assert!(!t.view(101.into(), Some(value.clone())));
        assert!(!t.group_view(value.clone(), None));
        assert!(!t.order(value.clone()));
        assert!(!t.set_email("a@b.example".into(), Some(value.clone())));
        assert!(!t.recom_mouse_down(101.into(), Some(value.clone())));
    }
    assert_eq!(errors.length(), 12);
    assert!(t.view(101.into(), None), "the tracker still works");
    assert_eq!(t.pending(), 1);
}

#[wasm_bindgen_test]
fn order_reads_objects_without_a_prototype_and_frozen_ones() {
    let t = Tracker::new(config(&[])).unwrap();
    let bare = js_sys::Object::create(JsValue::NULL.unchecked_ref::<js_sys::Object>());
    let line = js_sys::Object::create(JsValue::NULL.unchecked_ref::<js_sys::Object>());
    js_sys::Reflect::set(&line, &"id".into(), &101.into()).unwrap();
    js_sys::Reflect::set(&line, &"price".into(), &10.into()).unwrap();
    js_sys::Reflect::set(&bare, &"transaction".into(), &"T-1".into()).unwrap();
    js_sys::Reflect::set(&bare, &"items".into(), &js_sys::Array::of1(&js_sys::Object::freeze(&line))).unwrap();
    assert!(t.order(js_sys::Object::freeze(&bare).into()));
    assert_eq!(t.pending(), 1);
}

#[wasm_bindgen_test]
fn an_on_error_that_calls_back_with_bad_input_is_not_called_again_from_inside() {
    let calls = js_sys::Array::new();
    let holder = js_sys::Object::new();
    let on_error =
        js_sys::Function::new_with_args("calls, holder", "return () => { calls.push(1); holder.t.view('bad'); }")
            .call2(&JsValue::NULL, &calls, &holder)
            .unwrap();
    let t = Tracker::new(config(&[("onError", on_error)])).unwrap();
    let shared: JsValue = t.into();
    js_sys::Reflect::set(&holder, &"t".into(), &shared).unwrap();
    let view = js_sys::Function::new_with_args("t", "return [t.view('bad'), t.view(5), t.pending]");
    let result = js_sys::Array::from(&view.call1(&JsValue::NULL, &shared).unwrap());
    assert_eq!(result.get(0), JsValue::FALSE);
    assert_eq!(result.get(1), JsValue::TRUE);
    assert_eq!(result.get(2).as_f64(), Some(1.0));
    assert_eq!(calls.length(), 1, "called once, not recursively");
}
