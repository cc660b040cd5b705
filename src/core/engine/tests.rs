use super::*;
use crate::core::config::{ConfigBuilder, RawValue};
use crate::core::lease::Said;
use crate::core::store::{MemoryStore, Store};
use std::rc::Rc;

fn config(extra: &[(&str, RawValue)]) -> Config {
    let mut b = ConfigBuilder::default();
    b.set("partnerId", &RawValue::Text("608423a9b126ac6ab3f8f0a5".into())).unwrap();
    b.set("trackingUrl", &RawValue::Text("http://127.0.0.1:9".into())).unwrap();
    for (k, v) in extra {
        b.set(k, v).unwrap();
    }
    b.build().unwrap()
}

pub(crate) fn view(n: u64) -> Event {
    Event::View { item: ItemId::parse(&n.to_string()).unwrap(), stock: None, recom_item: None }
}

pub(crate) fn ok(body: &str) -> Reply {
    Reply { status: 200, body: body.into(), ..Reply::default() }
}

pub(crate) fn status(code: u16) -> Reply {
    Reply { status: code, ..Reply::default() }
}

pub(crate) fn session_ok(job: &Job) -> Reply {
    match job {
        Job::Initialize(_) => ok(r#"{"sessionId":"rrSESSION1"}"#),
        Job::Deliver { .. } => ok(""),
    }
}

pub(crate) fn engine_with(stores: &Stores, extra: &[(&str, RawValue)]) -> Engine {
    Engine::open(config(extra), stores.clone(), "tab", || [7; 16])
}

pub(crate) fn engine(stores: &Stores) -> Engine {
    engine_with(stores, &[])
}

/// An engine whose session Retail Rocket has named (a first event was delivered).
pub(crate) fn with_session(stores: &Stores) -> Engine {
    let mut e = engine(stores);
    e.track(vec![view(1)], 1);
    run(&mut e, session_ok);
    e
}

/// Sends every job with `answer` until the engine has nothing left or asks to wait.
fn run(e: &mut Engine, mut answer: impl FnMut(&Job) -> Reply) -> (Vec<String>, Option<u64>) {
    let mut sent = Vec::new();
    while let Some(job) = e.next_job(1) {
        sent.push(job.request().url.clone());
        if let Next::Wait(ms) = e.complete(&job, &answer(&job), 0.5) {
            return (sent, Some(ms));
        }
    }
    (sent, None)
}

fn stored_events(stores: &Stores) -> usize {
    stores.queue.keys_with_prefix(keys::QUEUE_PREFIX).len()
}

#[test]
fn nothing_is_sent_before_there_is_something_to_send() {
    assert_eq!(engine(&Stores::memory()).next_job(1), None);
}

#[test]
fn a_first_visit_asks_for_a_session_offering_none() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.track(vec![view(1), view(2)], 10);
    let visitor = e.visitor().as_str().to_owned();
    let first = e.next_job(1).unwrap();
    assert!(matches!(&first, Job::Initialize(r) if r.credentials), "the handshake sends cookies");
    assert!(first.request().url.contains("/1.0/event/initialize/608423a9b126ac6ab3f8f0a5?_nocache="));
    assert_eq!(e.session(), None);
    assert_eq!(e.complete(&first, &session_ok(&first), 0.5), Next::Continue);
    assert_eq!(e.session().map(RrSession::as_str), Some("rrSESSION1"));
    let (sent, wait) = run(&mut e, session_ok);
    assert_eq!(wait, None);
    assert!(sent[0].contains("/view/608423a9b126ac6ab3f8f0a5/1?session=rrSESSION1&sessionExternalId="));
    assert!(sent[1].contains("/view/608423a9b126ac6ab3f8f0a5/2?"));
    assert_eq!(sent.len(), 2);
    assert_eq!(e.pending(), 0);

    // The next page load reuses the session and the id.
    let mut again = engine(&stores);
    assert_eq!(again.visitor().as_str(), visitor);
    again.track(vec![view(3)], 20);
    let (sent, _) = run(&mut again, |_| ok(""));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("/view/608423a9b126ac6ab3f8f0a5/3?session=rrSESSION1&"));
}

#[test]
fn server_errors_are_retried_in_order_and_delivered_once() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.track(vec![view(1), view(2)], 10);
    // The handshake fails once first: its retry must not count against the events.
    let (asked, wait) = run(&mut e, |_| status(503));
    assert_eq!((asked.len(), wait), (1, Some(1_000)), "{asked:?}");
    assert!(asked[0].contains("/initialize/"));
    let (sent, first_wait) =
        run(&mut e, |job| if matches!(job, Job::Initialize(_)) { session_ok(job) } else { status(503) });
    assert_eq!(sent.len(), 2, "handshake, then the first event: {sent:?}");
    assert!(sent[1].contains("/view/608423a9b126ac6ab3f8f0a5/1?"), "{sent:?}");
    let mut failures_left = 2;
    let mut delivered = Vec::new();
    let mut waits = Vec::from_iter(first_wait);
    loop {
        let (sent, wait) = run(&mut e, |job| {
            if failures_left > 0 {
                failures_left -= 1;
                status(503)
            } else {
                delivered.push(job.request().url.clone());
                ok("")
            }
        });
        assert!(!sent.is_empty());
        match wait {
            Some(ms) => waits.push(ms),
            None => break,
        }
    }
    assert_eq!(waits, [1_000, 2_000, 4_000]);
    assert_eq!(delivered.len(), 2);
    assert!(delivered[0].contains("/view/608423a9b126ac6ab3f8f0a5/1?"));
    assert!(delivered[1].contains("/view/608423a9b126ac6ab3f8f0a5/2?"));
}

