//! The site's sender lock is held as a lease: the holder says, each time it is about to wait,
//! how long it may be quiet, and the lock is given up when it stays quiet longer than that plus
//! [`GRACE_MS`], or when the page is hidden (`pagehide`: unloaded, or put in the back/forward
//! cache). Either ends the lease for good. A tracker whose code can no longer run (its wasm
//! trapped, or an exception unwound through it) so does not hold the lock for long: its release
//! is timed outside that code (see `web::lock`), and the next page or tab sends what it left.

use super::text::decimal;

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

/// What the sender says of its lease in shared storage (see `keys::LEASE`): when it ends on the
/// sender's own wall clock, and how long that is from the moment it was said (`ttl_ms`: its
/// quiet time plus [`GRACE_MS`]). Written `{end}:{ttl}`; `0` says the lease is over. A plain
/// `{end}` is what an older version of this module wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Said {
    /// When the lease ends (`Date.now()` milliseconds); 0: it is over.
    pub end_ms: u64,
    /// How long it lasts from the moment it was said; `None`: not said (0, or an older version).
    pub ttl_ms: Option<u64>,
}

impl Said {
    /// The lease is over.
    pub const OVER: Said = Said { end_ms: 0, ttl_ms: None };

    /// A lease said at `now_ms` by a holder that will next show up within `quiet_ms`.
    pub fn new(now_ms: u64, quiet_ms: u64) -> Said {
        Said { end_ms: deadline(now_ms, quiet_ms), ttl_ms: Some(quiet_ms.saturating_add(GRACE_MS)) }
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        match self.ttl_ms {
            Some(ttl) => [&decimal(self.end_ms), ":", &decimal(ttl)].concat(),
            None => decimal(self.end_ms),
        }
    }

    /// Reads the stored form back (`None`: not a lease).
    pub fn parse(text: &str) -> Option<Said> {
        let (end, ttl) = match text.split_once(':') {
            Some((end, ttl)) => (end, Some(ttl.parse().ok()?)),
            None => (text, None),
        };
        Some(Said { end_ms: end.parse().ok()?, ttl_ms: ttl })
    }
}

/// A tab standing by while another holds the lock, deciding whether that holder has stopped
/// running. A holder whose code cannot run gives the lock up by its own JS timer, but a page
/// frozen in the back/forward cache runs no timer, and WebKit 2.38 lets such a page keep its lock
/// (as it may one granted just before the page froze, whose callback never ran). Such a lock is
/// taken (`steal`) once the holder's word ([`Said`]) has stayed the same for longer than it said
/// it could stay quiet, timed on this tab's own steady clock (`performance.now()`), so that a
/// wall clock set forward (or back) on either side robs no live holder (and spares no dead one).
/// A lease said to be over (0), or said by an older version without its duration, is taken once
/// it is over by the wall clock on two checks in a row with no word in between: a holder granted
/// a moment ago has a check's time to say its own. Where nothing was said (storage the tabs do
/// not share, or a release before this one), nothing is taken: tabs that cannot see each other's
/// leases would otherwise take the lock from each other, and with it the backoff.
#[derive(Debug, Default)]
pub struct Takeover {
    /// The word seen at the last check, since when (steady clock), and whether it was over then.
    seen: Option<(Said, u64, bool)>,
}

