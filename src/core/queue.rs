//! The outbound queue: every accepted event is written to storage before the tracking call
//! returns, one key per event, so adding an event costs the same however many are waiting.
//!
//! Keys are `rrt:q:{space}:{time}:{tab}:{seq}`, which sort oldest first across every tab of the
//! site. Each tab writes only under its own random tab id, so two tabs never overwrite each other.
//! The space (8 hex digits) keeps the queues of trackers with different configs (partnerId,
//! endpoint) apart on one origin; keys written before spaces existed (`rrt:q:{time}:…`) are
//! adopted by the first tracker that opens.
//! When the durable store refuses a write (quota, private mode, storage off) the event is kept in
//! memory instead and still delivered by this page.

use super::keys;
use super::record::{written_later, Record};
use super::store::{MemoryStore, Store};
use super::text::padded;

/// What pushing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pushed {
    /// The event is in durable storage (false: in memory only).
    pub durable: bool,
    /// How many of the oldest events were dropped to stay within the bound.
    pub dropped: usize,
}

/// A queued event: its key, its stored line, and the record the line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The storage key (also its place in the order).
    pub key: String,
    /// The stored line, to put back if a handed-off send fails.
    pub line: String,
    /// The event.
    pub record: Record,
}

/// The queue of one visitor's undelivered events.
#[derive(Debug)]
pub struct Queue<S> {
    durable: S,
    /// `rrt:q:{space}:`, the prefix of this queue's keys.
    prefix: String,
    spill: MemoryStore,
    tab: String,
    seq: u32,
    /// The time in the newest key this tab wrote.
    last_key_ms: u64,
    max: usize,
    /// Keys known to be queued, oldest first: refreshed from storage when it runs dry or when
    /// another tab is known to have written.
    known: Vec<String>,
    /// Keys holding a line of a later format version (another tab, during an upgrade): left in
    /// storage for that release, and neither counted nor sent here.
    later: Vec<String>,
    stale: bool,
    /// Events dropped because their stored line could not be read back.
    unreadable: usize,
}

impl<S: Store> Queue<S> {
    #[cfg(test)]
    /// Opens the queue in `durable`, writing as tab `tab`, keeping at most `max` events.
    pub fn new(durable: S, tab: &str, max: usize) -> Self {
        Self::within(durable, "", tab, max)
    }

    /// Opens the queue of `space` (empty: the keys of before spaces existed).
    pub fn within(durable: S, space: &str, tab: &str, max: usize) -> Self {
        let mut prefix = keys::QUEUE_PREFIX.to_owned();
        if !space.is_empty() {
            prefix.push_str(space);
            prefix.push(':');
        }
        Queue {
            durable,
            prefix,
            spill: MemoryStore::default(),
            tab: tab.to_owned(),
            seq: 0,
            last_key_ms: 0,
            max: max.max(1),
            known: Vec::new(),
            later: Vec::new(),
            stale: true,
            unreadable: 0,
        }
    }

    /// Lists the queue's keys again, setting aside the lines of a later format version, so
    /// they are never counted (`len`, the `maxQueue` bound). (Storage lists keys one by one
    /// anyway: reading each line too keeps a rescan linear in the queue.)
    fn rescan(&mut self) {
        self.known.clear();
        self.later.clear();
        // Sorted by insertion: storage lists keys in no particular order, usually close to
        // sorted, and a general-purpose sort would cost the module about 3 KB.
        for key in
            self.durable.keys_with_prefix(&self.prefix).into_iter().chain(self.spill.keys_with_prefix(&self.prefix))
        {
            if self.read(&key).is_some_and(|line| written_later(&line)) {
                self.later.push(key);
            } else {
                self.insert_known(key);
            }
        }
        self.stale = false;
    }

    fn read(&self, key: &str) -> Option<String> {
        self.spill.get(key).or_else(|| self.durable.get(key))
    }

