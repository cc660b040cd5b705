//! Consent and identity: opting in and out, forgetting the visitor, and following another
//! tab that did either.

use super::*;

impl Engine {
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

    pub(super) fn clear_queues(&mut self) {
        self.queue.clear();
        Queue::within(self.durable.queue.clone(), &self.space, &self.tab, 1).clear();
    }
}
