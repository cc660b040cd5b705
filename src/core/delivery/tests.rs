//! The send loop driven in virtual time: a small world performs each [`Step`] as the browser
//! layer does (the lock granted or busy, replies from a script, sleeps that only move a clock),
//! and records what it was asked to do.

use super::*;
use crate::core::engine::tests::{engine, ok, session_ok, status, view, with_session};
use crate::core::engine::{Engine, NO_ANSWER_HOLD_MS};
use crate::core::lease::{Said, GRACE_MS};
use crate::core::retry::Backoff;
use crate::core::store::Stores;

/// A test's hook, called before each step is performed.
type Before = Box<dyn FnMut(&mut World, &Step)>;

/// The browser as the send loop sees it.
struct World {
    now: Now,
    /// Another tab holds the lock (a steal takes it).
    busy: bool,
    /// The lock's lease holds (false: lost under the run, or taken by another tab).
    held: bool,
    answer: Box<dyn FnMut(&Job) -> Reply>,
    /// What the loop was asked to do, in order.
    trace: Vec<String>,
    /// Called before each step is performed: the test changes the world there.
    before: Before,
}

impl World {
    fn new(answer: impl FnMut(&Job) -> Reply + 'static) -> World {
        World {
            now: Now { ms: 1_000_000, steady_ms: 5_000, online: true, hidden: false, jitter: 0.5, held: true },
            busy: false,
            held: true,
            answer: Box::new(answer),
            trace: Vec::new(),
            before: Box::new(|_, _| {}),
        }
    }

    /// Time passes, on both clocks.
    fn pass(&mut self, ms: u64) {
        self.now.ms += ms;
        self.now.steady_ms += ms;
    }

    fn note(&mut self, step: &Step) {
        let mut before = std::mem::replace(&mut self.before, Box::new(|_, _| {}));
        before(self, step);
        self.before = before;
        let said = match step {
            Step::AskLock { steal: false } => "lock".into(),
            Step::AskLock { steal: true } => "steal".into(),
            Step::Send(job, _) => {
                let url = &job.request().url;
                let path = url.split('?').next().unwrap_or(url);
                format!("send {}", path.rsplit('/').next().unwrap_or(path))
            }
            Step::Sleep { ms, renew: true } => format!("backoff {ms}"),
            Step::Sleep { ms, renew: false } => format!("sleep {ms}"),
            Step::Release => "release".into(),
            Step::Done => "done".into(),
        };
        self.trace.push(said);
        assert!(self.trace.len() < 200, "the loop does not end: {:?}", &self.trace[..20]);
    }

    /// Runs one sender task to its end, as `js::sender` does.
    fn drive(&mut self, d: &mut Delivery, e: &mut Engine) {
        let mut step = d.step(e, Input::Started, self.now);
        loop {
            self.note(&step);
            let input = match step {
                Step::AskLock { steal } if self.busy && !steal => Input::Busy,
                Step::AskLock { .. } => {
                    self.busy = false;
                    self.run(d, e);
                    Input::Released
                }
                Step::Sleep { ms, .. } => {
                    self.pass(ms);
                    Input::Slept
                }
                Step::Done => return,
                other => panic!("{other:?} outside the lock"),
            };
            step = d.step(e, input, Now { held: true, ..self.now });
        }
    }

    /// The run under the lock.
    fn run(&mut self, d: &mut Delivery, e: &mut Engine) {
        let mut step = d.step(e, Input::Granted, self.now);
        loop {
            self.note(&step);
            let input = match step {
                Step::Send(job, _) => {
                    let reply = (self.answer)(&job);
                    self.pass(50);
                    Input::Replied(job, reply)
                }
                Step::Sleep { ms, .. } => {
                    self.pass(ms);
                    Input::Slept
                }
                Step::Release => return,
                other => panic!("{other:?} under the lock"),
            };
            step = d.step(e, input, Now { held: self.held, ..self.now });
        }
    }
}

fn delivered() -> impl FnMut(&Job) -> Reply {
    session_ok
}

#[test]
fn a_woken_sender_sends_everything_in_order_then_gives_the_lock_up() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3), view(4)], 1);
    let mut d = Delivery::new(true);
    assert!(d.tracked(), "the first event starts a sender");
    assert!(!d.wake(), "and only one");
    let mut world = World::new(delivered());
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "send 2", "send 3", "send 4", "release", "done"]);
    assert_eq!(e.pending(), 0);
    assert_eq!(e.shared_lease(), Some(Said::OVER), "the tabs standing by are told the lease is over");
    assert!(d.wake(), "a later event starts a new sender");
}