#[test]
fn retry_after_is_honoured() {
    let mut e = engine(&Stores::memory());
    e.track(vec![view(1)], 10);
    let (_, wait) = run(&mut e, |job| match job {
        Job::Initialize(_) => session_ok(job),
        Job::Deliver { .. } => Reply { status: 429, retry_after_ms: Some(7_000), ..Reply::default() },
    });
    assert_eq!(wait, Some(7_000));
    assert_eq!(e.pending(), 1);
}

#[test]
fn refused_events_are_dropped_reported_and_later_ones_still_go() {
    let mut e = engine(&Stores::memory());
    e.track(vec![view(1), view(2)], 10);
    let (sent, wait) = run(&mut e, |job| match job {
        Job::Deliver { request, .. } if request.url.contains("/1?") => status(400),
        _ => session_ok(job),
    });
    assert_eq!((sent.len(), wait), (3, None));
    assert_eq!(e.take_problems(), [Problem::Refused { event: "view", status: 400 }]);
    assert_eq!(e.pending(), 0);
}

#[test]
fn attempts_are_capped() {
    let mut e = engine(&Stores::memory());
    e.track(vec![view(1)], 10);
    let mut rounds = 0;
    while let (_, Some(_)) = run(&mut e, |job| match job {
        Job::Initialize(_) => session_ok(job),
        Job::Deliver { .. } => status(500),
    }) {
        rounds += 1;
    }
    assert_eq!(rounds, Backoff::MAX_ATTEMPTS - 1);
    assert_eq!(e.take_problems(), [Problem::GaveUp { event: "view", attempts: Backoff::MAX_ATTEMPTS }]);
}

#[test]
fn a_failing_handshake_keeps_events_waiting() {
    let mut e = engine(&Stores::memory());
    e.track(vec![view(1)], 10);
    for _ in 0..20 {
        let (sent, wait) = run(&mut e, |_| status(0));
        assert_eq!(sent.len(), 1);
        assert!(wait.is_some());
    }
    assert_eq!(e.pending(), 1);
    let (sent, _) = run(&mut e, session_ok);
    assert_eq!(sent.len(), 2);
}

#[test]
fn a_full_queue_reports_what_it_dropped() {
    let mut e = engine_with(&Stores::memory(), &[("maxQueue", RawValue::Number(2.0))]);
    e.track(vec![view(1), view(2), view(3)], 1);
    assert_eq!(e.take_problems(), [Problem::QueueFull { dropped: 1, max: 2 }]);
    assert_eq!(e.pending(), 2);
}

// The rule for a failure without an answer (`NO_ANSWER_HOLD_MS`): held, then believed only
// by a page still there and not going away. (The tests after `timed_out` below cover the
// request under way when the page goes away, and the keepalive our timer gave up on.)

/// An engine with a session, `view(2)` under way and `view(3)` waiting.
fn sending_2_with_3_waiting(stores: &Stores) -> (Engine, Job) {
    let mut e = engine(stores);
    e.track(vec![view(1)], 1);
    run(&mut e, session_ok);
    e.track(vec![view(2), view(3)], 2);
    let job = e.next_job(2).unwrap();
    (e, job)
}

#[test]
fn no_answer_only_a_delivery_failed_without_any_answer_is_held() {
    let (mut e, job) = sending_2_with_3_waiting(&Stores::memory());
    assert_eq!(e.settle_after_ms(&job, &status(503)), 0, "a server's answer is settled at once");
    assert_eq!(e.settle_after_ms(&job, &ok("")), 0);
    assert_eq!(e.settle_after_ms(&job, &timed_out()), 0, "our own timer aborted it");
    assert_eq!(e.settle_after_ms(&job, &status(0)), NO_ANSWER_HOLD_MS);
    let handed = e.hand_off(2, HandOff::Queue);
    assert_eq!(handed, vec![], "nothing more is handed off while a failure is held");
    let mut fresh = engine(&Stores::memory());
    fresh.track(vec![view(1)], 1);
    let handshake = fresh.next_job(1).unwrap();
    assert_eq!(fresh.settle_after_ms(&handshake, &status(0)), 0, "no event waits on a handshake");
    // A keepalive hand-off that failed without an answer is held too.
    let (mut e, _) = sending_2_with_3_waiting(&Stores::memory());
    let handed = e.hand_off(2, HandOff::Queue);
    assert_eq!(handed.len(), 1);
    assert_eq!(e.settle_after_ms(&handed[0], &status(0)), NO_ANSWER_HOLD_MS);
    assert_eq!(e.settle_after_ms(&handed[0], &status(503)), 0);
}

