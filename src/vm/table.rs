//! The storage of `map<K, V>`: an insertion-ordered hash table keyed by numbers, strings
//! or bools: the entries in a vector in insertion order, and a `hashbrown` table of
//! their positions (`u32`s), the layout of `indexmap`, with a hasher of our own and
//! order-preserving removal in O(1).
//!
//! Hashing: a key's hash is computed by [`KeyRef::hash_code`] and handed to the table's
//! hasher as one `u64`, which it passes through. A number hashes its bits (with `-0`
//! made `0`) through a folded multiply; a string hashes its bytes once and keeps the
//! result in the string ([`Str::hash_code`]), so the same string object never hashes
//! twice, however many maps it is a key of.
//!
//! Removal keeps the order without moving the entries after the removed one (which is
//! O(n): `indexmap`'s `shift_remove` also renumbers their positions in the index): it
//! leaves a tombstone (`None`) in the entry vector. Tombstones at the end are popped at
//! once; when they outnumber the live entries the vector is compacted and the index
//! rebuilt, O(n) once per n removals, so removal stays O(1) amortized and iteration
//! never skips more holes than there are entries.

use std::cell::{Ref, RefCell};
use std::mem::size_of;
use std::rc::Rc;

use hashbrown::HashTable;

use super::heap;
use super::value::{Str, Value};

/// The runtime error for a NaN key.
pub const NAN_KEY: &str = "NaN is not a valid map key";

/// A key stored in a map.
#[derive(Debug, Clone)]
pub enum MapKey {
    /// The bits of the number, `-0` stored as `0` (NaN is never a key).
    Num(u64),
    Bool(bool),
    Str(Rc<Str>),
}

/// A key being looked up, borrowed from a register (no reference count traffic).
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    Num(u64),
    Bool(bool),
    Str(&'a Str),
}

/// The multiplier of the folded multiply (from wyhash).
const MULTIPLIER: u64 = 0xa076_1d64_78bd_642f;

/// Mixes `x` so that every bit of it reaches the high and the low bits of the result
/// (the table uses both): the two halves of the 128-bit product, xored.
#[inline(always)]
fn fold_mul(x: u64, y: u64) -> u64 {
    let product = (x as u128).wrapping_mul(y as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The hash of a string's bytes: eight at a time through the folded multiply.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = 0x2d35_8dcc_aa6c_78a5 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        h = fold_mul(h ^ word, MULTIPLIER);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = fold_mul(h ^ u64::from_le_bytes(word), MULTIPLIER);
    }
    fold_mul(h, 0x8ebc_6af0_9c88_c6e3)
}

impl<'a> KeyRef<'a> {
    /// The key for `value`, or the error message when it cannot be one (NaN; other
    /// values only in ill-typed bytecode).
    #[inline(always)]
    pub fn of(value: &'a Value) -> Result<KeyRef<'a>, &'static str> {
        match value {
            Value::Num(n) if n.is_nan() => Err(NAN_KEY),
            // `+ 0.0` turns -0 into 0 and leaves every other number as it is.
            Value::Num(n) => Ok(KeyRef::Num((n + 0.0).to_bits())),
            Value::Str(s) => Ok(KeyRef::Str(s)),
            Value::Bool(b) => Ok(KeyRef::Bool(*b)),
            _ => Err("a map key must be a number, a string or a bool"),
        }
    }

    #[inline(always)]
    fn hash_code(self) -> u64 {
        match self {
            KeyRef::Num(bits) => fold_mul(bits ^ 0x5851_f42d_4c95_7f2d, MULTIPLIER),
            KeyRef::Bool(b) => 0x9e37_79b9_7f4a_7c15 ^ b as u64,
            KeyRef::Str(s) => s.hash_code(),
        }
    }

