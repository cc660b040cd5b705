//! Every name this crate keeps something under in the browser: its `localStorage` keys (all
//! starting `rrt:`), Retail Rocket's session cookie, and the sender lock. Kept in one place so
//! that two features never share a key by accident (a test checks that none is a prefix of another).

/// The visitor id (`sessionExternalId`).
pub const VISITOR: &str = "rrt:sxid";
/// The Retail Rocket session, as `{visitor}:{session}`.
pub const SESSION: &str = "rrt:session";
/// Remembers, across page loads, that the visitor opted out.
pub const OPT_OUT: &str = "rrt:optout";
/// Until when (ms since the epoch) the site's sender waits out a backoff, for the other tabs:
/// a tab that is not the sender must not hand events to a server that is failing. The key is
/// followed by `:{space}` (one per config).
pub const WAIT: &str = "rrt:wait";
/// The site's sender's word on its lease of the sender lock (`core::lease::Said`: until when,
/// and for how long from when it was said), for the tabs standing by: one whose word stays the
/// same for longer has stopped running (a page frozen in the back/forward cache, or gone without
/// giving up its lock), and its lock is taken from it (see `core::lease::Takeover`). Followed by
/// `:{space}`.
pub const LEASE: &str = "rrt:lease";
/// Prefix of every queued event's key, whatever its space (`rrt:q:{space}:…`).
pub const QUEUE_PREFIX: &str = "rrt:q:";
/// The last recommendation click, as `{itemId}:{expiresAtMs}`.
pub const RECOM: &str = "rrt:recom";
/// The browser's page-view id: 15 random digits, kept across visits.
pub const PVID: &str = "rrt:pvid";
/// The shopper's e-mail, once `setEmail` has run (added to search, groupView and order).
pub const EMAIL: &str = "rrt:email";
/// Products put in the basket and not taken out, as `{updatedMs}:{id,id…}`.
pub const BASKET: &str = "rrt:basket";
/// The last products viewed, oldest first, as `{updatedMs}:{id,id…}`.
pub const VIEWED: &str = "rrt:viewed";
/// Every shopper key (`core::shopper`), for `forget()`.
pub const SHOPPER: [&str; 4] = [PVID, EMAIL, BASKET, VIEWED];
/// Written and read back once to learn whether cookies can be kept (then cleared).
pub const PROBE: &str = "rrt:probe";

/// The cookie Retail Rocket's own tracker keeps its session in, on the site's registrable
/// domain; server code reads it too.
pub const RCUID: &str = "rcuid";

/// The Web Lock that makes one tab the site's sender; the name is followed by `:{space}`.
pub const SENDER_LOCK: &str = "retailrocket-tracker:sender";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_features_share_a_storage_key() {
        let keys = [VISITOR, SESSION, OPT_OUT, WAIT, LEASE, QUEUE_PREFIX, RECOM, PVID, EMAIL, BASKET, VIEWED, PROBE];
        for (i, a) in keys.iter().enumerate() {
            assert!(a.starts_with("rrt:"), "{a}");
            for b in &keys[i + 1..] {
                assert!(!a.starts_with(b) && !b.starts_with(a), "{a} and {b} overlap");
            }
        }
    }
}