#[test]
fn no_answer_a_page_still_there_after_the_hold_keeps_the_events_and_retries() {
    // Not hidden meanwhile: the event was never taken out of storage.
    let stores = Stores::memory();
    let (mut e, job) = sending_2_with_3_waiting(&stores);
    e.settle_after_ms(&job, &status(0));
    assert_eq!(e.complete(&job, &status(0), 0.5), Next::Wait(1_000));
    assert_eq!(stored_events(&stores), 2);
    // Hidden meanwhile (a tab switch): both the request under way and the hand-off failed
    // without an answer; after the hold they are put back and sent again, in order.
    let stores = Stores::memory();
    let (mut e, job) = sending_2_with_3_waiting(&stores);
    let handed = e.hand_off(2, HandOff::Queue);
    assert_eq!(stored_events(&stores), 0);
    e.settle_after_ms(&handed[0], &status(0));
    e.settle_after_ms(&job, &status(0));
    e.complete_handed_off(&handed[0], &status(0));
    e.complete(&job, &status(0), 0.5);
    assert_eq!(stored_events(&stores), 2);
    let (sent, _) = run(&mut e, |_| ok(""));
    assert!(sent.len() == 2 && sent[0].contains("/2?") && sent[1].contains("/3?"), "{sent:?}");
}

#[test]
fn no_answer_a_page_going_away_during_the_hold_leaves_the_event_to_its_request() {
    // Chromium, navigated away from while loading: the request under way fails before
    // `beforeunload`, then the page hands off and dies before the hold ends.
    let stores = Stores::memory();
    let (mut e, job) = sending_2_with_3_waiting(&stores);
    assert_eq!(e.settle_after_ms(&job, &status(0)), NO_ANSWER_HOLD_MS);
    assert_eq!(e.hand_off(3, HandOff::Queue), vec![]);
    assert_eq!(stored_events(&stores), 1, "the event under way is left to its request");
    let mut next = engine(&stores);
    let (sent, _) = run(&mut next, |_| ok(""));
    assert!(sent.len() == 1 && sent[0].contains("/3?"), "the next page sends only /3: {sent:?}");
    // Chromium and Firefox, closing: the keepalive hand-offs fail without an answer; the
    // page dies during the hold, or (Firefox, whose timers fail in teardown) settles them
    // at once after `pagehide`. Neither puts anything back.
    for dies in [true, false] {
        let stores = Stores::memory();
        let (mut e, job) = sending_2_with_3_waiting(&stores);
        let handed = e.hand_off(2, HandOff::Queue);
        e.page_leaving(true);
        e.settle_after_ms(&handed[0], &status(0));
        e.settle_after_ms(&job, &status(0));
        if !dies {
            e.complete_handed_off(&handed[0], &status(0));
            e.complete(&job, &status(0), 0.5);
        }
        assert_eq!(stored_events(&stores), 0, "dies: {dies}");
    }
}

#[test]
fn hiding_the_page_hands_waiting_events_to_the_browser_once() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3), view(4)], 2);
    let in_flight = e.next_job(1).unwrap();
    assert!(in_flight.request().url.contains("/2?"));
    let handed = e.hand_off(1, HandOff::Queue);
    let urls: Vec<_> = handed.iter().map(|j| j.request().url.clone()).collect();
    assert_eq!(urls.len(), 2);
    assert!(urls[0].contains("/3?") && urls[1].contains("/4?"));
    assert_eq!(stored_events(&stores), 0, "nothing left for the next page to send twice");

    // The page lived on: failures go back in their place, successes are done.
    e.complete_handed_off(&handed[0], &status(503));
    e.complete_handed_off(&handed[1], &ok(""));
    assert_eq!(e.complete(&in_flight, &status(0), 0.5), Next::Wait(1_000));
    let (sent, _) = run(&mut e, |_| ok(""));
    assert_eq!(sent.len(), 2);
    assert!(sent[0].contains("/2?") && sent[1].contains("/3?"), "{sent:?}");
}

#[test]
fn hand_off_stops_before_a_post_and_needs_a_session() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.track(vec![view(1)], 1);
    assert_eq!(e.hand_off(1, HandOff::Queue), vec![], "no session yet: events wait for the next page");
    run(&mut e, session_ok);
    let group = Event::GroupView { items: vec![ItemId::parse("5").unwrap()], stock: None, recom_item: None };
    e.track(vec![view(2), group, view(3)], 2);
    let handed = e.hand_off(1, HandOff::Queue);
    assert_eq!(handed.len(), 1);
    assert_eq!(stored_events(&stores), 2, "the group view and what follows stay stored");
}

#[test]
fn a_tab_not_yet_confirmed_as_sender_hands_off_only_its_own_events() {
    let stores = Stores::memory();
    let mut sender = engine(&stores);
    sender.track(vec![view(1)], 1);
    run(&mut sender, session_ok);
    sender.track(vec![view(2)], 2);
    let in_flight = sender.next_job(2).unwrap();
    assert!(in_flight.request().url.contains("/2?"));

    let mut other = Engine::open(config(&[]), stores.clone(), "other", || [7; 16]);
    other.track(vec![view(3), view(4)], 3);
    let handed = other.hand_off(3, HandOff::OwnEvents);
    let urls: Vec<_> = handed.iter().map(|j| j.request().url.clone()).collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls[0].contains("/3?session=rrSESSION1&") && urls[1].contains("/4?"), "{urls:?}");
    assert_eq!(stored_events(&stores), 1, "the sender's event under way is left to the sender");
}