#[test]
fn a_page_that_cannot_send_never_starts_a_sender() {
    let mut d = Delivery::new(false);
    assert!(!d.tracked());
    let now = World::new(delivered()).now;
    assert_eq!(d.flush(now), Flush::Now);
    assert_eq!(d.hidden(now), Leave::Stay);
}

#[test]
fn the_lease_is_said_before_each_request() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut d = Delivery::new(true);
    d.wake();
    let now = World::new(delivered()).now;
    let Step::Send(job, transfer) = d.step(&mut e, Input::Granted, now) else { panic!("nothing to send") };
    assert_eq!(e.shared_lease(), Some(Said::new(now.ms, REQUEST_TIMEOUT_MS.into())));
    assert_eq!(
        transfer,
        Transfer { timeout_ms: REQUEST_TIMEOUT_MS, read_body: false, keepalive: true, bypass_cache: true }
    );
    assert_eq!(d.step(&mut e, Input::Replied(job, ok("")), now), Step::Release);
}

#[test]
fn only_the_handshake_reads_its_answer() {
    let stores = Stores::memory();
    let mut e = engine(&stores);
    e.track(vec![view(1)], 1);
    let mut d = Delivery::new(true);
    let Step::Send(Job::Initialize(_), transfer) = d.step(&mut e, Input::Granted, World::new(delivered()).now) else {
        panic!("a first visit starts with the handshake")
    };
    assert!(transfer.read_body);
    assert!(!transfer.keepalive, "the handshake is no delivery to leave to the browser");
}

#[test]
fn a_flush_is_answered_when_the_queue_is_empty() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut d = Delivery::new(true);
    let world = World::new(delivered());
    assert_eq!(d.flush(world.now), Flush::Later { start: true });
    assert!(!d.take_flushes());
    let mut step = d.step(&mut e, Input::Started, world.now);
    while step != Step::Release {
        assert!(!d.take_flushes(), "answered at {step:?}");
        step = match step {
            Step::AskLock { .. } => d.step(&mut e, Input::Granted, world.now),
            Step::Send(job, _) => d.step(&mut e, Input::Replied(job, ok("")), world.now),
            other => panic!("{other:?}"),
        };
    }
    assert!(!d.take_flushes(), "the lock is still being given up");
    assert_eq!(d.step(&mut e, Input::Released, world.now), Step::Done);
    assert!(d.take_flushes());
    assert!(!d.take_flushes(), "once");
}

#[test]
fn a_server_error_backs_off_holding_the_lock_and_answers_the_flush() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut failures = 1;
    let mut world =
        World::new(move |job| if std::mem::take(&mut failures) > 0 { status(503) } else { session_ok(job) });
    let mut d = Delivery::new(true);
    assert_eq!(d.flush(world.now), Flush::Later { start: true });
    let start = world.now.ms;
    let first = Backoff::BASE_MS; // jitter 0.5: the base delay itself
    world.before = Box::new(move |w, step| {
        if let Step::Sleep { renew: true, .. } = step {
            assert_eq!(w.now.ms, start + 50, "backs off right after the reply");
        }
    });
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "send 2", format!("backoff {first}").as_str(), "send 2", "release", "done"]);
    assert_eq!(e.pending(), 0);
    let mut d = Delivery::new(true);
    e.track(vec![view(3)], 1);
    let mut world = World::new(|_| status(503));
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, world.now) else { panic!() };
    assert_eq!(d.flush(world.now), Flush::Later { start: false });
    world.now.ms += 50;
    assert_eq!(d.step(&mut e, Input::Replied(job, status(503)), world.now), Step::Sleep { ms: first, renew: true });
    assert!(d.take_flushes(), "a failed attempt answers the flush");
    assert_eq!(d.flush(world.now), Flush::Now, "and so it does while waiting");
    // The other tabs are told how long the sender waits (they hand nothing off meanwhile) and
    // that it holds the lock until then.
    assert_eq!(e.shared_lease(), Some(Said::new(world.now.ms, first)));
    let wait = crate::core::store::Store::get(&stores.queue, &format!("{}:{}", crate::core::keys::WAIT, e.space()));
    assert_eq!(wait, Some((world.now.ms + first).to_string()));
}

