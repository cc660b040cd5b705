//! The tracker's brain, free of any browser API: it queues events, decides what to send next,
//! and reads replies. The browser side only moves bytes, keeps time and reports page lifecycle.
//!
//! ```text
//! track(events) ──▶ queue (storage) ──▶ next_job() ──▶ [transport] ──▶ complete(reply) ──▶ Next
//!                                   └─▶ hand_off() (page hidden) ──▶ [keepalive transport]
//! ```

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
use super::wire::{parse_session, Method, Tracking, WireRequest};

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

/// Most events handed to the browser at once when the page is hidden.
pub const HAND_OFF_LIMIT: usize = 50;

/// The one rule for a delivery that failed without any answer (status 0, before our own
/// timer): a page that is going away hears its requests fail although they reached the server,
/// or still will. Chromium stops a page that is still loading as soon as a navigation away from
/// it starts, failing the request under way before `beforeunload`; Chromium and Firefox report a
/// closing page's keepalive hand-offs as failed while they deliver them; every engine cancels
/// the request under way as the page goes. So such a failure is held this long (see
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
}

/// What the transport got back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// HTTP status; 0 for a network error or timeout.
    pub status: u16,
    /// Response body (read for the session handshake and recommendations).
    pub body: String,
    /// The server's `Retry-After`, converted to milliseconds.
    pub retry_after_ms: Option<u64>,
    /// The server's `Cache-Control`.
    pub cache_control: Option<String>,
    /// No answer came before our own timer (status 0): the request may still be under way.
    pub timed_out: bool,
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
    format!("{hash:08x}")
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

    /// Takes `session` as the visitor's, and keeps it where the next page (and Retail Rocket's
    /// own tracker, and the site's server code) finds it.
    fn adopt_session(&mut self, session: RrSession) {
        if self.consent == Consent::Granted {
            identity::save_session(&*self.ids, &self.visitor, &session);
            if let Some(cookie) = self.durable.cookies.as_ref().filter(|_| self.config.session_cookie) {
                if cookie.get(keys::RCUID).as_deref() != Some(session.as_str()) {
                    let _ = cookie.set(keys::RCUID, session.as_str());
                }
            }
        }
        self.session = Some(session);
    }

    /// The Retail Rocket session, once known.
    pub fn session(&self) -> Option<&RrSession> {
        self.session.as_ref()
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

    /// The once-per-page check that the known session still holds (Retail Rocket's tracker
    /// asks on every page load, offering it). Events do not wait for it. `None` when there is
    /// nothing to check, or it was asked already.
    pub fn take_session_refresh(&mut self, nonce: u64) -> Option<WireRequest> {
        let due = self.refresh_due && self.consent == Consent::Granted && self.config.relay_url.is_none();
        self.refresh_due = false;
        let session = self.session.as_ref().filter(|_| due)?;
        let request = self.tracking().initialize(Some(session), nonce);
        self.refresh_for = Some(self.visitor.clone());
        Some(request)
    }

    /// Takes the answer to [`take_session_refresh`](Self::take_session_refresh): a session
    /// Retail Rocket names instead is used from now on; a failure changes nothing.
    pub fn session_refreshed(&mut self, reply: &Reply) {
        if self.refresh_for.take().as_ref() != Some(&self.visitor) {
            return;
        }
        let session = (verdict(reply.status) == Verdict::Delivered).then(|| parse_session(&reply.body)).flatten();
        if let Some(session) = session.filter(|s| Some(s) != self.session.as_ref()) {
            self.adopt_session(session);
        }
    }

    /// This config's space in shared storage: its queue keys, its backoff, its sender lock.
    pub fn space(&self) -> &str {
        &self.space
    }

    fn wait_key(&self) -> String {
        format!("{}:{}", keys::WAIT, self.space)
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

    /// The visitor agreed: identity and waiting events move to persistent storage, and sending
    /// starts.
    pub fn opt_in(&mut self) {
        if self.consent == Consent::Granted {
            return;
        }
        self.durable.ids.remove(keys::OPT_OUT);
        let _ = self.durable.ids.set(keys::VISITOR, self.visitor.as_str());
        let waiting = self.queue.first(usize::MAX);
        self.ids = self.durable.ids.clone();
        self.shopper = self.durable.queue.clone();
        self.queue = Queue::within(self.durable.queue.clone(), &self.space, &self.tab, self.config.max_queue as usize);
        self.queue.adopt_legacy();
        self.consent = Consent::Granted;
        if let Some(pvid) = &self.pvid {
            let _ = self.shopper.set(keys::PVID, pvid);
        }
        if let Some(session) = self.session.take() {
            self.adopt_session(session);
        }
        let mut dropped = 0;
        for entry in waiting {
            dropped += self.queue.push(&entry.record).dropped;
        }
        if dropped > 0 {
            self.problems.push(Problem::QueueFull { dropped, max: self.config.max_queue });
        }
    }

    /// The visitor refused: the queue is emptied (in every tab), nothing more is queued, and
    /// the choice is remembered across visits until `opt_in`.
    pub fn opt_out(&mut self) {
        self.clear_queues();
        let _ = self.durable.ids.set(keys::OPT_OUT, "1");
        for key in keys::SHOPPER {
            self.durable.queue.remove(key);
            self.durable.ids.remove(key);
        }
        let memory = seeded_memory(&self.durable);
        self.ids = memory.ids;
        self.shopper = memory.queue.clone();
        self.queue = Queue::within(memory.queue, &self.space, &self.tab, self.config.max_queue as usize);
        self.consent = Consent::Refused;
        self.in_flight.clear();
        self.handed_off.clear();
    }

    /// Forgets the visitor: the queue is emptied and a new `sessionExternalId` replaces the old
    /// one (with no Retail Rocket session yet).
    pub fn forget(&mut self, random: [u8; 16]) {
        self.clear_queues();
        for store in [&self.ids, &self.durable.ids] {
            for key in [keys::RECOM, keys::VISITOR, keys::SESSION] {
                store.remove(key);
            }
        }
        for store in [&self.shopper, &self.durable.queue, &self.durable.ids] {
            for key in keys::SHOPPER {
                store.remove(key);
            }
        }
        if let Some(cookie) = self.durable.cookies.as_ref().filter(|_| self.config.session_cookie) {
            cookie.remove(keys::RCUID);
        }
        self.visitor = identity::renew_visitor(&*self.ids, random);
        // A new page-view id too: the old one would link the forgotten visitor to the new one.
        let mut reversed = random;
        reversed.reverse();
        self.pvid = self.config.page_context.then(|| shopper::pvid(&*self.shopper, reversed));
        self.session = None;
        self.in_flight.clear();
        self.handed_off.clear();
    }

    /// Another tab changed the visitor's identity or consent: follow it, so one browser never
    /// reports two visitors (or keeps sending after an opt-out elsewhere).
    pub fn identity_changed_elsewhere(&mut self) {
        if self.durable.ids.get(keys::OPT_OUT).is_some() {
            if self.consent != Consent::Refused {
                self.opt_out();
            }
            return;
        }
        if self.consent != Consent::Granted {
            return;
        }
        let stored = self.durable.ids.get(keys::VISITOR).and_then(|s| SessionExternalId::parse(&s).ok());
        if let Some(visitor) = stored.filter(|v| *v != self.visitor) {
            self.session = identity::stored_session(&*self.ids, &visitor);
            self.visitor = visitor;
        }
    }

    fn clear_queues(&mut self) {
        self.queue.clear();
        Queue::within(self.durable.queue.clone(), &self.space, &self.tab, 1).clear();
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

    fn tracking(&self) -> Tracking<'_> {
        Tracking { base: &self.config.tracking_url, partner_id: &self.config.partner_id }
    }

    fn direct(&self, entry: &Entry, session: &RrSession, nonce: u64) -> Job {
        let request = self.tracking().event(&entry.record, session, &self.visitor, nonce);
        Job::Deliver { events: vec![Sending::of(entry)], request }
    }

    /// One relay batch of `entries`; events the relay cannot carry (queued before the page
    /// switched to relay mode) are dropped and reported on the way.
    fn relay_batch(&mut self, relay: &str, entries: Vec<Entry>) -> Option<Job> {
        let mut body = String::from("[");
        let mut events = Vec::new();
        for entry in entries {
            match relay::envelope(&entry.record, &self.visitor) {
                Ok(envelope) => {
                    if !events.is_empty() {
                        body.push(',');
                    }
                    body.push_str(&envelope);
                    events.push(Sending::of(&entry));
                }
                Err(reason) => {
                    self.queue.remove(&entry.key);
                    self.problems.push(Problem::NotRelayed { reason });
                }
            }
        }
        body.push(']');
        let url = relay::batch_url(relay, &self.config.partner_id);
        (!events.is_empty())
            .then_some(Job::Deliver { events, request: WireRequest::new(Method::Post, url, Some(body)) })
    }

    /// The next request to send, if any. `nonce` defeats caches along the way.
    pub fn next_job(&mut self, nonce: u64) -> Option<Job> {
        if self.consent != Consent::Granted || self.leaving {
            return None;
        }
        let job = if let Some(relay) = self.config.relay_url.clone() {
            // The relay speaks the server API, keyed by sessionExternalId: no handshake.
            loop {
                let entries = self.queue.first(RELAY_BATCH);
                if entries.is_empty() {
                    return None;
                }
                if let Some(job) = self.relay_batch(&relay, entries) {
                    break job;
                }
            }
        } else {
            let entry = self.queue.oldest()?;
            let Some(session) = self.session.clone() else {
                // Nothing can be sent before Retail Rocket names the session; it is only asked
                // for once there is something to send.
                self.handshake_for = Some(self.visitor.clone());
                return Some(Job::Initialize(self.tracking().initialize(None, nonce)));
            };
            self.direct(&entry, &session, nonce)
        };
        if let Job::Deliver { events, .. } = &job {
            self.in_flight = events.iter().map(|e| e.key.clone()).collect();
        }
        Some(job)
    }

    /// The page is being hidden and may never come back: hands the waiting events to the
    /// browser at once (sent with `keepalive`, which outlives the page) and takes them out of
    /// storage, so the next page load does not send them twice. The events already in flight
    /// are taken out too, always (even during a backoff): they are left to their request, never
    /// sent a second time by a hand-off or by the next page. A send that fails while the page
    /// still lives is put back in its place (see [`settle`](Self::settle)).
    ///
    /// Only requests that need no CORS preflight are handed off (one cannot be relied on during
    /// unload): direct GETs up to the first POST, or one batch to a same-origin relay. The rest
    /// stays stored for the next page.
    ///
    /// Nothing is handed off during a backoff (the server asked us to wait) or while the
    /// request under way is held after failing without an answer, and a relay never gets a
    /// second batch while one is under way (one batch per visitor at a time).
    pub fn hand_off(&mut self, now_ms: u64, scope: HandOff) -> Vec<Job> {
        let own_only = scope == HandOff::OwnEvents;
        let relay_busy = self.config.relay_url.is_some() && !self.in_flight.is_empty();
        for key in std::mem::take(&mut self.in_flight) {
            self.queue.remove(&key);
            self.handed_off.push(key);
        }
        let shared_wait = self.durable.queue.get(&self.wait_key()).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
        if self.consent != Consent::Granted
            || self.backoff.failures() > 0
            || self.in_flight_unanswered
            || shared_wait > now_ms
        {
            return Vec::new();
        }
        if own_only && self.config.relay_url.is_some() {
            return Vec::new();
        }
        if relay_busy {
            return Vec::new();
        }
        let jobs = match self.config.relay_url.clone() {
            Some(relay) if is_same_origin_path(&relay) => {
                let entries = self.queue.first(RELAY_BATCH);
                self.relay_batch(&relay, entries).into_iter().collect()
            }
            Some(_) => Vec::new(),
            None => {
                let Some(session) = self.session.clone() else { return Vec::new() };
                self.queue
                    .first(HAND_OFF_LIMIT)
                    .iter()
                    .filter(|entry| !own_only || self.queue.is_own(&entry.key))
                    .map(|entry| self.direct(entry, &session, now_ms))
                    .take_while(|job| job.request().method == Method::Get)
                    .collect()
            }
        };
        self.take_handed_off(jobs)
    }

    /// Takes the events of jobs handed to the browser out of storage, remembering their keys.
    fn take_handed_off(&mut self, jobs: Vec<Job>) -> Vec<Job> {
        for job in &jobs {
            if let Job::Deliver { events, .. } = job {
                for e in events {
                    self.queue.remove(&e.key);
                    self.handed_off.push(e.key.clone());
                }
            }
        }
        jobs
    }

    /// The sender waits out a backoff until `until_ms`: tells the site's other tabs (see
    /// [`keys::WAIT`]).
    pub fn share_wait(&self, until_ms: u64) {
        // Next to the queue (localStorage or memory), never in a cookie.
        let _ = self.durable.queue.set(&self.wait_key(), &until_ms.to_string());
    }

    /// The page is going away (`pagehide`), or back (`pageshow`, from the back/forward cache).
    pub fn page_leaving(&mut self, leaving: bool) {
        self.leaving = leaving;
    }

    /// Applies a reply's verdict to one event: done, dropped and reported, or kept for a retry
    /// (put back in its place if it had been taken out when the page was hidden).
    ///
    /// Where the browser hides a request's fate, the event is not put back, choosing a possible
    /// loss over a possible duplicate: a failure without an answer heard by a page that is going
    /// away (see [`NO_ANSWER_HOLD_MS`]; Firefox's timers fail during teardown, which cuts the
    /// hold short, but only after `pagehide`), and a `keepalive` hand-off our timer
    /// gave up on (the browser does not cancel those; it may still arrive).
    fn settle(&mut self, sending: &Sending, reply: &Reply, keepalive: bool) -> Verdict {
        let status = reply.status;
        let fate_unknown = status == 0 && (self.leaving || (keepalive && reply.timed_out));
        let v = verdict(status);
        let was_handed_off =
            self.handed_off.iter().position(|k| *k == sending.key).map(|i| self.handed_off.swap_remove(i));
        match v {
            Verdict::Delivered => self.queue.remove(&sending.key),
            Verdict::Refused => {
                self.queue.remove(&sending.key);
                self.problems.push(Problem::Refused { event: sending.event, status });
            }
            // Only an event this page handed off comes back; one removed on purpose meanwhile
            // (forget, opt-out, the queue bound, another tab) stays removed.
            Verdict::Retry if was_handed_off.is_some() && !fate_unknown => {
                self.queue.restore(&sending.key, &sending.line)
            }
            Verdict::Retry => {}
        }
        v
    }

    /// How long to wait before passing `reply` to [`complete`](Self::complete) or
    /// [`complete_handed_off`](Self::complete_handed_off): [`NO_ANSWER_HOLD_MS`] when a delivery
    /// failed without any answer before our own timer, else 0.
    pub fn settle_after_ms(&mut self, job: &Job, reply: &Reply) -> u64 {
        match job {
            Job::Deliver { events, .. } if reply.status == 0 && !reply.timed_out => {
                if events.iter().any(|e| self.in_flight.contains(&e.key)) {
                    self.in_flight_unanswered = true;
                }
                NO_ANSWER_HOLD_MS
            }
            _ => 0,
        }
    }

    /// Takes the reply to a job from [`hand_off`](Self::hand_off). No backoff here: the next
    /// regular send decides.
    pub fn complete_handed_off(&mut self, job: &Job, reply: &Reply) {
        if let Job::Deliver { events, .. } = job {
            events.iter().for_each(|e| {
                self.settle(e, reply, true);
            });
        }
    }

    /// Takes the reply to `job` from [`next_job`](Self::next_job). `jitter` is a random number
    /// in `0..1`.
    pub fn complete(&mut self, job: &Job, reply: &Reply, jitter: f64) -> Next {
        self.in_flight.clear();
        self.in_flight_unanswered = false;
        let events = match job {
            Job::Initialize(_) => {
                if self.handshake_for.take().as_ref() != Some(&self.visitor) {
                    // The visitor was forgotten meanwhile: that session belongs to the old one.
                    return Next::Continue;
                }
                let session =
                    (verdict(reply.status) == Verdict::Delivered).then(|| parse_session(&reply.body)).flatten();
                return match session {
                    Some(session) => {
                        self.adopt_session(session);
                        self.backoff.succeeded();
                        Next::Continue
                    }
                    None => {
                        if self.backoff.failures() == 0 || verdict(reply.status) == Verdict::Refused {
                            self.problems.push(Problem::HandshakeFailed { status: reply.status });
                        }
                        Next::Wait(self.backoff.failed_keep_trying(reply.retry_after_ms, jitter))
                    }
                };
            }
            Job::Deliver { events, .. } => events,
        };
        if self.consent != Consent::Granted {
            // Opted out while the request was under way: nothing to keep.
            events.iter().for_each(|e| self.queue.remove(&e.key));
            return Next::Continue;
        }
        let mut verdicts = events.iter().map(|e| self.settle(e, reply, false)).collect::<Vec<_>>();
        if verdicts.pop() != Some(Verdict::Retry) {
            self.backoff.succeeded();
            return Next::Continue;
        }
        match self.backoff.failed(reply.retry_after_ms, jitter) {
            Some(delay) => Next::Wait(delay),
            None => {
                let attempts = self.backoff.failures();
                self.backoff.succeeded();
                for e in events {
                    self.queue.remove(&e.key);
                    self.problems.push(Problem::GaveUp { event: e.event, attempts });
                }
                Next::Continue
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{ConfigBuilder, RawValue};
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

    fn view(n: u64) -> Event {
        Event::View { item: ItemId::parse(&n.to_string()).unwrap(), stock: None, recom_item: None }
    }

    fn ok(body: &str) -> Reply {
        Reply { status: 200, body: body.into(), ..Reply::default() }
    }

    fn status(code: u16) -> Reply {
        Reply { status: code, ..Reply::default() }
    }

    fn session_ok(job: &Job) -> Reply {
        match job {
            Job::Initialize(_) => ok(r#"{"sessionId":"rrSESSION1"}"#),
            Job::Deliver { .. } => ok(""),
        }
    }

    fn engine_with(stores: &Stores, extra: &[(&str, RawValue)]) -> Engine {
        Engine::open(config(extra), stores.clone(), "tab", || [7; 16])
    }

    fn engine(stores: &Stores) -> Engine {
        engine_with(stores, &[])
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
        let mut e = engine(&stores);
        e.track(vec![view(1)], 1);
        run(&mut e, session_ok);
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
        let mut e = engine(&stores);
        e.track(vec![view(1)], 1);
        run(&mut e, session_ok);
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
        assert!(
            !sent[1].contains("pvid") && !sent[1].contains("pageUrl") && !sent[1].contains("referrer"),
            "{}",
            sent[1]
        );
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
        let mut e = engine(&stores);
        e.track(vec![view(1)], 1);
        run(&mut e, session_ok);
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
        let mut e = engine(&stores);
        e.track(vec![view(1)], 1);
        run(&mut e, session_ok);
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
        let mut e = engine(&stores);
        e.track(vec![view(1)], 1);
        run(&mut e, session_ok);
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
}