#[test]
fn no_tab_hands_off_while_the_sender_waits_out_a_backoff() {
    let stores = Stores::memory();
    let mut sender = engine(&stores);
    sender.track(vec![view(1)], 1);
    run(&mut sender, session_ok);
    sender.share_wait(10_000);
    let mut other = Engine::open(config(&[]), stores.clone(), "other", || [7; 16]);
    other.track(vec![view(2)], 2);
    assert_eq!(other.hand_off(9_999, HandOff::OwnEvents), vec![], "the server asked to wait");
    assert_eq!(other.hand_off(9_999, HandOff::Queue), vec![]);
    assert_eq!(other.hand_off(10_001, HandOff::OwnEvents).len(), 1, "the wait is over");
}

#[test]
fn a_tab_not_yet_confirmed_as_sender_hands_nothing_to_a_relay() {
    let stores = Stores::memory();
    let mut e = relay_engine(&stores, "/rr");
    e.track(vec![view(1)], 1);
    assert_eq!(e.hand_off(1, HandOff::OwnEvents), vec![], "a batch could repeat the sender's");
    assert_eq!(e.hand_off(1, HandOff::Queue).len(), 1);
}

#[test]
fn without_consent_nothing_is_stored_or_sent_until_opt_in() {
    let stores = Stores::memory();
    let mut e = engine_with(&stores, &[("consent", RawValue::Bool(false))]);
    assert!(e.track(vec![view(1), view(2)], 1));
    assert_eq!(e.next_job(1), None);
    assert_eq!(stored_events(&stores), 0);
    assert_eq!(stores.ids.get(keys::VISITOR), None, "not even the id");
    e.opt_in();
    assert_eq!(stored_events(&stores), 2);
    assert_eq!(stores.ids.get(keys::VISITOR).as_deref(), Some(e.visitor().as_str()));
    let (sent, _) = run(&mut e, session_ok);
    assert_eq!(sent.len(), 3);
}

#[test]
fn opting_out_clears_the_queue_and_is_remembered() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.track(vec![view(1)], 1);
    e.opt_out();
    assert_eq!(stored_events(&stores), 0);
    assert!(!e.track(vec![view(2)], 2));
    assert_eq!(e.next_job(1), None);
    let mut later = engine(&stores);
    assert_eq!(later.consent(), Consent::Refused);
    assert!(!later.track(vec![view(3)], 3));
    later.opt_in();
    assert!(later.track(vec![view(4)], 4));
    assert_eq!(engine(&stores).consent(), Consent::Granted);
}

#[test]
fn forgetting_issues_a_new_id_and_drops_the_queue() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    let before = e.visitor().clone();
    e.track(vec![view(1)], 1);
    run(&mut e, |j| if matches!(j, Job::Initialize(_)) { session_ok(j) } else { status(503) });
    e.forget([9; 16]);
    assert_ne!(e.visitor(), &before);
    assert_eq!(e.pending(), 0);
    e.track(vec![view(2)], 2);
    let job = e.next_job(1).unwrap();
    assert!(matches!(job, Job::Initialize(_)), "a new visitor needs a new session");
    assert_eq!(engine(&stores).visitor(), e.visitor());
}

fn relay_engine(stores: &Stores, relay: &str) -> Engine {
    engine_with(stores, &[("relayUrl", RawValue::Text(relay.into()))])
}

#[test]
fn a_relay_gets_ordered_batches_keyed_by_session_external_id_without_a_handshake() {
    let stores = Stores::memory();
    let mut e = relay_engine(&stores, "/rr");
    e.track(vec![view(1), Event::Search { phrase: crate::core::ids::LongText::parse("skirt").unwrap() }], 1_000);
    let job = e.next_job(1).unwrap();
    let request = job.request().clone();
    assert_eq!(request.method, Method::Post);
    assert_eq!(request.url, "/rr/visitorEvents?partnerId=608423a9b126ac6ab3f8f0a5");
    let body = request.body.unwrap();
    let visitor = e.visitor().as_str().to_owned();
    assert!(body.starts_with(&format!(r#"[{{"view":{{"sessionExternalId":"{visitor}","timestamp":"1970-01-01T00:00:01.000Z","productId":1}}}},{{"search":"#)), "{body}");
    assert!(!body.contains("apiKey") && !request.url.contains("apiKey"));
    assert_eq!(e.complete(&job, &status(503), 0.5), Next::Wait(1_000));
    assert_eq!(e.pending(), 2, "the whole batch waits for the retry");
    let again = e.next_job(1).unwrap();
    assert_eq!(again.request().body, job.request().body, "same batch, same order");
    assert_eq!(e.complete(&again, &ok(""), 0.5), Next::Continue);
    assert_eq!(e.pending(), 0);
}

#[test]
fn events_a_relay_cannot_carry_are_refused_at_the_call() {
    let mut e = relay_engine(&Stores::memory(), "/rr");
    assert!(!e.track(vec![Event::RemoveFromBasket { item: ItemId::parse("1").unwrap() }], 1));
    let problems = e.take_problems();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code(), "not_relayed");
    assert_eq!(e.pending(), 0);
}

#[test]
fn only_a_same_origin_relay_gets_a_batch_on_unload() {
    let stores = Stores::memory();
    let mut same = relay_engine(&stores, "/rr");
    same.track(vec![view(1), view(2)], 1);
    let jobs = same.hand_off(1, HandOff::Queue);
    assert_eq!(jobs.len(), 1);
    assert_eq!(stored_events(&stores), 0);
    let other = Stores::memory();
    let mut cross = relay_engine(&other, "https://relay.example/rr");
    cross.track(vec![view(1)], 1);
    assert_eq!(cross.hand_off(1, HandOff::Queue), vec![], "a cross-origin POST would need a preflight");
    assert_eq!(stored_events(&other), 1);
}

#[test]
fn an_event_removed_on_purpose_is_not_revived_by_a_failed_send() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 2);
    let job = e.next_job(1).unwrap();
    let old = e.visitor().clone();
    e.forget([3; 16]);
    e.complete(&job, &status(503), 0.5);
    assert_eq!(e.pending(), 0, "the forgotten visitor's event stays gone");
    assert_ne!(e.visitor(), &old);

    let mut bounded = engine_with(&Stores::memory(), &[("maxQueue", RawValue::Number(1.0))]);
    bounded.track(vec![view(1)], 1);
    run(&mut bounded, session_ok);
    bounded.track(vec![view(2)], 2);
    let job = bounded.next_job(1).unwrap();
    bounded.track(vec![view(3)], 3); // evicts the one under way
    bounded.complete(&job, &status(503), 0.5);
    assert_eq!(bounded.pending(), 1, "the bound holds");
}

