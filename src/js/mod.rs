//! The JavaScript face of the crate: the `Tracker` class and its TypeScript types. It converts
//! JS values, delegates to the core, and reports problems; it never throws from a tracking call.

mod args;
mod bridge;
mod config;
mod page_events;
mod recommend;
mod report;
mod sender;
mod state;
mod tracker;
mod types;

pub use tracker::Tracker;
