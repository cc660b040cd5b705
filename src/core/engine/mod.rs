//! The tracker's brain, free of any browser API: it queues events, decides what to send next,
//! and reads replies. The browser side only moves bytes, keeps time and reports page lifecycle.
//!
//! ```text
//! track(events) ──▶ queue (storage) ──▶ next_job() ──▶ [transport] ──▶ complete(reply) ──▶ Next
//!                                   └─▶ hand_off() (page hidden) ──▶ [keepalive transport]
//! ```
//!
//! This file holds the engine's state and tracking; each concern has its own file: `sending`
//! (what goes out next, what a reply means), `leaving` (hand-offs when the page goes away),
//! `session` (Retail Rocket's session) and `consent` (opt-in, opt-out, forget).

mod consent;
mod leaving;
mod sending;
mod session;
#[cfg(test)]
pub(crate) mod tests;

use super::attribution;
use super::config::is_same_origin_path;
use super::config::Config;
use super::event::{Event, Kind};
use super::identity;
use super::ids::{ItemId, RrSession, SessionExternalId};
use super::keys;
use super::problem::Problem;
use super::queue::{Entry, Queue};
use super::record::{Context, Record};
use super::relay;
use super::retry::{verdict, Backoff, Verdict};
use super::shopper;
use super::store::{SharedStore, Stores};
use super::wire::{parse_session, Method, Reply, Tracking, WireRequest};

/// Longest page URL or referrer sent with events; a longer one is left out.
pub const MAX_PAGE_URL: usize = 2000;

/// The page events are tracked on, as the browser layer last read it.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// `location.href`.
    pub url: String,
    /// `document.referrer`.
    pub referrer: String,
}

/// Largest body sent with `keepalive`: browsers refuse a keepalive request once the bodies of
/// those in flight pass 64 KiB (a large relay batch then travels as a regular request).
const KEEPALIVE_BODY_MAX: usize = 60_000;

/// Most events handed to the browser at once when the page is hidden.
pub const HAND_OFF_LIMIT: usize = 50;

/// The one rule for a delivery that failed without any answer (status 0, before our own
/// timer): a page that is going away hears its requests fail although they reached the server,
/// or still will. Chromium stops a page that is still loading as soon as a navigation away from
/// it starts, failing the request under way before `beforeunload`; Chromium and Firefox report a
/// closing page's keepalive requests as failed while they deliver them; every engine cancels
/// a regular request (a preflighted POST) under way as the page goes. So such a failure is held this long (see
/// [`Engine::settle_after_ms`]) and believed only by a page that is still there after it and not
/// going away (no `pagehide`): that page keeps the event, or puts it back if it had taken it out
/// of storage, and retries it. A page that goes away in the meantime has taken the event out of
/// storage (see [`Engine::hand_off`]) and leaves it to that request: it is lost only if the
/// request never reached the server. While a failure is held, nothing more is handed off.
pub const NO_ANSWER_HOLD_MS: u64 = 2_000;

/// What a hidden page may hand to the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOff {
    /// This tab is the site's sender: the head of the shared queue.
    Queue,
    /// This tab has just tracked events and not yet heard whether it is the sender: only its own
    /// events, and only in the direct protocol (a relay batch could repeat the sender's).
    OwnEvents,
}

/// Most events in one relay batch.
pub const RELAY_BATCH: usize = 50;

/// A request the engine wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Ask Retail Rocket for the visitor's session; every event waits for it.
    Initialize(WireRequest),
    /// Deliver queued events: one in the direct protocol, a batch through a relay.
    Deliver {
        /// The events the request carries.
        events: Vec<Sending>,
        /// What to send.
        request: WireRequest,
    },
}

/// A queued event whose request is under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sending {
    /// The event's queue key.
    pub key: String,
    /// Its stored line, to put back if a handed-off send fails.
    pub line: String,
    /// The event's wire name, for reports.
    pub event: &'static str,
}

impl Sending {
    fn of(entry: &Entry) -> Sending {
        Sending { key: entry.key.clone(), line: entry.line.clone(), event: entry.record.parts.kind.name }
    }
}

impl Job {
    /// The request to send.
    pub fn request(&self) -> &WireRequest {
        match self {
            Job::Initialize(r) | Job::Deliver { request: r, .. } => r,
        }
    }

    /// Whether the request travels with `keepalive`, outliving the page: every delivery that
    /// needs no CORS preflight (a GET, or a batch to a same-origin relay). The events under way
    /// when the page goes away are left to their request (see [`Engine::hand_off`]), and Firefox
    /// cancels a regular request with a closing page. While the page lives, our timer's abort
    /// ends such a request as it does any (the Fetch standard aborts a live document's
    /// keepalive requests; not measured here), so a regular send that timed out is retried.
    pub fn outlives_page(&self) -> bool {
        matches!(self, Job::Deliver { request, .. }
            if request.method == Method::Get
                || (request.url.starts_with('/') && !request.url.starts_with("//")
                    && request.body.as_ref().is_some_and(|b| b.len() < KEEPALIVE_BODY_MAX)))
    }
}