#[test]
fn a_handshake_answer_for_a_forgotten_visitor_is_ignored_and_failures_are_reported() {
    let mut e = engine(&Stores::memory());
    e.track(vec![view(1)], 1);
    let handshake = e.next_job(1).unwrap();
    e.forget([5; 16]);
    e.track(vec![view(2)], 2);
    e.complete(&handshake, &ok(r#"{"sessionId":"OLD"}"#), 0.5);
    let next = e.next_job(1).unwrap();
    assert!(matches!(next, Job::Initialize(_)), "still no session for the new visitor");
    assert!(!next.request().url.contains("session="), "{}", next.request().url);
    e.complete(&next, &status(0), 0.5);
    let again = e.next_job(1).unwrap();
    e.complete(&again, &status(0), 0.5);
    let codes: Vec<_> = e.take_problems().iter().map(Problem::code).collect();
    assert_eq!(codes, ["session_unavailable"], "reported once, not on every retry");
}

#[test]
fn an_opt_out_or_forget_in_another_tab_is_followed() {
    let stores = Stores::memory();
    let mut here = engine(&stores);
    let mut there = engine(&stores);
    there.forget([8; 16]);
    here.identity_changed_elsewhere();
    assert_eq!(here.visitor(), there.visitor());
    there.opt_out();
    here.identity_changed_elsewhere();
    assert_eq!(here.consent(), Consent::Refused);
    assert!(!here.track(vec![view(1)], 1));
}

#[test]
fn a_relay_never_gets_a_second_batch_while_one_is_under_way() {
    let stores = Stores::memory();
    let mut e = relay_engine(&stores, "/rr");
    e.track(vec![view(1)], 1);
    let job = e.next_job(1).unwrap();
    e.track(vec![view(2)], 2);
    assert_eq!(e.hand_off(1, HandOff::Queue), vec![], "one batch per visitor at a time");
    assert_eq!(
        stored_events(&stores),
        1,
        "the batch under way left storage (it outlives the page); the new event waits"
    );
    e.complete(&job, &status(503), 0.5);
    assert_eq!(e.pending(), 2, "the failed batch came back, in front");
    assert_eq!(e.hand_off(1, HandOff::Queue), vec![], "and nothing is handed off during the backoff");
}

fn with_cookies(rcuid: Option<&str>) -> Stores {
    let cookies = MemoryStore::default();
    if let Some(value) = rcuid {
        cookies.set(keys::RCUID, value).unwrap();
    }
    Stores { cookies: Some(Rc::new(cookies)), ..Stores::memory() }
}

fn rcuid(stores: &Stores) -> Option<String> {
    stores.cookies.as_ref().and_then(|c| c.get(keys::RCUID))
}

#[test]
fn an_rcuid_cookie_is_adopted_and_events_go_at_once() {
    let stores = with_cookies(Some("5f7a1b2c3d4e5f6a7b8c9d0e"));
    let mut e = engine(&stores);
    assert_eq!(e.session().map(RrSession::as_str), Some("5f7a1b2c3d4e5f6a7b8c9d0e"));
    e.track(vec![view(1)], 1);
    let first = e.next_job(1).unwrap();
    assert!(first.request().url.contains("/view/608423a9b126ac6ab3f8f0a5/1?session=5f7a1b2c3d4e5f6a7b8c9d0e&"));
    // The once-per-page check offers it, and does not hold the event.
    let refresh = e.take_session_refresh(2).unwrap();
    assert!(refresh.credentials);
    assert!(refresh.url.contains("/initialize/608423a9b126ac6ab3f8f0a5?session=5f7a1b2c3d4e5f6a7b8c9d0e&"));
    assert_eq!(e.take_session_refresh(3), None, "once per page load");
    e.complete(&first, &ok(""), 0.5);
    e.session_refreshed(&ok(r#"{"sessionId":"6a000000000000000000000b"}"#));
    assert_eq!(e.session().map(RrSession::as_str), Some("6a000000000000000000000b"));
    assert_eq!(rcuid(&stores).as_deref(), Some("6a000000000000000000000b"), "written back for tracking.js pages");
    e.track(vec![view(2)], 2);
    assert!(e.next_job(4).unwrap().request().url.contains("session=6a000000000000000000000b&"));
}

#[test]
fn a_minted_session_is_written_to_rcuid_unless_the_cookie_is_off() {
    let stores = with_cookies(None);
    let mut e = engine(&stores);
    e.track(vec![view(1)], 1);
    assert_eq!(e.take_session_refresh(1), None, "nothing known to check");
    run(&mut e, session_ok);
    assert_eq!(rcuid(&stores).as_deref(), Some("rrSESSION1"));
    // The next page starts from it (stored, and in the cookie).
    let mut again = engine(&stores);
    assert_eq!(again.session().map(RrSession::as_str), Some("rrSESSION1"));
    assert!(again.take_session_refresh(1).is_some());
    // A site that must not set the cookie: neither read nor written.
    let off = with_cookies(Some("5f7a1b2c3d4e5f6a7b8c9d0e"));
    let mut e = engine_with(&off, &[("sessionCookie", RawValue::Bool(false))]);
    assert_eq!(e.session(), None);
    e.track(vec![view(1)], 1);
    run(&mut e, session_ok);
    assert_eq!(rcuid(&off).as_deref(), Some("5f7a1b2c3d4e5f6a7b8c9d0e"));
}

#[test]
fn a_failed_refresh_keeps_the_session_and_forget_drops_the_cookie() {
    let stores = with_cookies(Some("5f7a1b2c3d4e5f6a7b8c9d0e"));
    let mut e = engine(&stores);
    e.take_session_refresh(1).unwrap();
    e.session_refreshed(&status(503));
    assert_eq!(e.session().map(RrSession::as_str), Some("5f7a1b2c3d4e5f6a7b8c9d0e"));
    e.forget([3; 16]);
    assert_eq!(e.session(), None);
    assert_eq!(rcuid(&stores), None);
    assert_eq!(engine(&stores).session(), None);
}

#[test]
fn events_carry_the_page_they_happened_on() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.set_page(Page { url: "https://shop.example/p/1".into(), referrer: "https://ref.example/".into() });
    e.track(vec![view(1)], 1);
    e.set_page(Page { url: "https://shop.example/p/2".into(), referrer: String::new() });
    e.track(vec![view(2)], 2);
    let (sent, _) = run(&mut e, session_ok);
    let pvid = sent[1].split("pvid=").nth(1).and_then(|s| s.split('&').next()).unwrap().to_owned();
    assert_eq!(pvid.len(), 15);
    assert!(sent[1].contains("&pageUrl=https%3A%2F%2Fshop.example%2Fp%2F1&referrer=https%3A%2F%2Fref.example%2F&"));
    assert!(sent[2].contains("&pageUrl=https%3A%2F%2Fshop.example%2Fp%2F2&referrer=&_no_cache_"), "{}", sent[2]);
    // The pvid is kept; with page context off none of it is sent.
    let mut again = engine(&stores);
    again.track(vec![view(3)], 3);
    assert!(again.next_job(1).unwrap().request().url.contains(&format!("pvid={pvid}&")));
    let mut off = engine_with(&Stores::memory(), &[("pageContext", RawValue::Bool(false))]);
    off.set_page(Page { url: "https://shop.example/".into(), referrer: "https://ref.example/".into() });
    off.track(vec![view(1)], 1);
    let (sent, _) = run(&mut off, session_ok);
    assert!(!sent[1].contains("pvid") && !sent[1].contains("pageUrl") && !sent[1].contains("referrer"), "{}", sent[1]);
}

#[test]
fn after_set_email_search_group_view_and_order_carry_the_address() {
    use crate::core::ids::{Email, LongText};
    let stores = Stores::memory();
    let mut e = engine(&stores);
    let search = || Event::Search { phrase: LongText::parse("dress").unwrap() };
    e.track(vec![search(), Event::AddToBasket { item: ItemId::parse("7").unwrap(), stock: None }, view(3)], 1);
    let set_email = Event::SetEmail {
        email: Email::parse("anna@example.com").unwrap(),
        agreed: true,
        contact: None,
        custom: Vec::new(),
        basket: Vec::new(),
        viewed: Vec::new(),
    };
    e.track(vec![set_email, search(), view(4)], 2);
    let (sent, _) = run(&mut e, session_ok);
    assert!(!sent[1].contains("email="), "not before setEmail: {}", sent[1]);
    assert!(sent[4].contains("/setEmail/") && sent[4].contains("&basket=7&viewed=3&"), "{}", sent[4]);
    assert!(sent[5].contains("/search/") && sent[5].contains("&email=anna%40example.com&"), "{}", sent[5]);
    assert!(!sent[6].contains("email="), "views do not carry it: {}", sent[6]);
}

#[test]
fn trackers_with_different_configs_on_one_origin_keep_separate_queues() {
    let stores = Stores::memory();
    let mut a = engine(&stores);
    let other_partner = [("partnerId", RawValue::Text("aaaaaaaaaaaaaaaaaaaaaaaa".into()))];
    let mut b = engine_with(&stores, &other_partner);
    let other_endpoint = [("trackingUrl", RawValue::Text("http://127.0.0.1:8".into()))];
    let mut c = engine_with(&stores, &other_endpoint);
    a.track(vec![view(1)], 1);
    b.track(vec![view(2)], 2);
    c.track(vec![view(3)], 3);
    assert_eq!((a.pending(), b.pending(), c.pending()), (1, 1, 1));
    let (sent, _) = run(&mut b, session_ok);
    assert_eq!(sent.len(), 2);
    assert!(sent[1].starts_with("http://127.0.0.1:9/1.0/event/view/aaaaaaaaaaaaaaaaaaaaaaaa/2?"), "{sent:?}");
    let (sent, _) = run(&mut c, session_ok);
    assert!(sent[1].starts_with("http://127.0.0.1:8/1.0/event/view/608423a9b126ac6ab3f8f0a5/3?"), "{sent:?}");
    assert_eq!(a.pending(), 1, "A's event waits for A");
    assert_ne!(a.space(), b.space());
    assert_ne!(a.space(), c.space());
    assert_eq!(a.space(), engine(&Stores::memory()).space(), "the same config finds its queue again");
    assert_eq!(a.space().len(), 8);
}

#[test]
fn events_stored_before_queues_had_spaces_are_adopted_in_order() {
    let stores = Stores::memory();
    let record = |n| Record::of(&view(n), n, Default::default()).encode();
    stores.queue.set("rrt:q:0000000000001:oldtab:000001", &record(1)).unwrap();
    stores.queue.set("rrt:q:0000000000002:oldtab:000002", &record(2)).unwrap();
    let mut e = engine(&stores);
    e.track(vec![view(3)], 3);
    assert_eq!(e.pending(), 3);
    let (sent, _) = run(&mut e, session_ok);
    let ids: Vec<_> = sent[1..].iter().map(|u| u.split('?').next().unwrap().rsplit('/').next().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(stored_events(&stores), 0);
}

fn timed_out() -> Reply {
    Reply { timed_out: true, ..Reply::default() }
}

#[test]
fn an_event_in_flight_when_the_page_goes_away_is_left_to_its_request_never_sent_again() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3), view(4)], 2);
    let in_flight = e.next_job(1).unwrap();
    let handed = e.hand_off(2, HandOff::Queue);
    let urls: Vec<_> = handed.iter().map(|j| j.request().url.clone()).collect();
    assert!(urls.len() == 2 && urls[0].contains("/3?") && urls[1].contains("/4?"), "not /2 again: {urls:?}");
    e.page_leaving(true);
    assert_eq!(e.next_job(3), None, "nothing new starts while the page goes away");
    // The browser cancels the page's requests as it goes: no answer, fate unknown.
    e.complete(&in_flight, &status(0), 0.5);
    for job in &handed {
        e.complete_handed_off(job, &status(0));
    }
    assert_eq!(stored_events(&stores), 0, "the next page sends none of them again");
    assert_eq!(engine(&stores).pending(), 0);
}

