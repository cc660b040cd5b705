//! The plain-Rust core: validation, events, the persistent queue, retry policy and the wire
//! format. Nothing here touches a browser API, so all of it is tested with `cargo test`.

pub mod attribution;
pub mod config;
pub mod delivery;
pub mod engine;
pub mod error;
pub mod event;
pub mod identity;
pub mod ids;
pub mod json;
pub mod keys;
pub mod landing;
pub mod lease;
pub mod order;
pub mod problem;
// Property tests: proptest is a native-only dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties;
pub mod queue;
pub mod record;
pub mod recs;
pub mod relay;
pub mod retry;
pub mod shopper;
pub mod store;
pub mod text;
pub mod urlenc;
pub mod wire;
