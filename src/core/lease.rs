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

fn deadline(now_ms: u64, quiet_ms: u64) -> u64 {
    now_ms.saturating_add(quiet_ms).saturating_add(GRACE_MS)
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
    fn huge_waits_and_clocks_saturate() {
        let mut lease = Lease::new(u64::MAX - 1, u64::MAX);
        assert!(lease.held());
        assert_eq!(lease.remaining_ms(0), u64::MAX);
        assert!(lease.renew(u64::MAX - 2, 5));
    }
}
