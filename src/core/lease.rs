//! The site's sender lock is held as a lease: the holder says, each time it is about to wait,
//! how long it may be quiet, and the lock is given up when it stays quiet longer than that plus
//! [`GRACE_MS`], or when the page is hidden (`pagehide`: unloaded, or put in the back/forward
//! cache). Either ends the lease for good. A tracker whose code can no longer run (its wasm
//! trapped, or an exception unwound through it) so does not hold the lock for long: its release
//! is timed outside that code (see `web::lock`), and the next page or tab sends what it left.

/// How much later than it said a holder may still show up before its lock is given up.
pub const GRACE_MS: u64 = 5_000;

/// One holding of the lock, in milliseconds of the host's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    expires_at_ms: u64,
    lost: bool,
}

impl Lease {
    /// Taken at `now_ms` by a holder that will next show up within `quiet_ms`.
    pub fn new(now_ms: u64, quiet_ms: u64) -> Lease {
        Lease { expires_at_ms: deadline(now_ms, quiet_ms), lost: false }
    }

    /// The holder shows up at `now_ms` and will next show up within `quiet_ms`. A lease that
    /// had run out stays lost (the lock may already be someone else's): returns whether it is
    /// still held.
    pub fn renew(&mut self, now_ms: u64, quiet_ms: u64) -> bool {
        if now_ms >= self.expires_at_ms {
            self.lost = true;
        }
        if !self.lost {
            self.expires_at_ms = deadline(now_ms, quiet_ms);
        }
        !self.lost
    }

    /// The lock was given up (the task ended, or the page was hidden): the lease is lost.
    pub fn end(&mut self) {
        self.lost = true;
    }

    /// Whether the holder may go on as the site's sender.
    pub fn held(&self) -> bool {
        !self.lost
    }

    /// How long from `now_ms` until the lock must be given up (0: at once).
    pub fn remaining_ms(&self, now_ms: u64) -> u64 {
        if self.lost {
            return 0;
        }
        self.expires_at_ms.saturating_sub(now_ms)
    }
}

/// When a lease taken or renewed at `now_ms` for `quiet_ms` runs out.
pub fn deadline(now_ms: u64, quiet_ms: u64) -> u64 {
    now_ms.saturating_add(quiet_ms).saturating_add(GRACE_MS)
}

/// A tab standing by while another holds the lock, deciding whether that holder has stopped
/// running. The holder says in shared storage when its lease ends (see `keys::LEASE`), and that
/// it is over (0) once it is done or its page goes away. A holder whose code cannot run gives the
/// lock up by its own JS timer, but a page frozen in the back/forward cache runs no timer, and
/// WebKit 2.38 lets such a page keep its lock (as it may one granted just before the page froze,
/// whose callback never ran). Such a lock is taken (`steal`) once the holder's lease, as last
/// said, is over on two checks in a row with no word from it in between: a holder granted a
/// moment ago has a check's time to say its own. Where nothing was said (storage the tabs do
/// not share, or a release before this one), nothing is taken: tabs that cannot see each
/// other's leases would otherwise take the lock from each other, and with it the backoff.
#[derive(Debug, Default)]
pub struct Takeover {
    /// The lease end seen already over at the last check.
    over: Option<u64>,
}

impl Takeover {
    /// The lock was busy at `now_ms`; the holder last said its lease ends at `said_ms` (none:
    /// nothing was said). Returns whether to take the lock at the next check.
    pub fn busy(&mut self, said_ms: Option<u64>, now_ms: u64) -> bool {
        match said_ms {
            Some(end) if end <= now_ms => self.over.replace(end) == Some(end),
            _ => {
                self.over = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_that_shows_up_in_time_keeps_the_lease() {
        let mut lease = Lease::new(1_000, 10_000);
        assert_eq!(lease.remaining_ms(1_000), 10_000 + GRACE_MS);
        // Late by less than the grace: still held, and the next wait counts from now.
        assert!(lease.renew(1_000 + 10_000 + GRACE_MS - 1, 60_000));
        assert!(lease.held());
        assert_eq!(lease.remaining_ms(20_000), 1_000 + 10_000 + GRACE_MS - 1 + 60_000 + GRACE_MS - 20_000);
    }

    #[test]
    fn a_holder_that_stays_quiet_too_long_loses_it_for_good() {
        let mut lease = Lease::new(1_000, 10_000);
        let expiry = 1_000 + 10_000 + GRACE_MS;
        assert_eq!(lease.remaining_ms(expiry), 0);
        assert!(!lease.renew(expiry, 10_000));
        assert!(!lease.held());
        // Showing up again does not bring it back, and the lock is to be given up at once.
        assert!(!lease.renew(expiry + 1, 10_000));
        assert_eq!(lease.remaining_ms(expiry + 1), 0);
    }

    #[test]
    fn an_ended_lease_is_lost() {
        let mut lease = Lease::new(1_000, 10_000);
        lease.end();
        assert!(!lease.held());
        assert!(!lease.renew(1_001, 10_000));
        assert_eq!(lease.remaining_ms(1_001), 0);
    }

    #[test]
    fn a_holder_past_its_lease_on_two_checks_with_no_word_between_loses_the_lock() {
        let mut standby = Takeover::default();
        // The holder's lease runs until 10 000: it is alive.
        assert!(!standby.busy(Some(10_000), 8_000));
        // Over at the first check: not yet, it may have just been granted.
        assert!(!standby.busy(Some(10_000), 12_000));
        // Still the same, over, at the next: taken.
        assert!(standby.busy(Some(10_000), 14_000));
    }

    #[test]
    fn a_holder_that_speaks_between_two_checks_keeps_the_lock() {
        let mut standby = Takeover::default();
        assert!(!standby.busy(Some(10_000), 12_000));
        // A new holder said its own lease end, already over too (clocks differ): one more check.
        assert!(!standby.busy(Some(11_000), 14_000));
        assert!(standby.busy(Some(11_000), 16_000));
        // A live lease in between starts the count again.
        let mut standby = Takeover::default();
        assert!(!standby.busy(Some(10_000), 12_000));
        assert!(!standby.busy(Some(20_000), 14_000));
        assert!(!standby.busy(Some(10_000), 16_000));
    }

    #[test]
    fn a_holder_that_never_said_anything_keeps_the_lock() {
        let mut standby = Takeover::default();
        for now in [2_000, 4_000, 6_000] {
            assert!(!standby.busy(None, now), "storage not shared: every tab would take it");
        }
        assert!(!standby.busy(Some(0), 8_000));
        assert!(!standby.busy(None, 10_000), "silence in between starts the count again");
        assert!(!standby.busy(Some(0), 12_000));
        assert!(standby.busy(Some(0), 14_000));
    }

    #[test]
    fn huge_waits_and_clocks_saturate() {
        let mut lease = Lease::new(u64::MAX - 1, u64::MAX);
        assert!(lease.held());
        assert_eq!(lease.remaining_ms(0), u64::MAX);
        assert!(lease.renew(u64::MAX - 2, 5));
    }
}