#[test]
fn a_retry_in_flight_during_a_backoff_is_not_sent_again_by_the_next_page() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 2);
    let first = e.next_job(1).unwrap();
    assert_eq!(e.complete(&first, &status(503), 0.5), Next::Wait(1_000));
    let retry = e.next_job(2).unwrap();
    assert_eq!(e.hand_off(3, HandOff::Queue), vec![], "nothing new is handed to a failing server");
    e.page_leaving(true);
    e.complete(&retry, &status(0), 0.5);
    assert_eq!(stored_events(&stores), 1, "only the event not yet sent is kept");
    let mut next = engine(&stores);
    let (sent, _) = run(&mut next, |_| ok(""));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("/3?"), "{sent:?}");
}

#[test]
fn event_gets_outlive_the_page_and_the_handshake_and_preflighted_posts_do_not() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.track(vec![view(1)], 1);
    let handshake = e.next_job(1).unwrap();
    assert!(matches!(handshake, Job::Initialize(_)) && !handshake.outlives_page());
    e.complete(&handshake, &session_ok(&handshake), 0.5);
    let get = e.next_job(1).unwrap();
    assert!(get.outlives_page(), "the GET under way when the page closes must still arrive");
    e.complete(&get, &ok(""), 0.5);
    e.track(vec![Event::GroupView { items: vec![ItemId::parse("5").unwrap()], stock: None, recom_item: None }], 2);
    let post = e.next_job(2).unwrap();
    assert_eq!(post.request().method, Method::Post);
    assert!(!post.outlives_page(), "a keepalive request cannot rely on a CORS preflight");
}