    /// Another tab changed the queue: look at storage again before the next read.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Stores one event. At the bound, the oldest events make room.
    pub fn push(&mut self, record: &Record) -> Pushed {
        let mut pushed = Pushed::default();
        // Other tabs' writes and deliveries mark the queue stale; otherwise the known keys are
        // current, and a full queue does not re-list storage on every call.
        if self.stale {
            self.rescan();
        }
        while self.known.len() >= self.max {
            // A tab makes room among its own events only, so two tabs never drop (and report)
            // the same event: each drop is counted once, by the tab that tracked it. A queue full
            // of other tabs' events drops the new one.
            let Some(own) = self.known.iter().position(|key| self.is_own(key)) else {
                pushed.dropped += 1;
                return pushed;
            };
            let oldest = self.known.remove(own);
            // The site's sender may have delivered it a moment ago: only a stored event is dropped.
            if self.read(&oldest).is_some() {
                self.remove(&oldest);
                pushed.dropped += 1;
            }
        }
        self.seq = self.seq.wrapping_add(1);
        // Keys must sort in the order events happened. The record keeps its own time; the key
        // never goes back in time within a tab, even if the clock does.
        self.last_key_ms = self.last_key_ms.max(record.at_ms);
        let key =
            [&self.prefix, &padded(self.last_key_ms, 13), ":", &self.tab, ":", &padded(self.seq.into(), 6)].concat();
        let line = record.encode();
        pushed.durable = self.durable.set(&key, &line).is_ok();
        if !pushed.durable {
            // Storage refused (full or disabled): keep it for this page rather than lose it.
            let _ = self.spill.set(&key, &line);
        }
        self.insert_known(key);
        pushed
    }

    /// The oldest readable event, without removing it. Unreadable lines are removed on the
    /// way and counted.
    pub fn oldest(&mut self) -> Option<Entry> {
        self.first(1).pop()
    }

    /// Up to `limit` of the oldest readable events, oldest first, without removing them.
    pub fn first(&mut self, limit: usize) -> Vec<Entry> {
        if self.stale || self.known.is_empty() {
            self.rescan();
        }
        let mut entries = Vec::new();
        let mut i = 0;
        while i < self.known.len() && entries.len() < limit {
            let key = self.known[i].clone();
            match self.read(&key) {
                None => {
                    // Delivered or dropped by another tab meanwhile.
                    self.known.remove(i);
                }
                Some(line) => match Record::decode(&line) {
                    Some(record) => {
                        entries.push(Entry { key, line, record });
                        i += 1;
                    }
                    // Left for the newer release that wrote it (another tab).
                    None if written_later(&line) => self.later.push(self.known.remove(i)),
                    None => {
                        self.remove(&key);
                        self.unreadable += 1;
                    }
                },
            }
        }
        entries
    }

    /// True if this tab queued the event stored under `key`.
    pub fn is_own(&self, key: &str) -> bool {
        key.strip_prefix(self.prefix.as_str()).and_then(|rest| rest.split(':').nth(1)) == Some(self.tab.as_str())
    }

    #[cfg(test)]
    /// True if `key` is still stored.
    pub fn contains(&self, key: &str) -> bool {
        self.read(key).is_some()
    }

    /// Adds a key to the known keys in its sorted place (almost always the end).
    fn insert_known(&mut self, key: String) {
        if self.known.last().is_none_or(|last| *last < key) {
            self.known.push(key);
        } else {
            let at = self.known.partition_point(|k| *k < key);
            if self.known.get(at) != Some(&key) {
                self.known.insert(at, key);
            }
        }
    }

    /// Puts an event back under its old key (a send that was handed off failed), so it keeps
    /// its place in the order.
    pub fn restore(&mut self, key: &str, line: &str) {
        if self.durable.set(key, line).is_err() {
            let _ = self.spill.set(key, line);
        }
        self.insert_known(key.to_owned());
    }