    /// The key to store, sharing the string.
    fn to_owned_key(self, value: &Value) -> MapKey {
        match (self, value) {
            (KeyRef::Str(_), Value::Str(s)) => MapKey::Str(s.clone()),
            (KeyRef::Num(bits), _) => MapKey::Num(bits),
            (KeyRef::Bool(b), _) => MapKey::Bool(b),
            (KeyRef::Str(s), _) => MapKey::Str(Rc::new(Str::new(s.as_str()))),
        }
    }
}

impl MapKey {
    fn as_ref(&self) -> KeyRef<'_> {
        match self {
            MapKey::Num(bits) => KeyRef::Num(*bits),
            MapKey::Bool(b) => KeyRef::Bool(*b),
            MapKey::Str(s) => KeyRef::Str(s),
        }
    }

    /// The key as a value (for `keys` and `for in`).
    pub fn to_value(&self) -> Value {
        match self {
            MapKey::Num(bits) => Value::Num(f64::from_bits(*bits)),
            MapKey::Bool(b) => Value::Bool(*b),
            MapKey::Str(s) => Value::Str(s.clone()),
        }
    }
}

impl PartialEq for KeyRef<'_> {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (KeyRef::Num(a), KeyRef::Num(b)) => a == b,
            (KeyRef::Bool(a), KeyRef::Bool(b)) => a == b,
            (KeyRef::Str(a), KeyRef::Str(b)) => std::ptr::eq(*a, *b) || a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl KeyRef<'_> {
    /// Whether `key` is this key.
    #[inline(always)]
    fn matches(self, key: &MapKey) -> bool {
        self == key.as_ref()
    }
}

/// The entries of a map in insertion order (`None`: a removed entry), and the index from
/// key hashes to their positions.
#[derive(Debug, Default)]
pub struct Table {
    entries: Vec<Option<(MapKey, Value)>>,
    index: HashTable<u32>,
    live: usize,
}

/// The hash of the key of a live entry (the index holds only those).
#[inline(always)]
fn entry_hash(entries: &[Option<(MapKey, Value)>], at: u32) -> u64 {
    entries[at as usize]
        .as_ref()
        .map_or(0, |(key, _)| key.as_ref().hash_code())
}

