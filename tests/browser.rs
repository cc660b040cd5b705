//! Storage fallbacks in a real browser (`wasm-pack test --headless --chrome`): localStorage
//! first, a cookie when localStorage throws, memory when both are off. Storage failures never
//! throw into the page.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, is_generated_id};
use retailrocket_tracker::Tracker;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function clearAll() {
  localStorage.clear();
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim();
    if (name) document.cookie = name + '=; path=/; max-age=0';
  }
}
// localStorage is an own property of the global object: keep its descriptor to put it back.
const original = Object.getOwnPropertyDescriptor(window, 'localStorage');
export function breakLocalStorage() {
  Object.defineProperty(window, 'localStorage', { configurable: true, get() { throw new DOMException('denied', 'SecurityError'); } });
}
export function restoreLocalStorage() { Object.defineProperty(window, 'localStorage', original); }
export function disableCookies() {
  Object.defineProperty(document, 'cookie', { configurable: true, get() { return ''; }, set(_) {} });
}
export function restoreCookies() { delete document.cookie; }
export function stored(key) { return localStorage.getItem(key); }
// localStorage opens and reads, but every write throws, as in Safari's old private mode.
const setItem = Storage.prototype.setItem;
export function refuseWrites() {
  Storage.prototype.setItem = function () { throw new DOMException('quota', 'QuotaExceededError'); };
}
export function allowWrites() { Storage.prototype.setItem = setItem; }
export function cookies() { return document.cookie; }
// Fills localStorage to the last byte: big chunks first, then ever smaller ones.
export function fillLocalStorage() {
  let n = 0, hitQuota = false;
  for (let size = 1 << 20; size >= 1; size >>= 2) {
    const chunk = 'x'.repeat(size);
    for (;;) {
      try { localStorage.setItem('f' + n++, chunk); } catch (e) { hitQuota = true; break; }
    }
  }
  return hitQuota ? n : -1;
}
"#)]
extern "C" {
    fn clearAll();
    #[wasm_bindgen(js_name = breakLocalStorage)]
    fn break_local_storage();
    #[wasm_bindgen(js_name = restoreLocalStorage)]
    fn restore_local_storage();
    #[wasm_bindgen(js_name = disableCookies)]
    fn disable_cookies();
    #[wasm_bindgen(js_name = restoreCookies)]
    fn restore_cookies();
    fn stored(key: &str) -> Option<String>;
    #[wasm_bindgen(js_name = refuseWrites)]
    fn refuse_writes();
    #[wasm_bindgen(js_name = allowWrites)]
    fn allow_writes();
    fn cookies() -> String;
    #[wasm_bindgen(js_name = fillLocalStorage)]
    fn fill_local_storage() -> i32;
}

#[wasm_bindgen_test]
fn the_id_is_kept_in_local_storage_and_reused() {
    clearAll();
    let first = Tracker::new(config(&[])).unwrap().session_external_id();
    assert!(is_generated_id(&first));
    assert_eq!(stored("rrt:sxid").as_deref(), Some(first.as_str()));
    assert_eq!(Tracker::new(config(&[])).unwrap().session_external_id(), first);
}

#[wasm_bindgen_test]
fn when_local_storage_throws_a_cookie_keeps_the_id() {
    clearAll();
    break_local_storage();
    let first = Tracker::new(config(&[])).unwrap();
    let again = Tracker::new(config(&[])).unwrap();
    restore_local_storage();
    let id = first.session_external_id();
    assert!(cookies().contains(&format!("rrt_sxid={id}")), "cookie: {}", cookies());
    assert_eq!(again.session_external_id(), id);
    assert!(first.view(101.into(), None), "tracking still works");
}

#[wasm_bindgen_test]
fn when_local_storage_refuses_writes_a_cookie_keeps_the_id() {
    clearAll();
    refuse_writes();
    let first = Tracker::new(config(&[])).unwrap().session_external_id();
    let again = Tracker::new(config(&[])).unwrap().session_external_id();
    allow_writes();
    assert_eq!(again, first, "the next page load finds the same id");
    assert!(cookies().contains(&format!("rrt_sxid={first}")), "cookie: {}", cookies());
    assert_eq!(stored("rrt:sxid"), None);
    clearAll();
}

#[wasm_bindgen_test]
fn with_local_storage_working_no_cookie_is_written() {
    clearAll();
    let t = Tracker::new(config(&[])).unwrap();
    assert!(t.view(101.into(), None));
    t.forget();
    assert_eq!(cookies(), "", "no probe, no copy");
    clearAll();
}

#[wasm_bindgen_test]
fn when_cookies_are_off_local_storage_still_works() {
    clearAll();
    disable_cookies();
    let a = Tracker::new(config(&[])).unwrap().session_external_id();
    let b = Tracker::new(config(&[])).unwrap().session_external_id();
    restore_cookies();
    assert_eq!(a, b);
    assert_eq!(stored("rrt:sxid").as_deref(), Some(a.as_str()));
}

#[wasm_bindgen_test]
fn with_every_storage_off_the_tracker_works_from_memory() {
    clearAll();
    break_local_storage();
    disable_cookies();
    let a = Tracker::new(config(&[])).unwrap();
    let b = Tracker::new(config(&[])).unwrap();
    assert!(a.view(101.into(), None));
    assert_eq!(a.pending(), 1);
    restore_cookies();
    restore_local_storage();
    assert!(is_generated_id(&a.session_external_id()));
    assert_ne!(a.session_external_id(), b.session_external_id(), "nothing could persist");
    assert_eq!(stored("rrt:sxid"), None);
}

#[wasm_bindgen_test]
fn a_full_local_storage_keeps_events_in_memory_without_throwing() {
    clearAll();
    let (on_error, errors) = common::error_sink();
    let t = Tracker::new(config(&[("onError", on_error)])).unwrap();
    let id = t.session_external_id();
    assert!(fill_local_storage() >= 0, "the quota was reached");
    assert!(t.view(101.into(), None));
    assert!(t.view(102.into(), None));
    assert_eq!(t.pending(), 2);
    let codes: Vec<String> = errors.iter().map(|e| common::get_str(&e, "code")).collect();
    assert_eq!(codes, ["storage_unavailable"], "reported once");
    assert_eq!(stored("rrt:sxid").as_deref(), Some(id.as_str()), "the stored id survived");
    clearAll();
}

#[wasm_bindgen_test]
fn storage_mode_memory_writes_nothing() {
    clearAll();
    let t = Tracker::new(config(&[("storage", "memory".into())])).unwrap();
    assert!(t.view(101.into(), None));
    assert_eq!(stored("rrt:sxid"), None);
    assert!(!cookies().contains("rrt_"));
}