    /// Removes one event (delivered, or refused by the server).
    pub fn remove(&mut self, key: &str) {
        self.durable.remove(key);
        self.spill.remove(key);
        if let Some(at) = self.known.iter().position(|k| k == key) {
            self.known.remove(at);
        }
    }

    /// How many events are waiting, in every tab.
    pub fn len(&mut self) -> usize {
        self.rescan();
        self.known.len()
    }

    #[cfg(test)]
    /// True when nothing is waiting.
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Removes every queued event, a later release's too (the visitor opted out, or is
    /// forgotten: that release must not send them either).
    pub fn clear(&mut self) {
        self.rescan();
        self.known.append(&mut self.later);
        for key in std::mem::take(&mut self.known) {
            self.durable.remove(&key);
            self.spill.remove(&key);
        }
    }

    /// Moves the events stored before spaces existed into this queue's space, keeping their
    /// place in the order. (Which config queued them is not known: they were one site-wide
    /// queue, sent by whichever tracker sent first.)
    pub fn adopt_legacy(&mut self) {
        for key in self.durable.keys_with_prefix(keys::QUEUE_PREFIX) {
            // A space is 8 hex digits and a colon; the old keys have a 13-digit time there.
            if let (Some(rest), Some(line)) = (key.strip_prefix(keys::QUEUE_PREFIX), self.durable.get(&key)) {
                if rest.as_bytes().get(8) != Some(&b':') {
                    self.restore(&(self.prefix.clone() + rest), &line);
                    self.durable.remove(&key);
                }
            }
        }
    }