impl Table {
    fn with_capacity(capacity: usize) -> Table {
        Table {
            entries: Vec::with_capacity(capacity),
            index: HashTable::with_capacity(capacity),
            live: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Entries the buffers have room for (for the heap account).
    pub fn capacity(&self) -> usize {
        self.entries.capacity().max(self.index.capacity())
    }

    /// The live entries, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&MapKey, &Value)> {
        self.entries
            .iter()
            .filter_map(|entry| entry.as_ref().map(|(k, v)| (k, v)))
    }

    #[inline(always)]
    fn find(&self, key: KeyRef<'_>) -> Option<Slot> {
        let entries = &self.entries;
        self.index
            .find(key.hash_code(), |&at| {
                entries[at as usize]
                    .as_ref()
                    .is_some_and(|(k, _)| key.matches(k))
            })
            .map(|&at| at as usize)
    }

    #[inline(always)]
    fn get_index(&self, slot: Slot) -> Option<(&MapKey, &Value)> {
        self.entries.get(slot)?.as_ref().map(|(k, v)| (k, v))
    }

    #[inline(always)]
    fn get_index_mut(&mut self, slot: Slot) -> Option<(&MapKey, &mut Value)> {
        self.entries.get_mut(slot)?.as_mut().map(|(k, v)| (&*k, v))
    }

    /// Replaces the value of `key` in place, or appends a new entry: its position and
    /// the replaced value.
    fn insert(
        &mut self,
        key: KeyRef<'_>,
        key_value: &Value,
        value: Value,
    ) -> (Slot, Option<Value>) {
        if let Some(slot) = self.find(key) {
            let (_, current) = self
                .get_index_mut(slot)
                .expect("the index names live entries");
            return (slot, Some(std::mem::replace(current, value)));
        }
        let at = self.entries.len();
        // Positions are u32s: a map cannot hold 4 billion entries in any memory limit
        // (each takes 32 bytes), but a full vector of tombstones is compacted first.
        let at32 = u32::try_from(at).expect("fewer than 2^32 entries");
        self.entries
            .push(Some((key.to_owned_key(key_value), value)));
        let entries = &self.entries;
        self.index
            .insert_unique(key.hash_code(), at32, |&i| entry_hash(entries, i));
        self.live += 1;
        (at, None)
    }

    /// Removes `key`, leaving a tombstone in its place.
    fn remove(&mut self, key: KeyRef<'_>) -> Option<(MapKey, Value)> {
        let entries = &self.entries;
        let found = self.index.find_entry(key.hash_code(), |&at| {
            entries[at as usize]
                .as_ref()
                .is_some_and(|(k, _)| key.matches(k))
        });
        let (at, _) = found.ok()?.remove();
        let removed = self.entries[at as usize].take();
        self.live -= 1;
        while matches!(self.entries.last(), Some(None)) {
            self.entries.pop();
        }
        let tombstones = self.entries.len() - self.live;
        if tombstones > 8 && tombstones > self.live {
            self.compact();
        }
        removed
    }

    /// Drops the tombstones and renumbers the index.
    #[cold]
    #[inline(never)]
    fn compact(&mut self) {
        self.entries.retain(Option::is_some);
        self.index.clear();
        let entries = &self.entries;
        for (at, entry) in entries.iter().enumerate() {
            let hash = entry.as_ref().map_or(0, |(k, _)| k.as_ref().hash_code());
            self.index
                .insert_unique(hash, at as u32, |&i| entry_hash(entries, i));
        }
    }
}

/// The storage of a map: shared and mutable in place. The table's buffers are counted
/// in the heap account (`--max-memory`).
#[derive(Debug)]
pub struct Map {
    table: RefCell<Table>,
    /// Bytes the table's buffers hold in the heap account now.
    charged: std::cell::Cell<usize>,
    /// The position a lookup or store found last (a hint: checked before use).
    last: std::cell::Cell<Slot>,
}

/// Bytes an `Rc<Map>` allocation takes besides the buffers.
const MAP_OVERHEAD: usize = 2 * size_of::<usize>() + size_of::<Map>();

/// Bytes per entry of capacity: the entry (key and value) and the index's position and
/// control byte.
const ENTRY_BYTES: usize = size_of::<Option<(MapKey, Value)>>() + size_of::<u32>() + 1;

/// Entries a literal preallocates at most; longer literals grow as they are filled.
const MAX_PREALLOCATED: usize = 1 << 12;

/// What a lookup for an `op=` found: the entry's position, to store to without hashing
/// again.
pub type Slot = usize;

impl Map {
    pub fn with_capacity(capacity: usize) -> Map {
        let table = Table::with_capacity(capacity.min(MAX_PREALLOCATED));
        let charged = table.capacity() * ENTRY_BYTES;
        heap::acquire(MAP_OVERHEAD + charged);
        Map {
            table: RefCell::new(table),
            charged: std::cell::Cell::new(charged),
            last: std::cell::Cell::new(0),
        }
    }

    /// The entries, read-only, in insertion order.
    pub fn borrow(&self) -> Ref<'_, Table> {
        self.table.borrow()
    }

