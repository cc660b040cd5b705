//! The tracker's brain, free of any browser API: it queues events, decides what to send next,
//! and reads replies. The browser side only moves bytes and keeps time.
//!
//! ```text
//! track(events) ──▶ queue (storage) ──▶ next_job() ──▶ [transport] ──▶ complete(reply) ──▶ Next
//! ```

use super::attribution;
use super::config::Config;
use super::event::Event;
use super::identity;
use super::ids::{ItemId, RrSession, SessionExternalId};
use super::problem::Problem;
use super::queue::Queue;
use super::record::Record;
use super::retry::{verdict, Backoff, Verdict};
use super::store::Store;
use super::wire::{parse_session, Tracking, WireRequest};

/// A request the engine wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Ask Retail Rocket for the visitor's session; every event waits for it.
    Initialize(WireRequest),
    /// Deliver the queued event stored under `key`.
    Deliver {
        /// The event's queue key.
        key: String,
        /// The event's wire name, for reports.
        event: &'static str,
        /// What to send.
        request: WireRequest,
    },
}

impl Job {
    /// The request to send.
    pub fn request(&self) -> &WireRequest {
        match self {
            Job::Initialize(r) | Job::Deliver { request: r, .. } => r,
        }
    }
}

/// What the transport got back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// HTTP status; 0 for a network error or timeout.
    pub status: u16,
    /// Response body (only read for the session handshake).
    pub body: String,
    /// The server's `Retry-After`, converted to milliseconds.
    pub retry_after_ms: Option<u64>,
}

/// What the sender should do after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the next job right away.
    Continue,
    /// Wait this many milliseconds, then try again.
    Wait(u64),
}

/// One visitor's tracker state.
#[derive(Debug)]
pub struct Engine<S> {
    config: Config,
    ids: S,
    visitor: SessionExternalId,
    session: Option<RrSession>,
    queue: Queue<S>,
    backoff: Backoff,
    problems: Vec<Problem>,
    storage_warned: bool,
}

impl<S: Store + Clone> Engine<S> {
    /// Opens the tracker: resolves the visitor id from `ids` and the queue in `queue_store`.
    /// `tab` distinguishes this page's queue writes from other tabs'; `random` seeds a new
    /// visitor id if one is needed.
    pub fn open(
        config: Config,
        ids: S,
        queue_store: S,
        tab: &str,
        random: impl FnOnce() -> [u8; 16],
    ) -> Self {
        let visitor = identity::resolve_visitor(&ids, config.session_external_id.clone(), random);
        let session = identity::stored_session(&ids, &visitor);
        let queue = Queue::new(queue_store, tab, config.max_queue as usize);
        Engine {
            config,
            ids,
            visitor,
            session,
            queue,
            backoff: Backoff::default(),
            problems: Vec::new(),
            storage_warned: false,
        }
    }
}