/// What the sender should do after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the next job right away.
    Continue,
    /// Wait this many milliseconds, then try again.
    Wait(u64),
}

/// Whether the visitor lets us track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Events are stored and sent.
    Granted,
    /// Not yet asked (`consent: false`): events wait in memory, nothing is stored or sent.
    Pending,
    /// The visitor opted out: nothing is queued, stored or sent. Remembered across visits.
    Refused,
}

/// One visitor's tracker state.
pub struct Engine {
    config: Config,
    /// Persistent storage, used once consent is granted.
    durable: Stores,
    /// Where identity goes now: `durable.ids`, or memory while consent is not granted.
    ids: SharedStore,
    /// Where what the shopper did is remembered (pvid, e-mail, basket, viewed): beside the
    /// queue, in localStorage or memory, never in a cookie.
    shopper: SharedStore,
    queue: Queue<SharedStore>,
    /// This config's space in shared storage (see [`space`]).
    space: String,
    tab: String,
    consent: Consent,
    visitor: SessionExternalId,
    session: Option<RrSession>,
    /// The session came from storage or the `rcuid` cookie: Retail Rocket is asked once per
    /// page load whether it still holds, without holding events.
    refresh_due: bool,
    /// The browser's page-view id, when page context is sent.
    pvid: Option<String>,
    page: Page,
    /// The keys of the events whose request is under way.
    in_flight: Vec<String>,
    /// Keys taken out of storage when the page was hidden: handed to the browser, or left to
    /// their request under way. Only these are put back when their send fails.
    handed_off: Vec<String>,
    /// The page is going away (`pagehide`): no new request is started, and a failure without
    /// an answer is not believed (see [`NO_ANSWER_HOLD_MS`]).
    leaving: bool,
    /// The request under way failed without an answer and is held (see [`NO_ANSWER_HOLD_MS`]).
    in_flight_unanswered: bool,
    /// When this page last told the other tabs its lease on the sender lock ends, until it
    /// says it is over (see [`share_lease`](Self::share_lease)).
    lease_said: Option<super::lease::Said>,
    /// The visitor a session handshake under way was asked for.
    handshake_for: Option<SessionExternalId>,
    /// The visitor the once-per-page session check under way was asked for.
    refresh_for: Option<SessionExternalId>,
    backoff: Backoff,
    problems: Vec<Problem>,
    storage_warned: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("visitor", &self.visitor).field("consent", &self.consent).finish_non_exhaustive()
    }
}