impl Takeover {
    /// The lock was busy at `wall_ms` (`Date.now()`) and `steady_ms` (`performance.now()`); the
    /// holder last said `said` (none: nothing). Returns whether to take the lock at the next check.
    pub fn busy(&mut self, said: Option<Said>, wall_ms: u64, steady_ms: u64) -> bool {
        let Some(said) = said else {
            self.seen = None;
            return false;
        };
        let over = said.end_ms <= wall_ms;
        let (since_ms, was_over) = match self.seen {
            Some((seen, since_ms, was_over)) if seen == said => (since_ms, was_over),
            _ => (steady_ms, false),
        };
        self.seen = Some((said, since_ms, over));
        match said.ttl_ms {
            // (At least the grace: a word is never taken at first sight.)
            Some(ttl) => steady_ms.saturating_sub(since_ms) >= ttl.max(GRACE_MS),
            None => was_over && over,
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
        assert!(!standby.busy(Some(Said { end_ms: 10_000, ttl_ms: None }), 8_000, 8_000));
        // Over at the first check: not yet, it may have just been granted.
        assert!(!standby.busy(Some(Said { end_ms: 10_000, ttl_ms: None }), 12_000, 12_000));
        // Still the same, over, at the next: taken.
        assert!(standby.busy(Some(Said { end_ms: 10_000, ttl_ms: None }), 14_000, 14_000));
    }

    #[test]
    fn a_holder_that_speaks_between_two_checks_keeps_the_lock() {
        let mut standby = Takeover::default();
        assert!(!standby.busy(Some(Said { end_ms: 10_000, ttl_ms: None }), 12_000, 12_000));
        // A new holder said its own lease end, already over too (clocks differ): one more check.
        assert!(!standby.busy(Some(Said { end_ms: 11_000, ttl_ms: None }), 14_000, 14_000));
        assert!(standby.busy(Some(Said { end_ms: 11_000, ttl_ms: None }), 16_000, 16_000));
        // A live lease in between starts the count again.
        let mut standby = Takeover::default();
        assert!(!standby.busy(Some(Said { end_ms: 10_000, ttl_ms: None }), 12_000, 12_000));
        assert!(!standby.busy(Some(Said { end_ms: 20_000, ttl_ms: None }), 14_000, 14_000));
        assert!(!standby.busy(Some(Said { end_ms: 10_000, ttl_ms: None }), 16_000, 16_000));
    }

    #[test]
    fn a_holder_that_never_said_anything_keeps_the_lock() {
        let mut standby = Takeover::default();
        for now in [2_000, 4_000, 6_000] {
            assert!(!standby.busy(None, now, now), "storage not shared: every tab would take it");
        }
        assert!(!standby.busy(Some(Said { end_ms: 0, ttl_ms: None }), 8_000, 8_000));
        assert!(!standby.busy(None, 10_000, 10_000), "silence in between starts the count again");
        assert!(!standby.busy(Some(Said { end_ms: 0, ttl_ms: None }), 12_000, 12_000));
        assert!(standby.busy(Some(Said { end_ms: 0, ttl_ms: None }), 14_000, 14_000));
    }

    #[test]
    fn a_word_that_stays_the_same_longer_than_it_said_loses_the_lock_whatever_the_wall_clock() {
        let said = Said::new(100_000, 10_000);
        assert_eq!(said.ttl_ms, Some(10_000 + GRACE_MS));
        // This tab's wall clock is a minute behind the holder's: its end looks far off.
        let wall = 100_000 - 60_000;
        let mut standby = Takeover::default();
        assert!(!standby.busy(Some(said), wall, 50_000), "first sight");
        assert!(!standby.busy(Some(said), wall, 50_000 + 10_000 + GRACE_MS - 1));
        assert!(standby.busy(Some(said), wall, 50_000 + 10_000 + GRACE_MS), "silent for longer than it said");
    }

    #[test]
    fn a_live_holder_keeps_the_lock_when_the_wall_clock_jumps_forward() {
        // The holder waits out a one-minute backoff, having said so once; this tab's wall clock
        // jumps an hour ahead meanwhile: by it, that lease is long over.
        let said = Said::new(100_000, 60_000);
        let mut standby = Takeover::default();
        let mut steady = 10_000;
        while steady < 10_000 + 60_000 + GRACE_MS {
            assert!(!standby.busy(Some(said), 100_000 + 3_600_000, steady), "robbed at {steady}");
            steady += 2_500;
        }
        assert!(standby.busy(Some(said), 100_000 + 3_600_000, steady), "silent for longer than it said");
    }

    #[test]
    fn a_holder_that_keeps_speaking_keeps_the_lock() {
        // A sender at work says a new lease at each step, a few seconds apart, for a minute.
        let mut standby = Takeover::default();
        for step in 0..24_u64 {
            let said = Said::new(100_000 + step * 2_500, 10_000);
            let steady = 7_000 + step * 2_500;
            assert!(!standby.busy(Some(said), 100_000 + step * 2_500, steady), "robbed at step {step}");
        }
    }

    #[test]
    fn a_word_is_never_taken_at_first_sight() {
        let mut standby = Takeover::default();
        let zero = Said { end_ms: 0, ttl_ms: Some(0) };
        assert!(!standby.busy(Some(zero), 10_000, 10_000));
        assert!(!standby.busy(Some(zero), 12_000, 10_000 + GRACE_MS - 1));
        assert!(standby.busy(Some(zero), 14_000, 10_000 + GRACE_MS));
    }

    #[test]
    fn the_stored_word_reads_back() {
        for said in [Said::new(1_733_000_000_000, 10_000), Said::OVER, Said { end_ms: 25_000, ttl_ms: None }] {
            assert_eq!(Said::parse(&said.encode()), Some(said));
        }
        assert_eq!(Said::OVER.encode(), "0");
        assert_eq!(Said::parse("25000"), Some(Said { end_ms: 25_000, ttl_ms: None }), "an older version's word");
        for junk in ["", "x", "1:", ":5", "1:x", "-1"] {
            assert_eq!(Said::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn huge_waits_and_clocks_saturate() {
        let mut lease = Lease::new(u64::MAX - 1, u64::MAX);
        assert!(lease.held());
        assert_eq!(lease.remaining_ms(0), u64::MAX);
        assert!(lease.renew(u64::MAX - 2, 5));
    }
}
