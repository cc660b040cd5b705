//! What to send next (a handshake, one event, or a relay batch) and what a reply means
//! for the queue: delivered, retried after a backoff, or dropped and reported.

use super::*;
use crate::core::lease::Said;

impl Engine {
    pub(super) fn tracking(&self) -> Tracking<'_> {
        Tracking { base: &self.config.tracking_url, partner_id: &self.config.partner_id }
    }

    pub(super) fn direct(&self, entry: &Entry, session: &RrSession, nonce: u64) -> Job {
        let request = self.tracking().event(&entry.record, session, &self.visitor, nonce);
        Job::Deliver { events: vec![Sending::of(entry)], request }
    }

    /// One relay batch of `entries`; events the relay cannot carry (queued before the page
    /// switched to relay mode) are dropped and reported on the way.
    pub(super) fn relay_batch(&mut self, relay: &str, entries: Vec<Entry>) -> Option<Job> {
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

    /// Tells the tabs standing by what the sender's lease is (see [`keys::LEASE`]): at each step
    /// of its run. A record that cannot be written is removed, so that no stale word is left for
    /// the others to act on.
    pub fn share_lease(&mut self, said: Said) {
        let key = self.lease_key();
        if self.durable.queue.set(&key, &said.encode()).is_err() {
            self.durable.queue.remove(&key);
        }
        self.lease_said = Some(said);
    }

    /// The run is done or its page goes away: tells the tabs standing by that the lease this
    /// page said is over (nothing, if it said none: a page that sent nothing writes nothing;
    /// nor if another tab took the lock since and said its own).
    pub fn end_lease(&mut self) {
        if self.lease_said.take().is_some_and(|said| self.shared_lease() == Some(said)) {
            self.share_lease(Said::OVER);
            self.lease_said = None;
        }
    }

    /// What the site's sender last said of its lease.
    pub fn shared_lease(&self) -> Option<Said> {
        self.durable.queue.get(&self.lease_key()).and_then(|t| Said::parse(&t))
    }

    /// The sender waits out a backoff until `until_ms`: tells the site's other tabs (see
    /// [`keys::WAIT`]).
    pub fn share_wait(&self, until_ms: u64) {
        // Next to the queue (localStorage or memory), never in a cookie.
        let _ = self.durable.queue.set(&self.wait_key(), &crate::core::text::decimal(until_ms));
    }

    /// Applies a reply's verdict to one event: done, dropped and reported, or kept for a retry
    /// (put back in its place if it had been taken out when the page was hidden).
    ///
    /// Where the browser hides a request's fate, the event is not put back, choosing a possible
    /// loss over a possible duplicate: a failure without an answer heard by a page that is going
    /// away (see [`NO_ANSWER_HOLD_MS`]; Firefox's timers fail during teardown, which cuts the
    /// hold short, but only after `pagehide`), and a hand-off our timer gave up on (made as
    /// the page may be going, when no abort of ours can be relied on: it may still arrive).
    /// A regular send that timed out is retried, keepalive or not (see [`Job::outlives_page`]).
    pub(super) fn settle(&mut self, sending: &Sending, reply: &Reply, keepalive: bool) -> Verdict {
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