#[test]
fn a_failure_without_an_answer_is_held_before_it_is_believed() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut failed = false;
    let mut world = World::new(move |job| {
        if std::mem::replace(&mut failed, true) {
            session_ok(job)
        } else {
            Reply { status: 0, ..Reply::default() }
        }
    });
    let mut d = Delivery::new(true);
    world.drive(&mut d, &mut e);
    let first = Backoff::BASE_MS;
    assert_eq!(
        world.trace,
        [
            "lock",
            "send 2",
            format!("sleep {NO_ANSWER_HOLD_MS}").as_str(),
            format!("backoff {first}").as_str(),
            "send 2",
            "release",
            "done"
        ]
    );
    assert_eq!(e.pending(), 0);
}

#[test]
fn offline_the_sender_stops_and_a_flush_is_answered_at_once() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut d = Delivery::new(true);
    let mut world = World::new(delivered());
    world.now.online = false;
    assert_eq!(d.flush(world.now), Flush::Now);
    d.wake();
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "release", "done"]);
    assert_eq!(e.pending(), 1, "kept for when the browser is back online");
}

#[test]
fn a_busy_lock_stands_by_rechecking_with_jitter_until_nothing_is_left() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut d = Delivery::new(true);
    assert!(d.tracked());
    let mut world = World::new(delivered());
    world.busy = true;
    world.now.jitter = 0.25;
    assert_eq!(d.flush(world.now), Flush::Later { start: false });
    let mut rechecks = 0;
    let queue = stores.queue.clone();
    world.before = Box::new(move |w, step| {
        if let Step::Sleep { .. } = step {
            rechecks += 1;
            // The holder sent this tab's event on its second round.
            if rechecks == 2 {
                for key in crate::core::store::Store::keys_with_prefix(&queue, crate::core::keys::QUEUE_PREFIX) {
                    crate::core::store::Store::remove(&queue, &key);
                }
                w.busy = true;
            }
        }
    });
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "sleep 2250", "lock", "sleep 2250", "done"]);
    assert_eq!(d.hidden(world.now), Leave::HandOffUnderLock, "standing by, it heard back: not its own events");
}

#[test]
fn standing_by_answers_a_flush_at_once() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut d = Delivery::new(true);
    d.wake();
    let now = World::new(delivered()).now;
    assert_eq!(d.flush(now), Flush::Later { start: false });
    assert!(matches!(d.step(&mut e, Input::Busy, now), Step::Sleep { renew: false, .. }));
    assert!(d.take_flushes());
    assert_eq!(d.flush(now), Flush::Now);
    assert!(!d.tracked(), "a tab standing by checks back by itself");
}

/// A word on the lease as an older version wrote it (an end, no duration), or 0: over.
fn word(end_ms: u64) -> Said {
    Said { end_ms, ttl_ms: None }
}

/// A second tab over the same storage holds the lock and said its lease ends at `end_ms` (the
/// older word, judged by the wall clock: see `Takeover`).
fn holder_said(stores: &Stores, end_ms: u64) {
    engine(stores).share_lease(word(end_ms));
}

#[test]
fn a_holder_whose_lease_stays_over_has_its_lock_taken() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut world = World::new(delivered());
    holder_said(&stores, world.now.ms - 1);
    world.busy = true;
    let mut d = Delivery::new(true);
    d.wake();
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "sleep 2500", "lock", "sleep 2500", "steal", "send 2", "release", "done"]);
    assert_eq!(e.pending(), 0);
}

#[test]
fn a_holder_that_speaks_again_or_never_spoke_keeps_its_lock() {
    for said in [Some(1_000), None] {
        let stores = Stores::memory();
        let mut e = with_session(&stores);
        e.track(vec![view(2)], 1);
        let mut world = World::new(delivered());
        world.busy = true;
        let mut rounds = 0;
        let for_holder = stores.clone();
        world.before = Box::new(move |w, step| {
            if let Step::Sleep { .. } = step {
                rounds += 1;
                // A lapsed end said anew each round (a holder granted again), or nothing said.
                if let Some(said) = said {
                    holder_said(&for_holder, said + rounds);
                }
                if rounds == 4 {
                    w.now.online = false;
                }
            }
        });
        let mut d = Delivery::new(true);
        d.wake();
        world.drive(&mut d, &mut e);
        assert!(!world.trace.iter().any(|s| s == "steal"), "{said:?}: {:?}", world.trace);
    }
}