#[test]
fn a_group_view_post_in_flight_is_left_to_its_request_and_comes_back_only_if_the_page_lives() {
    let group = || Event::GroupView { items: vec![ItemId::parse("5").unwrap()], stock: None, recom_item: None };
    for leaving in [true, false] {
        let stores = Stores::memory();
        let mut e = engine(&stores);
        e.track(vec![view(1)], 1);
        run(&mut e, session_ok);
        e.track(vec![group()], 2);
        let post = e.next_job(1).unwrap();
        assert_eq!(post.request().method, Method::Post);
        assert_eq!(e.hand_off(2, HandOff::Queue), vec![]);
        assert_eq!(stored_events(&stores), 0, "kept by its request, not by storage");
        e.page_leaving(leaving);
        e.complete(&post, &status(0), 0.5);
        assert_eq!(stored_events(&stores), usize::from(!leaving), "leaving: {leaving}");
    }
}

#[test]
fn a_hand_off_our_timer_gave_up_on_may_still_land_and_is_not_put_back() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 2);
    let handed = e.hand_off(2, HandOff::Queue);
    assert_eq!(handed.len(), 2);
    // The page lives on (a tab switch). One keepalive request outlasts our timer; the
    // browser failed the other outright.
    e.complete_handed_off(&handed[0], &timed_out());
    e.complete_handed_off(&handed[1], &status(0));
    let (sent, _) = run(&mut e, |_| ok(""));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("/3?"), "only the failed one is sent again: {sent:?}");
    // A regular request our timer gave up on was aborted: it is retried.
    e.track(vec![view(4)], 3);
    let job = e.next_job(4).unwrap();
    assert_eq!(e.complete(&job, &timed_out(), 0.5), Next::Wait(1_000));
    assert_eq!(e.pending(), 1);
    e.page_leaving(false);
}

