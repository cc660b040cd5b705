//! Browser effects behind small interfaces: storage, transport, clock and timers, page
//! lifecycle, and the cross-tab lock. Each file does one of them (`host` names what
//! `js/host.js` does for them); none of them throws into the page.

pub mod clock;
pub mod host;
pub mod lifecycle;
pub mod lock;
pub mod object;
pub mod page;
pub mod storage;
pub mod task;
pub mod transport;