#[test]
fn a_lease_lost_under_a_live_page_is_asked_for_again_without_ending_the_takers_lease() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 1);
    let mut world = World::new(delivered());
    let for_taker = stores.clone();
    let mut lost = false;
    world.before = Box::new(move |w, step| {
        // Another tab took the lock while the first request was under way, and said its lease.
        if matches!(step, Step::Send(..)) && !std::mem::replace(&mut lost, true) {
            w.held = false;
            holder_said(&for_taker, 42);
        } else if matches!(step, Step::AskLock { .. }) {
            w.held = true;
        }
    });
    let mut d = Delivery::new(true);
    d.wake();
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "send 2", "release", "lock", "send 3", "release", "done"]);
    assert_eq!(e.pending(), 0);
}

#[test]
fn a_lock_taken_during_a_failed_attempt_leaves_the_backoff_to_the_taker() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut d = Delivery::new(true);
    let mut world = World::new(|_| status(503));
    world.now.hidden = true;
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, world.now) else { panic!() };
    holder_said(&stores, 42);
    assert_eq!(d.step(&mut e, Input::Replied(job, status(503)), Now { held: false, ..world.now }), Step::Release);
    assert_eq!(e.shared_lease(), Some(word(42)), "neither the wait nor the lease is said over the taker's");
    assert_eq!(d.step(&mut e, Input::Released, world.now), Step::Done, "a hidden page does not ask again");
}

#[test]
fn a_hidden_page_hands_off_as_its_role_allows() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut now = World::new(delivered()).now;
    let mut d = Delivery::new(true);
    assert_eq!(d.hidden(now), Leave::HandOffUnderLock, "nothing tracked here: ask for the lock first");
    d.tracked();
    assert_eq!(d.hidden(now), Leave::HandOff(HandOff::OwnEvents), "tracked, lock not yet granted");
    let Step::Send(..) = d.step(&mut e, Input::Granted, now) else { panic!() };
    assert_eq!(d.hidden(now), Leave::HandOff(HandOff::Queue), "the site's sender");
    now.online = false;
    assert_eq!(d.hidden(now), Leave::Stay);
}

#[test]
fn pagehide_ends_only_the_holders_lease() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 1);
    let now = World::new(delivered()).now;
    let mut d = Delivery::new(true);
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, now) else { panic!() };
    let ours = e.shared_lease();
    // Robbed while its request was under way, before the taker said anything: the record still
    // holds this page's lease, and its pagehide must not call it over.
    assert_eq!(d.step(&mut e, Input::Replied(job, ok("")), Now { held: false, ..now }), Step::Release);
    d.page_leaving(&mut e, true);
    assert_eq!(e.shared_lease(), ours, "the taker's lease is not called over");

    let mut holder = Delivery::new(true);
    let mut e = with_session(&Stores::memory());
    e.track(vec![view(2)], 1);
    let Step::Send(..) = holder.step(&mut e, Input::Granted, now) else { panic!() };
    holder.page_leaving(&mut e, true);
    assert_eq!(e.shared_lease(), Some(Said::OVER), "the holder's lease is over with its page");
}

#[test]
fn a_robbed_page_says_nothing_of_the_lease_before_the_taker_does() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 1);
    let mut d = Delivery::new(true);
    let now = World::new(delivered()).now;
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, now) else { panic!() };
    let ours = e.shared_lease();
    // Taken while the request was under way; the taker has not said its lease yet. Were this
    // page to say "over" (0), the tabs standing by would count the taker's lease as lapsed.
    assert_eq!(d.step(&mut e, Input::Replied(job, ok("")), Now { held: false, ..now }), Step::Release);
    assert_eq!(e.shared_lease(), ours);
}

#[test]
fn only_a_tab_that_has_not_heard_back_hands_off_its_own_events() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let now = World::new(delivered()).now;
    // Standing by, it heard back: another tab is the sender.
    let mut d = Delivery::new(true);
    d.wake();
    d.step(&mut e, Input::Busy, now);
    d.tracked();
    assert_eq!(d.hidden(now), Leave::HandOffUnderLock);
    // Granted, it heard back too; after its run it is no sender any more.
    let mut d = Delivery::new(true);
    d.tracked();
    let mut world = World::new(delivered());
    world.drive(&mut d, &mut e);
    assert_eq!(d.hidden(now), Leave::HandOffUnderLock);
}

