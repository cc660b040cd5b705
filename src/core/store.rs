//! The key-value storage the core persists into. The browser side implements it over
//! localStorage and cookies; [`MemoryStore`] serves tests and pages where storage is off.

use std::cell::RefCell;
use std::rc::Rc;

/// Writing failed: the storage is full, disabled, or throws. Nothing else changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteFailed;

/// A small synchronous key-value store. Implementations never panic and never throw; reads
/// that fail look like absent keys.
pub trait Store {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &str) -> Result<(), WriteFailed>;
    /// Removes `key` (absent keys are fine).
    fn remove(&self, key: &str);
    /// Every key starting with `prefix`, in any order ([`Chain`] lists a key once per layer
    /// that holds it).
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String>;
}

/// A shared handle to some store.
pub type SharedStore = Rc<dyn Store>;

/// The two stores the tracker writes: small identity values, and the outbound queue.
#[derive(Clone)]
pub struct Stores {
    /// The visitor id, the Retail Rocket session, the last recommendation click, opt-out.
    pub ids: SharedStore,
    /// Queued events (never cookies: they are too small).
    pub queue: SharedStore,
    /// The site's cookies, for the `rcuid` cookie Retail Rocket's own tracker and the site's
    /// server code read; `None` where cookies cannot be used.
    pub cookies: Option<SharedStore>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stores")
    }
}

impl Stores {
    /// Fresh in-memory stores: nothing outlives the page.
    pub fn memory() -> Stores {
        Stores { ids: Rc::new(MemoryStore::default()), queue: Rc::new(MemoryStore::default()), cookies: None }
    }
}

/// A store in memory; clones share the same entries. A plain list: it only ever holds a few
/// ids, or the events of a page whose storage is off (bounded by `maxQueue`).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    entries: Rc<RefCell<Vec<(String, String)>>>,
    /// When set, writes fail once the map holds this many keys (to test quota errors).
    capacity: Option<usize>,
}

impl MemoryStore {
    /// A store whose writes fail once it holds `capacity` keys, like a full localStorage.
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryStore { entries: Rc::default(), capacity: Some(capacity) }
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Option<String> {
        self.entries.borrow().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), WriteFailed> {
        let mut entries = self.entries.borrow_mut();
        if let Some(entry) = entries.iter_mut().find(|(k, _)| k == key) {
            entry.1 = value.to_owned();
            return Ok(());
        }
        if self.capacity.is_some_and(|cap| entries.len() >= cap) {
            return Err(WriteFailed);
        }
        entries.push((key.to_owned(), value.to_owned()));
        Ok(())
    }

    fn remove(&self, key: &str) {
        self.entries.borrow_mut().retain(|(k, _)| k != key);
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.entries.borrow().iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, _)| k.clone()).collect()
    }
}

impl<S: Store + ?Sized> Store for Rc<S> {
    fn get(&self, key: &str) -> Option<String> {
        (**self).get(key)
    }
    fn set(&self, key: &str, value: &str) -> Result<(), WriteFailed> {
        (**self).set(key, value)
    }
    fn remove(&self, key: &str) {
        (**self).remove(key)
    }
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        (**self).keys_with_prefix(prefix)
    }
}

/// Tries stores in order: reads come from the first that has the key, writes go to the first
/// that accepts them. Used for the visitor id: localStorage, then a cookie, then memory.
#[derive(Debug, Clone)]
pub struct Chain<S>(pub Vec<S>);

impl<S: Store> Store for Chain<S> {
    fn get(&self, key: &str) -> Option<String> {
        self.0.iter().find_map(|s| s.get(key))
    }

    fn set(&self, key: &str, value: &str) -> Result<(), WriteFailed> {
        let mut written = false;
        for store in &self.0 {
            if written {
                // A stale copy further down must not win a later read.
                store.remove(key);
            } else {
                written = store.set(key, value).is_ok();
            }
        }
        if written {
            Ok(())
        } else {
            Err(WriteFailed)
        }
    }

    fn remove(&self, key: &str) {
        self.0.iter().for_each(|s| s.remove(key));
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        // A key stored in two layers is listed twice; the queue merges duplicates as it sorts.
        let mut keys = Vec::new();
        for store in &self.0 {
            keys.extend(store.keys_with_prefix(prefix));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_falls_through_to_the_first_store_that_works() {
        let broken = MemoryStore::with_capacity(0);
        let memory = MemoryStore::default();
        let chain = Chain(vec![broken.clone(), memory.clone()]);
        chain.set("k", "v").unwrap();
        assert_eq!(chain.get("k").as_deref(), Some("v"));
        assert_eq!(memory.get("k").as_deref(), Some("v"));
        assert!(Chain(vec![MemoryStore::with_capacity(0)]).set("k", "v").is_err());
    }

    #[test]
    fn a_write_higher_up_hides_stale_copies_below() {
        let top = MemoryStore::default();
        let below = MemoryStore::default();
        below.set("k", "old").unwrap();
        let chain = Chain(vec![top, below.clone()]);
        chain.set("k", "new").unwrap();
        assert_eq!(below.get("k"), None);
        assert_eq!(chain.get("k").as_deref(), Some("new"));
    }

    #[test]
    fn prefix_listing_is_exact() {
        // The contract is "every key with the prefix, in any order": so the listing is compared
        // as a set. That the queue hands events out oldest first whatever order a store lists
        // its keys in is a property test (`properties::queue_order_ignores_listing_order`).
        let m = MemoryStore::default();
        for k in ["b:2", "a:1", "b:1", "c", "b", "ab:1", "B:1", "b:3"] {
            m.set(k, "").unwrap();
        }
        m.remove("b:3");
        let listed = |s: &dyn Store, p: &str| {
            let keys = s.keys_with_prefix(p);
            let mut set = keys.clone();
            set.sort();
            set.dedup();
            assert_eq!(set.len(), keys.len(), "each key once: {keys:?}");
            set
        };
        assert_eq!(listed(&m, "b:"), ["b:1", "b:2"]);
        assert_eq!(listed(&m, "a"), ["a:1", "ab:1"]);
        assert_eq!(listed(&m, "zz"), Vec::<String>::new());
        assert_eq!(listed(&m, "").len(), 7);
        assert_eq!(listed(&Rc::new(m.clone()), "b:"), ["b:1", "b:2"], "through a shared handle");
        // A chain lists a key once per layer that holds it (documented on the trait).
        let lower = MemoryStore::default();
        lower.set("b:1", "").unwrap();
        lower.set("b:9", "").unwrap();
        let mut chained = Chain(vec![m, lower]).keys_with_prefix("b:");
        chained.sort();
        assert_eq!(chained, ["b:1", "b:1", "b:2", "b:9"]);
    }
}