impl<S: Store> Engine<S> {
    /// The visitor's `sessionExternalId`.
    pub fn visitor(&self) -> &SessionExternalId {
        &self.visitor
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The recommended item a view of `viewed` should credit, if one was clicked recently.
    pub fn recommendation_credit(&self, viewed: &[ItemId], now_ms: u64) -> Option<ItemId> {
        attribution::credit(&self.ids, viewed, now_ms)
    }

    /// Remembers a click on a recommended item, to credit the view that follows.
    pub fn remember_recommendation_click(&self, item: ItemId, now_ms: u64) {
        attribution::remember_click(&self.ids, item, now_ms);
    }

    /// Queues events (all written to storage before this returns).
    pub fn track(&mut self, events: Vec<Event>, now_ms: u64) {
        let mut dropped = 0;
        for event in events {
            let pushed = self.queue.push(&Record {
                event,
                at_ms: now_ms,
            });
            dropped += pushed.dropped;
            if !pushed.durable && !self.storage_warned {
                self.storage_warned = true;
                self.problems.push(Problem::StorageUnavailable);
            }
        }
        if dropped > 0 {
            self.problems.push(Problem::QueueFull {
                dropped,
                max: self.config.max_queue,
            });
        }
    }

    /// Reports a problem found outside the engine (a refused tracking call).
    pub fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Problems since the last call, oldest first.
    pub fn take_problems(&mut self) -> Vec<Problem> {
        let unreadable = self.queue.take_unreadable();
        if unreadable > 0 {
            self.problems
                .push(Problem::Unreadable { count: unreadable });
        }
        std::mem::take(&mut self.problems)
    }

    /// Events not yet delivered (in every tab of this site).
    pub fn pending(&mut self) -> usize {
        self.queue.len()
    }

    /// Another tab changed the shared queue.
    pub fn queue_changed_elsewhere(&mut self) {
        self.queue.mark_stale();
    }

    /// The next request to send, if any. `nonce` defeats caches along the way.
    pub fn next_job(&mut self, nonce: u64) -> Option<Job> {
        let tracking = Tracking {
            base: &self.config.tracking_url,
            partner_id: &self.config.partner_id,
        };
        let Some(session) = &self.session else {
            // Nothing can be sent before Retail Rocket names the session; don't ask for one
            // until there is something to send.
            self.queue.oldest()?;
            return Some(Job::Initialize(
                tracking.initialize(self.visitor.as_str(), nonce),
            ));
        };
        let (key, record) = self.queue.oldest()?;
        let request = tracking.event(&record.event, session, &self.visitor, nonce);
        Some(Job::Deliver {
            key,
            event: record.event.name(),
            request,
        })
    }

    /// Takes the reply to `job`. `jitter` is a random number in `0..1`.
    pub fn complete(&mut self, job: &Job, reply: &Reply, jitter: f64) -> Next {
        match (job, verdict(reply.status)) {
            (Job::Initialize(_), Verdict::Delivered) => match parse_session(&reply.body) {
                Some(session) => {
                    identity::save_session(&self.ids, &self.visitor, &session);
                    self.session = Some(session);
                    self.backoff.succeeded();
                    Next::Continue
                }
                None => Next::Wait(self.backoff.failed_keep_trying(None, jitter)),
            },
            (Job::Initialize(_), _) => Next::Wait(
                self.backoff
                    .failed_keep_trying(reply.retry_after_ms, jitter),
            ),
            (Job::Deliver { key, .. }, Verdict::Delivered) => {
                self.queue.remove(key);
                self.backoff.succeeded();
                Next::Continue
            }
            (Job::Deliver { key, event, .. }, Verdict::Refused) => {
                self.queue.remove(key);
                self.backoff.succeeded();
                self.problems.push(Problem::Refused {
                    event,
                    status: reply.status,
                });
                Next::Continue
            }
            (Job::Deliver { key, event, .. }, Verdict::Retry) => {
                match self.backoff.failed(reply.retry_after_ms, jitter) {
                    Some(delay) => Next::Wait(delay),
                    None => {
                        let attempts = self.backoff.failures();
                        self.queue.remove(key);
                        self.backoff.succeeded();
                        self.problems.push(Problem::GaveUp { event, attempts });
                        Next::Continue
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{ConfigBuilder, RawValue};
    use crate::core::store::MemoryStore;
    use crate::core::wire::Method;

    fn config(max_queue: f64) -> Config {
        let mut b = ConfigBuilder::default();
        b.set(
            "partnerId",
            &RawValue::Text("608423a9b126ac6ab3f8f0a5".into()),
        )
        .unwrap();
        b.set("trackingUrl", &RawValue::Text("http://127.0.0.1:9".into()))
            .unwrap();
        b.set("maxQueue", &RawValue::Number(max_queue)).unwrap();
        b.build().unwrap()
    }

    fn view(n: u64) -> Event {
        Event::View {
            item: ItemId::parse(&n.to_string()).unwrap(),
            stock: None,
            recom_item: None,
        }
    }

    fn ok(body: &str) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            retry_after_ms: None,
        }
    }

    fn status(code: u16) -> Reply {
        Reply {
            status: code,
            ..Reply::default()
        }
    }

    fn engine(store: &MemoryStore) -> Engine<MemoryStore> {
        Engine::open(config(100.0), store.clone(), store.clone(), "tab", || {
            [7; 16]
        })
    }

    /// Sends every job with `answer` until the engine has nothing left or asks to wait.
    fn run(
        e: &mut Engine<MemoryStore>,
        mut answer: impl FnMut(&Job) -> Reply,
    ) -> (Vec<String>, Option<u64>) {
        let mut sent = Vec::new();
        while let Some(job) = e.next_job(1) {
            sent.push(job.request().url.clone());
            if let Next::Wait(ms) = e.complete(&job, &answer(&job), 0.5) {
                return (sent, Some(ms));
            }
        }
        (sent, None)
    }

    #[test]
    fn nothing_is_sent_before_there_is_something_to_send() {
        let store = MemoryStore::default();
        assert_eq!(engine(&store).next_job(1), None);
    }

    #[test]
    fn the_first_event_asks_for_a_session_offering_our_own_id() {
        let store = MemoryStore::default();
        let mut e = engine(&store);
        e.track(vec![view(1), view(2)], 10);
        let visitor = e.visitor().as_str().to_owned();
        let (sent, wait) = run(&mut e, |job| match job {
            Job::Initialize(_) => ok(r#"{"sessionId":"rrSESSION1"}"#),
            Job::Deliver { .. } => ok(""),
        });
        assert_eq!(wait, None);
        assert!(sent[0].contains(&format!(
            "/1.0/event/initialize/608423a9b126ac6ab3f8f0a5?session={visitor}&"
        )));
        assert!(sent[1]
            .contains("/view/608423a9b126ac6ab3f8f0a5/1?session=rrSESSION1&sessionExternalId="));
        assert!(sent[2].contains("/view/608423a9b126ac6ab3f8f0a5/2?"));
        assert_eq!(sent.len(), 3);
        assert_eq!(e.pending(), 0);

        // The next page load reuses the session and the id.
        let mut again = engine(&store);
        assert_eq!(again.visitor().as_str(), visitor);
        again.track(vec![view(3)], 20);
        let (sent, _) = run(&mut again, |_| ok(""));
        assert_eq!(sent.len(), 1);
        assert!(sent[0].contains("/view/608423a9b126ac6ab3f8f0a5/3?session=rrSESSION1&"));
    }

    #[test]
    fn server_errors_are_retried_in_order_and_delivered_once() {
        let store = MemoryStore::default();
        identity::save_session(
            &store,
            engine(&store).visitor(),
            &RrSession::parse("s").unwrap(),
        );
        let mut e = engine(&store);
        e.track(vec![view(1), view(2)], 10);
        let mut failures_left = 3;
        let mut delivered = Vec::new();
        let mut waits = Vec::new();
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
        let store = MemoryStore::default();
        let mut e = engine(&store);
        e.track(vec![view(1)], 10);
        let (_, wait) = run(&mut e, |job| match job {
            Job::Initialize(_) => ok(r#"{"sessionId":"s"}"#),
            Job::Deliver { .. } => Reply {
                status: 429,
                body: String::new(),
                retry_after_ms: Some(7_000),
            },
        });
        assert_eq!(wait, Some(7_000));
        assert_eq!(e.pending(), 1);
    }

    #[test]
    fn refused_events_are_dropped_reported_and_later_ones_still_go() {
        let store = MemoryStore::default();
        let mut e = engine(&store);
        e.track(vec![view(1), view(2)], 10);
        let (sent, wait) = run(&mut e, |job| match job {
            Job::Initialize(_) => ok(r#"{"sessionId":"s"}"#),
            Job::Deliver { request, .. } if request.url.contains("/1?") => status(400),
            Job::Deliver { .. } => ok(""),
        });
        assert_eq!((sent.len(), wait), (3, None));
        assert_eq!(
            e.take_problems(),
            [Problem::Refused {
                event: "view",
                status: 400
            }]
        );
        assert_eq!(e.pending(), 0);
    }

    #[test]
    fn attempts_are_capped() {
        let store = MemoryStore::default();
        let mut e = engine(&store);
        e.track(vec![view(1)], 10);
        let mut rounds = 0;
        while let (_, Some(_)) = run(&mut e, |job| match job {
            Job::Initialize(_) => ok(r#"{"sessionId":"s"}"#),
            Job::Deliver { .. } => status(500),
        }) {
            rounds += 1;
        }
        assert_eq!(rounds, Backoff::MAX_ATTEMPTS - 1);
        assert_eq!(
            e.take_problems(),
            [Problem::GaveUp {
                event: "view",
                attempts: Backoff::MAX_ATTEMPTS
            }]
        );
    }

    #[test]
    fn a_failing_handshake_keeps_events_waiting() {
        let store = MemoryStore::default();
        let mut e = engine(&store);
        e.track(vec![view(1)], 10);
        for _ in 0..20 {
            let (sent, wait) = run(&mut e, |_| status(0));
            assert_eq!(sent.len(), 1);
            assert!(wait.is_some());
        }
        assert_eq!(e.pending(), 1);
        let (sent, _) = run(&mut e, |job| match job {
            Job::Initialize(_) => ok(r#"{"sessionId":"s"}"#),
            Job::Deliver { .. } => ok(""),
        });
        assert_eq!(sent.len(), 2);
    }

    #[test]
    fn group_views_post() {
        let store = MemoryStore::default();
        let mut e = engine(&store);
        let items = vec![ItemId::parse("1").unwrap(), ItemId::parse("2").unwrap()];
        e.track(
            vec![Event::GroupView {
                items,
                stock: None,
                recom_item: None,
            }],
            1,
        );
        let mut methods = Vec::new();
        run(&mut e, |job| {
            methods.push(job.request().method);
            match job {
                Job::Initialize(_) => ok(r#"{"sessionId":"s"}"#),
                Job::Deliver { .. } => ok(""),
            }
        });
        assert_eq!(methods, [Method::Get, Method::Post]);
    }

    #[test]
    fn a_full_queue_reports_what_it_dropped() {
        let store = MemoryStore::default();
        let mut e = Engine::open(config(2.0), store.clone(), store.clone(), "t", || [1; 16]);
        e.track(vec![view(1), view(2), view(3)], 1);
        assert_eq!(
            e.take_problems(),
            [Problem::QueueFull { dropped: 1, max: 2 }]
        );
        assert_eq!(e.pending(), 2);
    }
}