#[test]
fn a_lost_lease_is_asked_for_again_only_if_there_is_something_to_send_and_a_way_to() {
    for (pending, online, hidden, again) in
        [(true, true, false, true), (false, true, false, false), (true, false, false, false), (true, true, true, false)]
    {
        let stores = Stores::memory();
        let mut e = with_session(&stores);
        e.track(vec![view(2)], 1);
        if !pending {
            crate::core::store::Store::keys_with_prefix(&stores.queue, crate::core::keys::QUEUE_PREFIX)
                .iter()
                .for_each(|k| crate::core::store::Store::remove(&stores.queue, k));
        }
        let now = Now { online, hidden, ..World::new(delivered()).now };
        let mut d = Delivery::new(true);
        d.wake();
        // Granted, and the lease ran out before the first step.
        assert_eq!(d.step(&mut e, Input::Granted, Now { held: false, ..now }), Step::Release);
        let step = d.step(&mut e, Input::Released, now);
        assert_eq!(
            step == (Step::AskLock { steal: false }),
            again,
            "pending {pending}, online {online}, hidden {hidden}"
        );
    }
}

#[test]
fn a_new_round_of_standby_checks_forgets_the_last() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut world = World::new(delivered());
    // A holder that said its lease is over: the first round sees that once, then has nothing
    // left to send (the holder sent it after all).
    holder_said(&stores, world.now.ms - 1);
    world.busy = true;
    let queue = stores.queue.clone();
    let mut sleeps = 0;
    world.before = Box::new(move |_, step| {
        if let Step::Sleep { .. } = step {
            sleeps += 1;
            if sleeps < 2 {
                return;
            }
            for key in crate::core::store::Store::keys_with_prefix(&queue, crate::core::keys::QUEUE_PREFIX) {
                crate::core::store::Store::remove(&queue, &key);
            }
        }
    });
    let mut d = Delivery::new(true);
    d.wake();
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "sleep 2500", "lock", "sleep 2500", "done"]);
    // A later round sees the same lapsed end: twice in this round before it takes the lock.
    e.track(vec![view(3)], 1);
    world.trace.clear();
    world.busy = true;
    world.before = Box::new(|_, _| {});
    d.wake();
    world.drive(&mut d, &mut e);
    assert_eq!(world.trace, ["lock", "sleep 2500", "lock", "sleep 2500", "steal", "send 3", "release", "done"]);
}

#[test]
fn a_sender_whose_state_cannot_be_reached_stops_and_can_start_again() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let now = World::new(delivered()).now;
    let mut d = Delivery::new(true);
    assert_eq!(d.flush(now), Flush::Later { start: true });
    let Step::Send(..) = d.step(&mut e, Input::Granted, now) else { panic!() };
    d.abandon();
    assert!(d.take_flushes(), "a flush does not wait for a sender that stopped");
    assert_ne!(d.hidden(now), Leave::HandOff(HandOff::Queue), "no longer the lock's holder");
    assert!(d.wake(), "the next event starts a sender");
}

#[test]
fn a_reply_held_when_the_sender_stopped_is_not_believed_by_the_next_run() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 1);
    let now = World::new(delivered()).now;
    let mut d = Delivery::new(true);
    d.wake();
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, now) else { panic!() };
    let no_answer = Reply { status: 0, ..Reply::default() };
    assert_eq!(
        d.step(&mut e, Input::Replied(job, no_answer), now),
        Step::Sleep { ms: NO_ANSWER_HOLD_MS, renew: false }
    );
    d.abandon();
    // The next run: its own first attempt fails, and its backoff ends in a retry of its own
    // event, not in the stale reply of the stopped run.
    d.wake();
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, now) else { panic!() };
    assert!(matches!(d.step(&mut e, Input::Replied(job, status(503)), now), Step::Sleep { renew: true, .. }));
    assert!(matches!(d.step(&mut e, Input::Slept, now), Step::Send(..)));
}

