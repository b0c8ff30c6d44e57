//! A map keyed by the ids the emulator issues itself (recIds, message ids): they grow one
//! by one and the oldest are forgotten first, so the recent ones live in a deque indexed
//! by id, where filing and forgetting touch its two ends, not a hash table's random
//! buckets. Ids left behind while the newer ones were forgotten (another account's rows
//! that it keeps longer) move to a hash map, so that the deque stays dense and the
//! memory proportional to the entries kept.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

/// Slack the deque may hold beyond twice its entries before older ones move out.
const SLACK: usize = 64;

pub(crate) struct IdMap<T> {
    /// The id of `recent[0]`.
    base: i64,
    /// The recent ids' entries, by `id - base`; `None` for an id forgotten or never filed here.
    recent: VecDeque<Option<T>>,
    /// The entries in `recent`.
    live: usize,
    /// Entries older than `base`.
    older: FxHashMap<i64, T>,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap { base: 0, recent: VecDeque::new(), live: 0, older: FxHashMap::default() }
    }
}

impl<T> IdMap<T> {
    /// The position of `id` in `recent`, if it is within it.
    fn index(&self, id: i64) -> Option<usize> {
        let index = usize::try_from(id.checked_sub(self.base)?).ok()?;
        (index < self.recent.len()).then_some(index)
    }

    /// Files `value` under `id`, replacing what was there.
    pub(crate) fn insert(&mut self, id: i64, value: T) {
        if let Some(index) = self.index(id) {
            if let Some(slot) = self.recent.get_mut(index) {
                if slot.replace(value).is_none() {
                    self.live += 1;
                }
            }
            return;
        }
        if id < self.base {
            self.older.insert(id, value);
            return;
        }
        // Past the end: the ids in between are not here. Far past, the deque would be
        // mostly holes: start it again at `id`.
        let end = self.base.saturating_add(i64::try_from(self.recent.len()).unwrap_or(i64::MAX));
        let gap = usize::try_from(id.saturating_sub(end)).unwrap_or(usize::MAX);
        if self.recent.is_empty() || gap > self.live + SLACK {
            self.retire_all();
            self.base = id;
        } else {
            self.recent.extend(std::iter::repeat_with(|| None).take(gap));
        }
        self.recent.push_back(Some(value));
        self.live += 1;
        self.compact();
    }

    pub(crate) fn get(&self, id: i64) -> Option<&T> {
        match self.index(id) {
            Some(index) => self.recent.get(index).and_then(Option::as_ref),
            None => self.older.get(&id),
        }
    }

    pub(crate) fn get_mut(&mut self, id: i64) -> Option<&mut T> {
        match self.index(id) {
            Some(index) => self.recent.get_mut(index).and_then(Option::as_mut),
            None => self.older.get_mut(&id),
        }
    }

    pub(crate) fn remove(&mut self, id: i64) -> Option<T> {
        let Some(index) = self.index(id) else { return self.older.remove(&id) };
        let value = self.recent.get_mut(index).and_then(Option::take)?;
        self.live -= 1;
        self.compact();
        Some(value)
    }

    /// Drops the holes at the front, and moves the oldest entries to `older` while the
    /// deque is more than half holes.
    fn compact(&mut self) {
        while let Some(front) = self.recent.front() {
            let sparse = self.recent.len() > 2 * self.live + SLACK;
            if front.is_some() && !sparse {
                break;
            }
            if let Some(Some(value)) = self.recent.pop_front() {
                self.live -= 1;
                self.older.insert(self.base, value);
            }
            self.base += 1;
        }
    }

    /// Moves every recent entry to `older`.
    fn retire_all(&mut self) {
        let base = self.base;
        for (offset, value) in (0..).zip(self.recent.drain(..)) {
            if let Some(value) = value {
                self.older.insert(base + offset, value);
            }
        }
        self.live = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_finds_and_forgets_in_any_order() {
        let mut map = IdMap::default();
        for id in 10..20 {
            map.insert(id, id * 2);
        }
        assert_eq!(map.get(15), Some(&30));
        assert_eq!(map.remove(10), Some(20));
        assert_eq!(map.remove(10), None);
        assert_eq!(map.remove(17), Some(34));
        assert_eq!(map.get(17), None);
        *map.get_mut(18).expect("18") = 0;
        assert_eq!(map.get(18), Some(&0));
        map.insert(5, 1);
        assert_eq!((map.get(5), map.get(9), map.get(20), map.get(-3)), (Some(&1), None, None, None));
        map.insert(1_000_000, 7);
        assert_eq!((map.get(1_000_000), map.get(11), map.get(19)), (Some(&7), Some(&22), Some(&38)));
        assert_eq!(map.remove(11), Some(22));
    }

    #[test]
    fn stays_dense_when_old_entries_outlive_newer_ones() {
        let mut map = IdMap::default();
        map.insert(0, 0);
        // Every later entry is forgotten soon after; entry 0 is kept.
        for id in 1..10_000 {
            map.insert(id, id);
            if id > 10 {
                assert_eq!(map.remove(id - 10), Some(id - 10));
            }
        }
        assert!(map.recent.len() <= 2 * map.live + SLACK, "{} slots for {} entries", map.recent.len(), map.live);
        assert_eq!(map.get(0), Some(&0));
        assert_eq!(map.get(9_999), Some(&9_999));
        assert_eq!(map.get(5), None);
    }
}