/// The storage space of a config: eight hex digits of a hash (FNV-1a) of the partnerId and the
/// endpoint its events go to, so two trackers with different configs on one origin never share
/// a queue (one would send the other's events to its own endpoint, under its own partnerId).
pub fn space(config: &Config) -> String {
    let endpoint = config.relay_url.as_deref().unwrap_or(&config.tracking_url);
    let mut hash: u32 = 0x811c_9dc5;
    for &b in config.partner_id.as_bytes().iter().chain(b" ").chain(endpoint.as_bytes()) {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    crate::core::text::hex(hash.into(), 8)
}

/// In-memory stores seeded with the stored identity, for pages without consent: reading what is
/// there is fine, writing is not.
fn seeded_memory(durable: &Stores) -> Stores {
    let memory = Stores::memory();
    for key in [keys::VISITOR, keys::SESSION] {
        if let Some(value) = durable.ids.get(key) {
            let _ = memory.ids.set(key, &value);
        }
    }
    if let Some(pvid) = durable.queue.get(keys::PVID) {
        let _ = memory.queue.set(keys::PVID, &pvid);
    }
    memory
}

impl Engine {
    /// Opens the tracker over `durable` storage. `tab` keeps this page's queue writes apart
    /// from other tabs'; `random` seeds a new visitor id if one is needed.
    pub fn open(config: Config, durable: Stores, tab: &str, mut random: impl FnMut() -> [u8; 16]) -> Self {
        let consent = if durable.ids.get(keys::OPT_OUT).is_some() {
            Consent::Refused
        } else if config.consent {
            Consent::Granted
        } else {
            Consent::Pending
        };
        let active = if consent == Consent::Granted { durable.clone() } else { seeded_memory(&durable) };
        let visitor = identity::resolve_visitor(&*active.ids, config.session_external_id.clone(), &mut random);
        // A visitor Retail Rocket's own tracker already knows keeps its session.
        let cookie = durable.cookies.as_ref().filter(|_| config.session_cookie);
        let adopted = cookie.and_then(|c| RrSession::parse(&c.get(keys::RCUID)?));
        let session = adopted.or_else(|| identity::stored_session(&*active.ids, &visitor));
        let pvid = config.page_context.then(|| shopper::pvid(&*active.queue, random()));
        let shopper = active.queue.clone();
        let space = space(&config);
        let mut queue = Queue::within(active.queue, &space, tab, config.max_queue as usize);
        if consent == Consent::Granted {
            queue.adopt_legacy();
        }
        let mut engine = Engine {
            config,
            durable,
            ids: active.ids,
            shopper,
            queue,
            space,
            tab: tab.to_owned(),
            consent,
            visitor,
            refresh_due: session.is_some(),
            session: None,
            pvid,
            page: Page::default(),
            in_flight: Vec::new(),
            handed_off: Vec::new(),
            leaving: false,
            in_flight_unanswered: false,
            lease_said: None,
            handshake_for: None,
            refresh_for: None,
            backoff: Backoff::default(),
            problems: Vec::new(),
            storage_warned: false,
        };
        if let Some(session) = session {
            engine.adopt_session(session);
        }
        engine
    }

    /// The page events are tracked on from now.
    pub fn set_page(&mut self, page: Page) {
        self.page = page;
    }

    fn context(&self, kind: &Kind) -> Context {
        // An empty referrer is sent empty, as Retail Rocket's tracker sends it.
        let bounded = |s: &str| (s.chars().count() <= MAX_PAGE_URL).then(|| s.to_owned());
        let page_context = self.config.page_context;
        Context {
            pvid: self.pvid.clone(),
            page_url: bounded(&self.page.url).filter(|u| page_context && !u.is_empty()),
            referrer: bounded(&self.page.referrer).filter(|_| page_context && !self.page.url.is_empty()),
            email: kind.email.then(|| shopper::email(&*self.shopper)).flatten(),
        }
    }

    /// This config's space in shared storage: its queue keys, its backoff, its sender lock.
    pub fn space(&self) -> &str {
        &self.space
    }

    fn wait_key(&self) -> String {
        self.space_key(keys::WAIT)
    }

    fn lease_key(&self) -> String {
        self.space_key(keys::LEASE)
    }

    /// `{name}:{space}`: this config's own key under `name`.
    fn space_key(&self, name: &str) -> String {
        let mut key = name.to_owned();
        key.push(':');
        key.push_str(&self.space);
        key
    }

    /// The visitor's `sessionExternalId`.
    pub fn visitor(&self) -> &SessionExternalId {
        &self.visitor
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the visitor lets us track.
    pub fn consent(&self) -> Consent {
        self.consent
    }

    /// The recommended item a view should credit, if one was clicked recently.
    pub fn recommendation_credit(&self, now_ms: u64) -> Option<ItemId> {
        attribution::credit(&*self.ids, now_ms)
    }

    /// Remembers a click on a recommended item, to credit the view that follows.
    pub fn remember_recommendation_click(&self, item: ItemId, now_ms: u64) {
        if self.consent != Consent::Refused {
            attribution::remember_click(&*self.ids, item, now_ms);
        }
    }

    /// Queues events (written to storage before this returns). False when the visitor opted
    /// out: nothing was queued.
    pub fn track(&mut self, events: Vec<Event>, now_ms: u64) -> bool {
        if self.consent == Consent::Refused {
            return false;
        }
        let mut dropped = 0;
        let mut accepted = false;
        for event in events {
            if self.config.relay_url.is_some() {
                if let Some(reason) = relay::refusal(&event.parts()) {
                    self.problems.push(Problem::NotRelayed { reason });
                    continue;
                }
            }
            accepted = true;
            let mut event = event;
            shopper::follow(&*self.shopper, &mut event, now_ms);
            let parts = event.parts();
            let context = self.context(parts.kind);
            let pushed = self.queue.push(&Record { parts, at_ms: now_ms, context });
            dropped += pushed.dropped;
            if !pushed.durable && self.consent == Consent::Granted && !self.storage_warned {
                self.storage_warned = true;
                self.problems.push(Problem::StorageUnavailable);
            }
        }
        if dropped > 0 {
            self.problems.push(Problem::QueueFull { dropped, max: self.config.max_queue });
        }
        accepted
    }

    /// Reports a problem found outside the engine (a refused tracking call).
    pub fn report(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Problems since the last call, oldest first.
    pub fn take_problems(&mut self) -> Vec<Problem> {
        let unreadable = self.queue.take_unreadable();
        if unreadable > 0 {
            self.problems.push(Problem::Unreadable { count: unreadable });
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
}
