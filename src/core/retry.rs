//! What a reply means for the event, and how long to wait before trying again.

/// What to do with an event after the server answered (status 0: no answer at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx/3xx: done.
    Delivered,
    /// Network error, timeout, 408, 429, 5xx: try again later.
    Retry,
    /// Any other 4xx: the server will never take it; drop it and say so.
    Refused,
}

/// Classifies an HTTP status.
pub fn verdict(status: u16) -> Verdict {
    match status {
        200..=399 => Verdict::Delivered,
        0 | 408 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Refused,
    }
}

/// Reads a `Retry-After` given in seconds. (An HTTP date is converted by the caller, which
/// has a clock and a date parser.)
pub fn retry_after_seconds(header: &str) -> Option<u64> {
    let header = header.trim();
    (!header.is_empty() && header.len() <= 9 && header.bytes().all(|b| b.is_ascii_digit()))
        .then(|| header.parse::<u64>().ok().map(|s| s * 1000))
        .flatten()
}

/// Exponential backoff with jitter, honouring the server's `Retry-After`.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// First retry after about this long.
    pub const BASE_MS: u64 = 1_000;
    /// No computed delay exceeds this.
    pub const CAP_MS: u64 = 60_000;
    /// A server's `Retry-After` is honoured up to this.
    pub const RETRY_AFTER_CAP_MS: u64 = 600_000;
    /// Attempts per event before it is given up.
    pub const MAX_ATTEMPTS: u32 = 10;

    /// Records a failed attempt. Returns the delay before the next one, or `None` when the
    /// attempts are used up. `jitter` is a random number in `0..1`: the delay varies ±25 % so
    /// that many visitors of a failing site do not retry in lockstep.
    pub fn failed(&mut self, retry_after_ms: Option<u64>, jitter: f64) -> Option<u64> {
        self.failures += 1;
        if self.failures >= Self::MAX_ATTEMPTS {
            return None;
        }
        if let Some(ms) = retry_after_ms {
            return Some(ms.min(Self::RETRY_AFTER_CAP_MS));
        }
        let exponential = Self::BASE_MS.saturating_mul(1 << (self.failures - 1).min(16)).min(Self::CAP_MS);
        let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
        Some((exponential as f64 * factor) as u64)
    }

    /// Same as [`failed`](Self::failed), but never gives up (for the session handshake, which
    /// every event waits on).
    pub fn failed_keep_trying(&mut self, retry_after_ms: Option<u64>, jitter: f64) -> u64 {
        self.failures = self.failures.min(Self::MAX_ATTEMPTS - 2);
        self.failed(retry_after_ms, jitter).unwrap_or(Self::CAP_MS)
    }

    /// Records a success: the next failure starts from the base delay again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// Failed attempts since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_verdicts() {
        for s in [200, 204, 302] {
            assert_eq!(verdict(s), Verdict::Delivered);
        }
        for s in [0, 408, 429, 500, 503, 599] {
            assert_eq!(verdict(s), Verdict::Retry);
        }
        for s in [400, 401, 403, 404, 413] {
            assert_eq!(verdict(s), Verdict::Refused);
        }
    }

    #[test]
    fn delays_grow_exponentially_within_the_jitter_band_and_cap() {
        let mut b = Backoff::default();
        let mut previous_mid = 0;
        for attempt in 1..Backoff::MAX_ATTEMPTS {
            let low = b.clone().failed(None, 0.0).unwrap();
            let high = b.clone().failed(None, 1.0).unwrap();
            let mid = b.failed(None, 0.5).unwrap();
            let nominal = (Backoff::BASE_MS << (attempt - 1)).min(Backoff::CAP_MS);
            assert_eq!(mid, nominal, "attempt {attempt}");
            assert_eq!((low, high), (nominal * 3 / 4, nominal * 5 / 4));
            assert!(mid >= previous_mid);
            previous_mid = mid;
        }
        assert_eq!(b.failed(None, 0.5), None, "gives up after the last attempt");
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let mut b = Backoff::default();
        assert_eq!(b.failed(Some(2_000), 0.9), Some(2_000));
        assert_eq!(b.failed(Some(86_400_000), 0.9), Some(Backoff::RETRY_AFTER_CAP_MS));
        assert_eq!(retry_after_seconds(" 3 "), Some(3_000));
        assert_eq!(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after_seconds("-1"), None);
    }

    #[test]
    fn success_resets_and_the_handshake_never_gives_up() {
        let mut b = Backoff::default();
        b.failed(None, 0.5);
        b.succeeded();
        assert_eq!(b.failed(None, 0.5), Some(Backoff::BASE_MS));
        // Far past the attempts an event gets, the handshake still computes real delays: the
        // jitter band below the cap, and the server's Retry-After. (A handshake that had given up
        // would answer the bare cap whatever it was told.)
        let mut h = Backoff::default();
        for attempt in 1..=50u32 {
            let low = h.clone().failed_keep_trying(None, 0.0);
            let told = h.clone().failed_keep_trying(Some(5_000), 0.0);
            let nominal = (Backoff::BASE_MS << (attempt - 1).min(16)).min(Backoff::CAP_MS);
            assert_eq!(low, nominal * 3 / 4, "attempt {attempt}");
            assert_eq!(told, 5_000, "attempt {attempt} honours Retry-After");
            assert_eq!(h.failed_keep_trying(None, 0.5), nominal, "attempt {attempt}");
            assert!(h.failures() < Backoff::MAX_ATTEMPTS, "the count stays below the give-up point");
        }
    }
}