#[test]
fn randomness_is_read_only_for_the_steps_that_use_it() {
    let job = Job::Initialize(crate::core::wire::WireRequest::new(crate::core::wire::Method::Get, "u".into(), None));
    let takes: Vec<bool> = [
        Input::Started,
        Input::Busy,
        Input::Granted,
        Input::Replied(job, ok("")),
        Input::Slept,
        Input::Released,
        Input::Freed,
    ]
    .iter()
    .map(Input::takes_jitter)
    .collect();
    assert_eq!(takes, [false, true, false, true, true, false, false]);
}

#[test]
fn a_frozen_holder_loses_the_lock_once_its_word_is_older_than_it_said_whatever_the_wall_clock() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let mut world = World::new(delivered());
    // The holder said a lease of one request's time, then froze (a page in the back/forward
    // cache). This tab's wall clock is then set back ten minutes: by it, that lease is far off.
    engine(&stores).share_lease(Said::new(world.now.ms, REQUEST_TIMEOUT_MS.into()));
    world.busy = true;
    let mut set_back = false;
    world.before = Box::new(move |w, step| {
        if matches!(step, Step::Sleep { .. }) && !std::mem::replace(&mut set_back, true) {
            w.now.ms -= 600_000;
        }
    });
    let mut d = Delivery::new(true);
    d.wake();
    world.drive(&mut d, &mut e);
    // First seen at the first recheck; taken at the recheck a whole lease (10 s + grace) later.
    let rechecks = 1 + (u64::from(REQUEST_TIMEOUT_MS) + GRACE_MS).div_ceil(2_500) as usize;
    let mut expected: Vec<&str> = ["lock", "sleep 2500"].repeat(rechecks);
    expected.extend(["steal", "send 2", "release", "done"]);
    assert_eq!(world.trace, expected);
}

#[test]
fn a_closed_tracker_sends_nothing_more_and_its_tasks_end_at_their_next_step() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 1);
    let now = World::new(delivered()).now;
    // Closed in the middle of its run: the request under way ends, nothing follows it.
    let mut d = Delivery::new(true);
    assert_eq!(d.flush(now), Flush::Later { start: true });
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, now) else { panic!() };
    d.close();
    assert!(d.take_flushes(), "a waiting flush is answered");
    assert_eq!(d.step(&mut e, Input::Replied(job, ok("")), now), Step::Release);
    assert_eq!(d.step(&mut e, Input::Released, now), Step::Done);
    assert_eq!(e.pending(), 1, "the rest stays stored for the next tracker");
    assert!(!d.wake() && !d.tracked());
    assert_eq!(d.flush(now), Flush::Now);
    assert_eq!(d.hidden(now), Leave::Stay);
    // Closed while standing by: its next check ends the task.
    let mut d = Delivery::new(true);
    d.wake();
    assert!(matches!(d.step(&mut e, Input::Busy, now), Step::Sleep { .. }));
    d.close();
    assert_eq!(d.step(&mut e, Input::Slept, now), Step::Done);
}

#[test]
fn a_tracker_freed_while_the_page_hears_of_problems_makes_no_send_it_had_decided() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2), view(3)], 1);
    let now = World::new(delivered()).now;
    let mut d = Delivery::new(true);
    // The first event is refused (reported to onError), and the next is decided at once; then
    // onError frees the tracker, and the browser layer reports that instead of sending.
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, now) else { panic!() };
    assert!(matches!(d.step(&mut e, Input::Replied(job, status(400)), now), Step::Send(..)));
    d.close();
    assert_eq!(d.step(&mut e, Input::Freed, now), Step::Release);
    assert_eq!(e.pending(), 1, "the event it had decided stays stored");
    assert_eq!(e.shared_lease(), Some(Said::OVER));
}

#[test]
fn a_freed_tracker_gives_the_lock_up_instead_of_waiting_out_a_backoff() {
    let stores = Stores::memory();
    let mut e = with_session(&stores);
    e.track(vec![view(2)], 1);
    let now = World::new(delivered()).now;
    let mut d = Delivery::new(true);
    let Step::Send(job, _) = d.step(&mut e, Input::Granted, now) else { panic!() };
    d.close();
    assert_eq!(d.step(&mut e, Input::Replied(job, status(503)), now), Step::Release);
    let wait = crate::core::store::Store::get(&stores.queue, &format!("{}:{}", crate::core::keys::WAIT, e.space()));
    assert_eq!(wait, Some((now.ms + Backoff::BASE_MS).to_string()), "the other tabs still hear how long to wait");
}
