//! localStorage and cookies as [`Store`]s. Every access is guarded: storage that is missing
//! (Android WebView with DOM storage off), throws (Safari private mode, sandboxed frames) or is
//! full simply behaves like an empty store that refuses writes.

use std::cell::OnceCell;
use std::rc::Rc;

use super::{host, page};
use crate::core::config::StorageMode;
use crate::core::keys;
use crate::core::store::{Chain, MemoryStore, SharedStore, Store, Stores, WriteFailed};
use crate::core::text::decimal;
use crate::core::urlenc;

/// The page's localStorage (through `js/host.js`), if it can be opened.
#[derive(Debug)]
pub struct LocalStore;

impl LocalStore {
    /// Opens localStorage; `None` when it is absent or access throws. Probed with a read, not a
    /// write: a full storage still holds events to send, and nothing is written before consent.
    /// (A storage that refuses writes is handled write by write: the queue spills to memory.)
    pub fn open() -> Option<LocalStore> {
        host::storage_open(keys::VISITOR).then_some(LocalStore)
    }
}

impl Store for LocalStore {
    fn get(&self, key: &str) -> Option<String> {
        host::storage_get(key)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), WriteFailed> {
        host::storage_set(key, value).then_some(()).ok_or(WriteFailed)
    }

    fn remove(&self, key: &str) {
        host::storage_remove(key);
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let keys = host::storage_keys(prefix);
        keys.split('\n').filter(|k| !k.is_empty()).map(str::to_owned).collect()
    }
}

/// First-party cookies on the site's registrable domain, kept for a year, `SameSite=Lax`.
/// Only small values (the visitor id and session) ever go here. Reading needs nothing; the
/// domain is found (by writing probe cookies) only on the first write, so a cookie layer under a
/// working localStorage costs nothing.
#[derive(Debug)]
pub struct CookieStore {
    /// `; domain=…` for the widest domain that accepts our cookie, or empty for host-only;
    /// `None` inside when no cookie sticks (cookies disabled).
    domain: OnceCell<Option<String>>,
    secure: bool,
    host: String,
}

const YEAR_SECONDS: u32 = 365 * 24 * 60 * 60;

fn cookie_name(key: &str) -> String {
    key.replace(':', "_")
}

impl CookieStore {
    /// Cookie storage of this document; `None` without an HTML document or a location.
    pub fn open() -> Option<CookieStore> {
        host::cookies()?;
        let secure = host::page("protocol")? == "https:";
        let host = host::page("hostname")?;
        Some(CookieStore { domain: OnceCell::new(), secure, host })
    }

    /// Walks up from the shortest candidate ("example.com") until the browser accepts the
    /// cookie: the first that sticks is the registrable domain, shared by every subdomain.
    fn probe(&self) -> Option<String> {
        let host = &self.host;
        let labels: Vec<&str> = host.split('.').collect();
        // An IP address (v4 digits and dots, or a bracketed v6) has no registrable domain.
        let is_ip = host.bytes().all(|b| b.is_ascii_digit() || b == b'.') || host.contains(':') || labels.len() < 2;
        // Then host-only (no domain attribute) as the last resort.
        let first = if is_ip { labels.len() + 1 } else { 2 };
        for take in first..=labels.len() + 1 {
            let domain = match labels.get(labels.len().wrapping_sub(take)..) {
                Some(tail) if take <= labels.len() => ["; domain=", &tail.join(".")].concat(),
                _ => String::new(),
            };
            self.write(&domain, keys::PROBE, "1", YEAR_SECONDS);
            let stuck = self.get(keys::PROBE).is_some();
            self.write(&domain, keys::PROBE, "", 0);
            if stuck {
                return Some(domain);
            }
        }
        None
    }

    fn all(&self) -> Vec<(String, String)> {
        let cookies = host::cookies().unwrap_or_default();
        cookies
            .split(';')
            .filter_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                Some((name.to_owned(), urlenc::decode(value)?))
            })
            .collect()
    }

    fn write(&self, domain: &str, key: &str, value: &str, max_age: u32) {
        let mut cookie = cookie_name(key);
        cookie.push('=');
        urlenc::encode_into(&mut cookie, value);
        cookie.push_str("; path=/; max-age=");
        cookie.push_str(&decimal(max_age.into()));
        cookie.push_str("; SameSite=Lax");
        cookie.push_str(domain);
        if self.secure {
            cookie.push_str("; Secure");
        }
        host::set_cookie(&cookie);
    }
}

impl Store for CookieStore {
    fn get(&self, key: &str) -> Option<String> {
        let name = cookie_name(key);
        self.all().into_iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), WriteFailed> {
        let domain = self.domain.get_or_init(|| self.probe()).as_deref().ok_or(WriteFailed)?;
        self.write(domain, key, value, YEAR_SECONDS);
        // Browsers drop cookies silently (disabled, too large): read back to know.
        if self.get(key).as_deref() == Some(value) {
            Ok(())
        } else {
            Err(WriteFailed)
        }
    }

    fn remove(&self, key: &str) {
        if self.get(key).is_some() {
            if let Some(domain) = self.domain.get_or_init(|| self.probe()) {
                self.write(domain, key, "", 0);
            }
        }
    }

    /// Cookies only ever hold single ids, never the queue, so nothing is listed.
    fn keys_with_prefix(&self, _prefix: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Opens the stores `mode` asks for, falling back as far as memory. Without `consent` there is
/// no cookie layer (its first write probes with cookies). `rcuid`: the site's cookies are opened
/// for Retail Rocket's session cookie too (reading writes nothing; the engine writes it only
/// with consent).
pub fn open(mode: StorageMode, consent: bool, rcuid: bool) -> Stores {
    let window = page::exists();
    let local = || window.then(LocalStore::open).flatten().map(|s| Rc::new(s) as SharedStore);
    let cookie = || CookieStore::open().map(|s| Rc::new(s) as SharedStore);
    let memory: SharedStore = Rc::new(MemoryStore::default());
    let (local, cookie) = match mode {
        // The cookie layer under localStorage is written only when a localStorage write fails
        // (a full quota, or Safari's old private mode, where setItem throws): the id survives.
        StorageMode::Auto => (local(), if consent { cookie() } else { None }),
        StorageMode::Local => (local(), None),
        StorageMode::Cookie => (None, if consent { cookie() } else { None }),
        StorageMode::Memory => (None, None),
    };
    // Where a page asked for localStorage and it was refused (missing, null, or throwing on
    // access), the queue behaves as a storage that refuses every write: events spill to memory,
    // are still sent by this page, and `onError` hears `storage_unavailable` once, as for a full
    // one. (A server, with no window, keeps events in memory without a word.)
    let wanted_local = matches!(mode, StorageMode::Auto | StorageMode::Local) && window;
    let queue = match &local {
        Some(local) => local.clone(),
        None if wanted_local => Rc::new(MemoryStore::with_capacity(0)),
        None => memory.clone(),
    };
    let cookies =
        if rcuid { cookie.clone().or_else(|| CookieStore::open().map(|s| Rc::new(s) as SharedStore)) } else { None };
    let chain: Vec<SharedStore> = [local, cookie].into_iter().flatten().chain([memory]).collect();
    Stores { ids: Rc::new(Chain(chain)), queue, cookies }
}
