//! Who the visitor is: our own `sessionExternalId` (generated once per browser, or handed in by
//! a native app) and the Retail Rocket session its servers issue for it.

use super::ids::{RrSession, SessionExternalId};
use super::keys;
use super::store::Store;

/// The visitor id to use: a handed-in one wins (and is saved); else the saved one; else a new
/// one from `random`, saved for next time. Write failures are tolerated: the id then lives as
/// long as the page.
pub fn resolve_visitor(
    store: &dyn Store,
    handed_in: Option<SessionExternalId>,
    random: impl FnOnce() -> [u8; 16],
) -> SessionExternalId {
    let stored = store.get(keys::VISITOR).and_then(|s| SessionExternalId::parse(&s).ok());
    match (handed_in, stored) {
        (Some(id), stored) => {
            if stored.as_ref() != Some(&id) {
                let _ = store.set(keys::VISITOR, id.as_str());
            }
            id
        }
        (None, Some(id)) => id,
        (None, None) => {
            let id = SessionExternalId::from_random_bytes(random());
            let _ = store.set(keys::VISITOR, id.as_str());
            id
        }
    }
}

/// Forgets the visitor: a new id from `random` replaces the old one, and its session goes too.
pub fn renew_visitor(store: &dyn Store, random: [u8; 16]) -> SessionExternalId {
    store.remove(keys::SESSION);
    let id = SessionExternalId::from_random_bytes(random);
    let _ = store.set(keys::VISITOR, id.as_str());
    id
}

/// The saved Retail Rocket session of `visitor`, if one was issued for this very visitor.
pub fn stored_session(store: &dyn Store, visitor: &SessionExternalId) -> Option<RrSession> {
    let line = store.get(keys::SESSION)?;
    let (owner, session) = line.split_once(':')?;
    (owner == visitor.as_str()).then(|| RrSession::parse(session)).flatten()
}

/// Saves the session Retail Rocket issued for `visitor`.
pub fn save_session(store: &dyn Store, visitor: &SessionExternalId, session: &RrSession) {
    let _ = store.set(keys::SESSION, &[visitor.as_str(), ":", session.as_str()].concat());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::MemoryStore;

    fn id(s: &str) -> SessionExternalId {
        SessionExternalId::parse(s).unwrap()
    }

    #[test]
    fn generated_once_then_reused() {
        let store = MemoryStore::default();
        let first = resolve_visitor(&store, None, || [1; 16]);
        let again = resolve_visitor(&store, None, || [2; 16]);
        assert_eq!(first, again);
        assert_eq!(store.get(keys::VISITOR).as_deref(), Some(first.as_str()));
    }

    #[test]
    fn a_handed_in_id_wins_and_is_saved() {
        let store = MemoryStore::default();
        resolve_visitor(&store, None, || [1; 16]);
        let app = resolve_visitor(&store, Some(id("AppInstall42")), || [2; 16]);
        assert_eq!(app.as_str(), "AppInstall42");
        assert_eq!(resolve_visitor(&store, None, || [3; 16]).as_str(), "AppInstall42");
    }

    #[test]
    fn storage_that_refuses_writes_still_yields_an_id() {
        let store = MemoryStore::with_capacity(0);
        let v = resolve_visitor(&store, None, || [9; 16]);
        assert_eq!(v.as_str().len(), 32);
    }

    #[test]
    fn sessions_belong_to_their_visitor() {
        let store = MemoryStore::default();
        let s = RrSession::parse("rr1").unwrap();
        save_session(&store, &id("alice1"), &s);
        assert_eq!(stored_session(&store, &id("alice1")), Some(s));
        assert_eq!(stored_session(&store, &id("bob2")), None);
        let renewed = renew_visitor(&store, [4; 16]);
        assert_eq!(stored_session(&store, &renewed), None);
        assert_ne!(renewed.as_str(), "alice1");
    }
}
