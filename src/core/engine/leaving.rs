//! A page going away: which events are handed to the browser (keepalive requests), and
//! how a delivery that failed without any answer is held before it is believed.

use super::*;

impl Engine {
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
    pub(super) fn take_handed_off(&mut self, jobs: Vec<Job>) -> Vec<Job> {
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

    /// The page is going away (`pagehide`), or back (`pageshow`, from the back/forward cache).
    pub fn page_leaving(&mut self, leaving: bool) {
        self.leaving = leaving;
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
}