    /// Takes the count of unreadable lines dropped since the last call.
    pub fn take_unreadable(&mut self) -> usize {
        std::mem::take(&mut self.unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Event;
    use crate::core::ids::ItemId;

    fn view(n: u64, at_ms: u64) -> Record {
        let item = ItemId::parse(&n.to_string()).unwrap();
        Record::of(&Event::View { item, stock: None, recom_item: None }, at_ms, Default::default())
    }

    /// The product ids of `records`, in order.
    fn ids(records: Vec<Record>) -> Vec<u64> {
        records.iter().map(|r| r.parts.id.as_deref().unwrap().parse().unwrap()).collect()
    }

    fn drain<S: Store>(q: &mut Queue<S>) -> Vec<Record> {
        let mut out = Vec::new();
        while let Some(entry) = q.oldest() {
            q.remove(&entry.key);
            out.push(entry.record);
        }
        out
    }

    #[test]
    fn first_in_first_out() {
        let mut q = Queue::new(MemoryStore::default(), "tab1", 10);
        for n in 1..=5 {
            assert_eq!(q.push(&view(n, 1000)), Pushed { durable: true, dropped: 0 });
        }
        assert_eq!(q.len(), 5);
        let ids = ids(drain(&mut q));
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        assert!(q.is_empty());
    }

    #[test]
    fn survives_a_reload() {
        let storage = MemoryStore::default();
        let mut before = Queue::new(storage.clone(), "tabA", 10);
        before.push(&view(1, 10));
        before.push(&view(2, 11));
        drop(before);
        let mut after = Queue::new(storage, "tabB", 10);
        after.push(&view(3, 12));
        let ids = ids(drain(&mut after));
        assert_eq!(ids, [1, 2, 3]);
    }

    #[test]
    fn two_tabs_interleave_by_time_without_overwriting() {
        let storage = MemoryStore::default();
        let mut a = Queue::new(storage.clone(), "aaaa", 10);
        let mut b = Queue::new(storage.clone(), "bbbb", 10);
        a.push(&view(1, 100));
        b.push(&view(2, 101));
        a.push(&view(3, 102));
        b.push(&view(4, 102));
        a.mark_stale();
        let ids = ids(drain(&mut a));
        assert_eq!(ids, [1, 2, 3, 4]);
        assert!(b.is_empty(), "b sees a's deliveries");
    }

    #[test]
    fn the_bound_drops_the_oldest() {
        let mut q = Queue::new(MemoryStore::default(), "t", 3);
        let dropped: usize = (1..=5).map(|n| q.push(&view(n, n)).dropped).sum();
        assert_eq!(dropped, 2);
        let ids = ids(drain(&mut q));
        assert_eq!(ids, [3, 4, 5]);
    }

    #[test]
    fn a_full_store_spills_to_memory_and_keeps_what_it_had() {
        let storage = MemoryStore::with_capacity(2);
        let mut q = Queue::new(storage.clone(), "t", 10);
        assert!(q.push(&view(1, 1)).durable);
        assert!(q.push(&view(2, 2)).durable);
        assert!(!q.push(&view(3, 3)).durable, "quota reached");
        assert_eq!(storage.keys_with_prefix(keys::QUEUE_PREFIX).len(), 2, "stored events untouched");
        let ids = ids(drain(&mut q));
        assert_eq!(ids, [1, 2, 3]);
    }

    #[test]
    fn a_restored_event_keeps_its_place() {
        let mut q = Queue::new(MemoryStore::default(), "t", 10);
        for n in 1..=3 {
            q.push(&view(n, n));
        }
        let first = q.oldest().unwrap();
        q.remove(&first.key);
        assert!(!q.contains(&first.key));
        q.restore(&first.key, &first.line);
        let ids = ids(drain(&mut q));
        assert_eq!(ids, [1, 2, 3]);
    }

    #[test]
    fn unreadable_lines_are_dropped_and_counted() {
        let storage = MemoryStore::default();
        storage.set("rrt:q:0000000000001:x:000001", "garbage").unwrap();
        let mut q = Queue::new(storage, "t", 10);
        q.push(&view(7, 5));
        let ids = ids(drain(&mut q));
        assert_eq!(ids, [7]);
        assert_eq!(q.take_unreadable(), 1);
    }

    #[test]
    fn lines_of_a_later_format_version_are_left_in_storage() {
        let storage = MemoryStore::default();
        storage.set("rrt:q:0000000000001:x:000001", "v=2&e=view&t=1&id=1").unwrap();
        let mut q = Queue::new(storage.clone(), "t", 10);
        q.push(&view(7, 5));
        let ids = ids(drain(&mut q));
        assert_eq!(ids, [7]);
        assert_eq!(q.take_unreadable(), 0, "not counted as unreadable");
        assert_eq!(storage.get("rrt:q:0000000000001:x:000001").as_deref(), Some("v=2&e=view&t=1&id=1"));
    }

    #[test]
    fn lines_of_a_later_format_version_are_not_counted() {
        let storage = MemoryStore::default();
        storage.set("rrt:q:0000000000001:x:000001", "v=2&e=view&t=1&id=1").unwrap();
        let mut q = Queue::new(storage.clone(), "t", 2);
        assert_eq!(q.len(), 0, "before any send");
        q.push(&view(7, 5));
        assert_eq!(q.push(&view(8, 6)), Pushed { durable: true, dropped: 0 }, "the bound counts our events only");
        assert_eq!(q.len(), 2);
        q.mark_stale();
        assert_eq!(q.len(), 2, "after a rescan too");
        assert_eq!(ids(q.first(10).into_iter().map(|e| e.record).collect()), [7, 8]);
        assert_eq!(q.len(), 2, "after a read");
    }

    #[test]
    fn clearing_removes_lines_of_a_later_format_version_too() {
        let storage = MemoryStore::default();
        storage.set("rrt:q:0000000000001:x:000001", "v=2&e=view&t=1&id=1").unwrap();
        let mut q = Queue::new(storage.clone(), "t", 10);
        q.push(&view(7, 5));
        q.clear();
        assert!(storage.keys_with_prefix("rrt:q:").is_empty());
    }

    #[test]
    fn push_cost_does_not_depend_on_queue_length() {
        // Counting store operations, not time: a push reads nothing and writes one key once the
        // queue is open, whether 1 or 999 events wait.
        #[derive(Debug, Default)]
        struct Counting {
            inner: MemoryStore,
            ops: std::cell::Cell<usize>,
        }
        impl Store for Counting {
            fn get(&self, k: &str) -> Option<String> {
                self.ops.set(self.ops.get() + 1);
                self.inner.get(k)
            }
            fn set(&self, k: &str, v: &str) -> Result<(), crate::core::store::WriteFailed> {
                self.ops.set(self.ops.get() + 1);
                self.inner.set(k, v)
            }
            fn remove(&self, k: &str) {
                self.ops.set(self.ops.get() + 1);
                self.inner.remove(k)
            }
            fn keys_with_prefix(&self, p: &str) -> Vec<String> {
                self.ops.set(self.ops.get() + 1000);
                self.inner.keys_with_prefix(p)
            }
        }
        let store = std::rc::Rc::new(Counting::default());
        let mut q = Queue::new(store.clone(), "t", 1000);
        q.push(&view(1, 1));
        for (queued, n) in [(1usize, 2u64), (998, 999)] {
            while q.known.len() < queued {
                q.push(&view(n, 2));
            }
            let before = store.ops.get();
            q.push(&view(n, 3));
            assert_eq!(store.ops.get() - before, 1, "one write with {queued} queued");
        }
        // Full: the push also reads and removes the oldest, and lists nothing.
        while q.known.len() < 1000 {
            q.push(&view(4, 3));
        }
        let before = store.ops.get();
        assert_eq!(q.push(&view(5, 4)).dropped, 1);
        assert_eq!(store.ops.get() - before, 3, "read, remove and write at the bound");
    }

    #[test]
    fn tabs_make_room_among_their_own_events_so_a_drop_is_counted_once() {
        let storage = MemoryStore::default();
        let mut a = Queue::new(storage.clone(), "aaaa", 3);
        let mut b = Queue::new(storage.clone(), "bbbb", 3);
        a.push(&view(1, 1));
        b.push(&view(2, 2));
        a.mark_stale();
        b.mark_stale();
        a.push(&view(3, 3));
        b.mark_stale();
        // Both tabs see the queue full at once: each drops one of its own, never the other's.
        assert_eq!(a.push(&view(4, 4)).dropped, 1);
        assert_eq!(b.push(&view(5, 5)).dropped, 1);
        let mut all = Queue::new(storage.clone(), "cccc", 3);
        let ids = ids(drain(&mut all));
        assert_eq!(ids, [3, 4, 5], "1 (a's oldest) and 2 (b's oldest) made room");
        // A tab with nothing of its own in a full queue drops the event it is given.
        let full = MemoryStore::default();
        let mut other = Queue::new(full.clone(), "bbbb", 2);
        other.push(&view(1, 1));
        other.push(&view(2, 2));
        let mut late = Queue::new(full, "cccc", 2);
        assert_eq!(late.push(&view(3, 3)).dropped, 1);
        assert_eq!(late.len(), 2);
    }

    #[test]
    fn an_oldest_event_another_tab_delivered_is_not_counted_as_dropped() {
        let storage = MemoryStore::default();
        let mut a = Queue::new(storage.clone(), "aaaa", 2);
        a.push(&view(1, 1));
        a.push(&view(2, 2));
        // Tab B delivers event 1; tab A has not heard of it yet (no storage event so far).
        let mut b = Queue::new(storage, "bbbb", 2);
        let delivered = b.oldest().unwrap();
        b.remove(&delivered.key);
        assert_eq!(a.push(&view(3, 3)).dropped, 0);
        a.mark_stale();
        let ids = ids(drain(&mut a));
        assert_eq!(ids, [2, 3]);
    }
}
