//! Retail Rocket's session: adopting one (from the `rcuid` cookie or an answer), and the
//! once-per-page refresh that offers it back without holding events.

use super::*;

impl Engine {
    /// Takes `session` as the visitor's, and keeps it where the next page (and Retail Rocket's
    /// own tracker, and the site's server code) finds it.
    pub(super) fn adopt_session(&mut self, session: RrSession) {
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
}