    pub fn len(&self) -> usize {
        self.table.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The position of `key`. The position found last is tried first: scripts look a
    /// key up again right after finding it (`has(m, k)` then `m[k]`, `m[k] = get(m, k,
    /// 0) + 1`), and comparing one key costs less than probing the table again (-20% on
    /// memo_map.at).
    #[inline(always)]
    fn position(&self, table: &Table, key: KeyRef<'_>) -> Option<Slot> {
        let last = self.last.get();
        if let Some((found, _)) = table.get_index(last) {
            if key.matches(found) {
                return Some(last);
            }
        }
        let slot = table.find(key)?;
        self.last.set(slot);
        Some(slot)
    }

    /// The value under `key`, copied out.
    #[inline(always)]
    pub fn get(&self, key: KeyRef<'_>) -> Option<Value> {
        self.get_with_slot(key).map(|(value, _)| value)
    }

    /// The value under `key` and its slot, for a store that follows (`m[k] op= e`).
    #[inline(always)]
    pub fn get_with_slot(&self, key: KeyRef<'_>) -> Option<(Value, Slot)> {
        let table = self.table.borrow();
        let slot = self.position(&table, key)?;
        table
            .get_index(slot)
            .map(|(_, value)| (value.fast_clone(), slot))
    }

    #[inline(always)]
    pub fn contains(&self, key: KeyRef<'_>) -> bool {
        self.position(&self.table.borrow(), key).is_some()
    }

    /// Inserts or replaces (in place); the replaced value is returned, to be dropped
    /// after the table's borrow ends.
    #[inline(always)]
    pub fn insert(&self, key: KeyRef<'_>, key_value: &Value, value: Value) -> Option<Value> {
        self.store_at(self.last.get(), key, key_value, value)
    }

    /// Stores `value` under `key`, which a lookup found at `slot`: without hashing
    /// when the entry is still there (the code between the lookup and the store may have
    /// removed it, or removed others and moved it), else hashing, replacing in place or
    /// appending.
    #[inline(always)]
    pub fn store_at(
        &self,
        slot: Slot,
        key: KeyRef<'_>,
        key_value: &Value,
        value: Value,
    ) -> Option<Value> {
        let mut table = self.table.borrow_mut();
        if let Some((found, current)) = table.get_index_mut(slot) {
            if key.matches(found) {
                return Some(std::mem::replace(current, value));
            }
        }
        let (slot, replaced) = table.insert(key, key_value, value);
        self.last.set(slot);
        if replaced.is_none() {
            let capacity = table.capacity();
            drop(table);
            self.charge(capacity);
        }
        replaced
    }

    /// Removes `key`, keeping the order of the others; the removed value is returned.
    pub fn remove(&self, key: KeyRef<'_>) -> Option<(MapKey, Value)> {
        self.table.borrow_mut().remove(key)
    }

    /// Keeps the heap account equal to what a table of `capacity` entries holds.
    #[inline(always)]
    fn charge(&self, capacity: usize) {
        let bytes = capacity * ENTRY_BYTES;
        if bytes != self.charged.get() {
            recharge(&self.charged, bytes);
        }
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<Value> {
        self.table
            .borrow()
            .iter()
            .map(|(k, _)| k.to_value())
            .collect()
    }

    /// The values, in order.
    pub fn values(&self) -> Vec<Value> {
        self.table.borrow().iter().map(|(_, v)| v.clone()).collect()
    }
}

#[cold]
#[inline(never)]
fn recharge(charged: &std::cell::Cell<usize>, bytes: usize) {
    let before = charged.replace(bytes);
    if bytes > before {
        heap::acquire(bytes - before);
    } else {
        heap::release(before - bytes);
    }
}

impl Map {
    /// Moves out the values that hold other values (see [`Value::holds_values`]), for
    /// dropping them one at a time.
    pub(super) fn drain_nested(&mut self, into: &mut Vec<Value>) {
        let table = self.table.get_mut();
        for entry in table.entries.iter_mut().flatten() {
            if entry.1.holds_values() {
                into.push(std::mem::take(&mut entry.1));
            }
        }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        heap::release(MAP_OVERHEAD + self.charged.get());
        let table = self.table.get_mut();
        if table.iter().any(|(_, value)| value.holds_values()) {
            let mut nested = Vec::new();
            self.drain_nested(&mut nested);
            super::value::dismantle(nested);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_zero_and_zero_are_one_key() {
        let (zero, minus_zero) = (Value::Num(0.0), Value::Num(-0.0));
        let map = Map::with_capacity(0);
        map.insert(KeyRef::of(&zero).unwrap(), &zero, Value::Num(1.0));
        map.insert(
            KeyRef::of(&minus_zero).unwrap(),
            &minus_zero,
            Value::Num(2.0),
        );
        assert_eq!(map.len(), 1);
        assert!(matches!(map.keys()[0], Value::Num(n) if n.to_bits() == 0));
    }

    fn num(n: f64) -> Value {
        Value::Num(n)
    }

    fn insert(map: &Map, k: f64, v: f64) {
        map.insert(KeyRef::of(&num(k)).unwrap(), &num(k), num(v));
    }

    fn keys_of(map: &Map) -> Vec<f64> {
        map.keys()
            .iter()
            .map(|k| match k {
                Value::Num(n) => *n,
                _ => f64::NAN,
            })
            .collect()
    }

    #[test]
    fn removal_keeps_order_through_compaction() {
        let map = Map::with_capacity(0);
        for i in 0..100 {
            insert(&map, i as f64, i as f64);
        }
        // Removing all but every tenth compacts the entries several times.
        for i in 0..100 {
            if i % 10 != 0 {
                let key = num(i as f64);
                assert!(map.remove(KeyRef::of(&key).unwrap()).is_some());
            }
        }
        assert_eq!(
            keys_of(&map),
            [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
        );
        assert!(map.borrow().entries.len() < 30, "compacted");
        for i in (0..100).step_by(10) {
            assert!(
                matches!(map.get(KeyRef::of(&num(i as f64)).unwrap()), Some(Value::Num(n)) if n == i as f64)
            );
        }
        assert!(map.get(KeyRef::of(&num(5.0)).unwrap()).is_none());
        // Inserted again: at the end.
        insert(&map, 5.0, 0.0);
        insert(&map, 0.0, 1.0);
        assert_eq!(keys_of(&map).first(), Some(&0.0));
        assert_eq!(keys_of(&map).last(), Some(&5.0));
        assert_eq!(map.len(), 11);
    }

    #[test]
    fn removing_the_last_entries_pops_them() {
        let map = Map::with_capacity(0);
        for i in 0..5 {
            insert(&map, i as f64, 0.0);
        }
        for i in (2..5).rev() {
            map.remove(KeyRef::of(&num(i as f64)).unwrap());
        }
        assert_eq!(map.borrow().entries.len(), 2);
        assert_eq!(keys_of(&map), [0.0, 1.0]);
    }

    #[test]
    fn a_slot_found_before_a_removal_is_checked() {
        let map = Map::with_capacity(0);
        for i in 0..40 {
            insert(&map, i as f64, i as f64);
        }
        let key = num(39.0);
        let k = KeyRef::of(&key).unwrap();
        let (_, slot) = map.get_with_slot(k).unwrap();
        for i in 0..30 {
            map.remove(KeyRef::of(&num(i as f64)).unwrap());
        }
        // Compaction moved key 39; the store finds it by key.
        map.store_at(slot, k, &key, num(-1.0));
        assert!(matches!(map.get(k), Some(Value::Num(n)) if n == -1.0));
        assert_eq!(map.len(), 10);
    }

    #[test]
    fn nan_is_refused() {
        assert_eq!(KeyRef::of(&Value::Num(f64::NAN)).unwrap_err(), NAN_KEY);
    }

    #[test]
    fn equal_strings_hash_alike_and_distinct_ones_apart() {
        let a = Str::new("word");
        let b = Str::new("word");
        let c = Str::new("wore");
        assert_eq!(a.hash_code(), b.hash_code());
        assert_ne!(a.hash_code(), c.hash_code());
        assert_ne!(hash_bytes(b"12345678a"), hash_bytes(b"12345678b"));
    }
}
