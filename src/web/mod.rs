//! Browser effects behind small interfaces: storage, transport, clock and timers. Each file
//! does one of them; none of them throws into the page.

pub mod clock;
pub mod storage;
pub mod transport;
