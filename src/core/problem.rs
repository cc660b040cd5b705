//! Things that went wrong after a tracking call returned: they are reported to `onError`, never
//! thrown.

use std::fmt;

use super::error::InputError;
use super::text::decimal;

/// A delivery or storage problem, or a refused tracking call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // the fields are the numbers each message quotes
pub enum Problem {
    /// A tracking call had bad arguments; nothing was queued.
    Input(InputError),
    /// The queue was full: this many of the oldest events were dropped.
    QueueFull { dropped: usize, max: u32 },
    /// Retail Rocket answered with a status that retrying cannot fix; the event was dropped.
    Refused { event: &'static str, status: u16 },
    /// Every attempt failed; the event was dropped.
    GaveUp { event: &'static str, attempts: u32 },
    /// Stored events could not be read back (storage edited or corrupted) and were dropped.
    Unreadable { count: usize },
    /// Persistent storage refused a write; events are kept in memory for this page only.
    StorageUnavailable,
    /// The id a native app handed in through `window.RetailRocketBridge` is not valid; the
    /// stored (or a new) id is used instead.
    InvalidBridgeId { got: String },
    /// Retail Rocket did not issue a session (status 0: no answer); events wait, and the
    /// handshake is retried.
    HandshakeFailed { status: u16 },
    /// The event has no form the relay can carry; it was not queued.
    NotRelayed { reason: &'static str },
    /// A recommendation or items request failed; the last good answer (or nothing) was served.
    RecommendationsUnavailable { reason: String, fallback: bool },
}

impl Problem {
    /// A stable machine-readable code (the `code` of the object passed to `onError`).
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Input(_) => "invalid_argument",
            Problem::QueueFull { .. } => "queue_full",
            Problem::Refused { .. } => "event_refused",
            Problem::GaveUp { .. } => "delivery_failed",
            Problem::Unreadable { .. } => "storage_corrupt",
            Problem::StorageUnavailable => "storage_unavailable",
            Problem::NotRelayed { .. } => "not_relayed",
            Problem::HandshakeFailed { .. } => "session_unavailable",
            Problem::InvalidBridgeId { .. } => "bridge_invalid",
            Problem::RecommendationsUnavailable { .. } => "recommendations_unavailable",
        }
    }
}

impl Problem {
    /// The message for `onError` and the console.
    pub fn message(&self) -> String {
        let n = |n: u64| decimal(n);
        match self {
            Problem::Input(e) => e.message(),
            Problem::QueueFull { dropped, max } => [
                "the queue holds at most ",
                &n((*max).into()),
                " undelivered events (maxQueue): dropped the ",
                &n(*dropped as u64),
                " oldest",
            ]
            .concat(),
            Problem::Refused { event, status } => [
                "Retail Rocket refused a `",
                event,
                "` event with HTTP ",
                &n((*status).into()),
                "; it was dropped (retrying cannot help)",
            ]
            .concat(),
            Problem::GaveUp { event, attempts } => {
                ["a `", event, "` event could not be delivered in ", &n((*attempts).into()), " attempts and was dropped"]
                    .concat()
            }
            Problem::Unreadable { count } => {
                [&n(*count as u64), " stored events could not be read back and were dropped"].concat()
            }
            Problem::StorageUnavailable => {
                "storage refused to save an event (full or disabled); events are kept in memory and sent by this page"
                    .into()
            }
            Problem::NotRelayed { reason } => (*reason).into(),
            Problem::HandshakeFailed { status: 0 } => {
                "Retail Rocket's session handshake got no answer (network, CORS or an ad blocker); events wait and it is retried"
                    .into()
            }
            Problem::HandshakeFailed { status } => [
                "Retail Rocket's session handshake failed (HTTP ",
                &n((*status).into()),
                ", or no sessionId in the answer); events wait and it is retried",
            ]
            .concat(),
            Problem::InvalidBridgeId { got } => [
                "window.RetailRocketBridge gave ",
                got,
                " as sessionExternalId, but it must be 1 to 50 letters and digits \
                 (a UUID's hyphens are removed); it was ignored and the stored id is used",
            ]
            .concat(),
            Problem::RecommendationsUnavailable { reason, fallback } => {
                let served = if *fallback { "the last good answer" } else { "an empty list" };
                ["recommendations unavailable (", reason, "); served ", served].concat()
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}