#[test]
fn what_the_shopper_did_stays_out_of_cookies_and_goes_with_forget_and_opt_out() {
    use crate::core::ids::Email;
    // localStorage refusing writes, with a cookie under it (as in Safari's old private mode).
    let cookie = MemoryStore::default();
    let stores = Stores {
        ids: Rc::new(crate::core::store::Chain(vec![Rc::new(cookie.clone())])),
        queue: Rc::new(MemoryStore::with_capacity(0)),
        cookies: None,
    };
    let mut e = engine(&stores);
    let set_email = || Event::SetEmail {
        email: Email::parse("anna@example.com").unwrap(),
        agreed: true,
        contact: None,
        custom: Vec::new(),
        basket: Vec::new(),
        viewed: Vec::new(),
    };
    e.track(vec![view(1), set_email()], 1);
    for key in keys::SHOPPER {
        assert_eq!(cookie.get(key), None, "{key} must never become a cookie");
    }
    // With working storage: forget() issues a new pvid and drops the address, opt-out too.
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.track(vec![set_email()], 1);
    let before = stores.queue.get(keys::PVID).unwrap();
    assert!(stores.queue.get(keys::EMAIL).is_some());
    e.forget([9; 16]);
    assert_eq!(stores.queue.get(keys::EMAIL), None);
    e.track(vec![view(2)], 2);
    let (sent, _) = run(&mut e, session_ok);
    assert!(!sent[1].contains(&format!("pvid={before}")), "the forgotten visitor's pvid is not reused");
    e.track(vec![set_email()], 3);
    e.opt_out();
    assert_eq!(stores.queue.get(keys::EMAIL), None);
}

#[test]
fn a_page_says_its_lease_and_its_end_and_one_that_said_none_writes_nothing() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.end_lease();
    assert_eq!(e.shared_lease(), None, "nothing said, nothing written (consent may be pending)");
    e.share_lease(Said { end_ms: 25_000, ttl_ms: None });
    assert_eq!(
        Engine::open(config(&[]), stores.clone(), "other", || [7; 16]).shared_lease(),
        Some(Said { end_ms: 25_000, ttl_ms: None })
    );
    e.end_lease();
    assert_eq!(e.shared_lease(), Some(Said { end_ms: 0, ttl_ms: None }), "over");
    e.share_lease(Said { end_ms: 40_000, ttl_ms: None });
    e.end_lease();
    e.end_lease();
    assert_eq!(e.shared_lease(), Some(Said { end_ms: 0, ttl_ms: None }));
    // Another tab took the lock and said its own lease: this page's end leaves it alone.
    e.share_lease(Said { end_ms: 50_000, ttl_ms: None });
    let mut taker = Engine::open(config(&[]), stores.clone(), "taker", || [7; 16]);
    taker.share_lease(Said { end_ms: 60_000, ttl_ms: None });
    e.end_lease();
    assert_eq!(e.shared_lease(), Some(Said { end_ms: 60_000, ttl_ms: None }));
    taker.end_lease();
    assert_eq!(e.shared_lease(), Some(Said { end_ms: 0, ttl_ms: None }));
}

#[test]
fn a_same_origin_relay_batch_outlives_the_page_and_a_cross_origin_one_does_not() {
    for (relay, outlives) in [("/rr-relay", true), ("https://relay.example", false)] {
        let stores = Stores::memory();
        let mut e = engine_with(&stores, &[("relayUrl", RawValue::Text(relay.into()))]);
        e.track(vec![view(1)], 1);
        let batch = e.next_job(1).unwrap();
        assert_eq!(batch.request().method, Method::Post);
        assert_eq!(batch.outlives_page(), outlives, "{relay}");
    }
    // Keepalive bodies in flight are capped at 64 KiB: a batch near that travels as a regular request.
    let batch = |body: String| Job::Deliver {
        events: vec![],
        request: WireRequest::new(Method::Post, "/rr-relay/visitorEvents?partnerId=p".into(), Some(body)),
    };
    assert!(batch("[]".into()).outlives_page());
    assert!(!batch("x".repeat(KEEPALIVE_BODY_MAX)).outlives_page());
}
