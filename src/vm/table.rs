//! The storage of `map<K, V>`: an insertion-ordered hash table (`indexmap`) keyed by
//! numbers, strings or bools, with a hasher of our own.
//!
//! Hashing: a key's hash is computed by [`KeyRef::hash_code`] and handed to the table's
//! hasher as one `u64`, which it passes through. A number hashes its bits (with `-0`
//! made `0`) through a folded multiply; a string hashes its bytes once and keeps the
//! result in the string ([`Str::hash_code`]), so the same string object never hashes
//! twice, however many maps it is a key of.
//!
//! Removal keeps the order: `shift_remove`, O(n) in the entries after the removed one.
//! (Programs that remove often from large maps are rare next to those that insert and
//! look up; tombstones would make every iteration and `keys` skip holes.)

use std::cell::{Ref, RefCell};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::mem::size_of;
use std::rc::Rc;

use indexmap::{Equivalent, IndexMap};

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

impl PartialEq for MapKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl Eq for MapKey {}

impl Hash for MapKey {
    #[inline(always)]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.as_ref().hash_code());
    }
}

impl Hash for KeyRef<'_> {
    #[inline(always)]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash_code());
    }
}

impl Equivalent<MapKey> for KeyRef<'_> {
    #[inline(always)]
    fn equivalent(&self, key: &MapKey) -> bool {
        *self == key.as_ref()
    }
}

/// The table's hasher: keys hash themselves ([`KeyRef::hash_code`]) into one `u64`,
/// which this passes through.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline(always)]
    fn write_u64(&mut self, h: u64) {
        self.0 = h;
    }

    /// Not used by map keys; mixes anything else so the hasher stays a hasher.
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fold_mul(self.0 ^ hash_bytes(bytes), MULTIPLIER);
    }
}

type Table = IndexMap<MapKey, Value, BuildHasherDefault<PassThrough>>;

/// The storage of a map: shared and mutable in place. The table's buffers are counted
/// in the heap account (`--max-memory`).
#[derive(Debug)]
pub struct Map {
    table: RefCell<Table>,
    /// Bytes the table's buffers hold in the heap account now.
    charged: std::cell::Cell<usize>,
}

/// Bytes an `Rc<Map>` allocation takes besides the buffers.
const MAP_OVERHEAD: usize = 2 * size_of::<usize>() + size_of::<Map>();

/// Bytes per entry of capacity: the entry (key, value and the cached hash) and the
/// index table's slot and control byte.
const ENTRY_BYTES: usize = size_of::<MapKey>() + size_of::<Value>() + 2 * size_of::<usize>() + 1;

/// Entries a literal preallocates at most; longer literals grow as they are filled.
const MAX_PREALLOCATED: usize = 1 << 12;

/// What a lookup for an `op=` found: the entry's position, to store to without hashing
/// again.
pub type Slot = usize;

impl Map {
    pub fn with_capacity(capacity: usize) -> Map {
        let table = Table::with_capacity_and_hasher(
            capacity.min(MAX_PREALLOCATED),
            BuildHasherDefault::default(),
        );
        let charged = table.capacity() * ENTRY_BYTES;
        heap::acquire(MAP_OVERHEAD + charged);
        Map {
            table: RefCell::new(table),
            charged: std::cell::Cell::new(charged),
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

    /// The value under `key`, copied out.
    #[inline(always)]
    pub fn get(&self, key: KeyRef<'_>) -> Option<Value> {
        self.table.borrow().get(&key).map(Value::fast_clone)
    }

    /// The value under `key` and its slot, for a store that follows (`m[k] op= e`).
    #[inline(always)]
    pub fn get_with_slot(&self, key: KeyRef<'_>) -> Option<(Value, Slot)> {
        self.table
            .borrow()
            .get_full(&key)
            .map(|(slot, _, value)| (value.fast_clone(), slot))
    }

    #[inline(always)]
    pub fn contains(&self, key: KeyRef<'_>) -> bool {
        self.table.borrow().contains_key(&key)
    }

    /// Inserts or replaces (in place); the replaced value is returned, to be dropped
    /// after the table's borrow ends.
    #[inline(always)]
    pub fn insert(&self, key: KeyRef<'_>, key_value: &Value, value: Value) -> Option<Value> {
        let mut table = self.table.borrow_mut();
        if let Some(slot) = table.get_mut(&key) {
            return Some(std::mem::replace(slot, value));
        }
        table.insert(key.to_owned_key(key_value), value);
        let capacity = table.capacity();
        drop(table);
        self.charge(capacity);
        None
    }

    /// Stores `value` under `key`, which a lookup found at `slot`: without hashing
    /// when the entry is still there (the code between the lookup and the store may have
    /// removed it, or removed others and moved it), else as [`Map::insert`].
    #[inline(always)]
    pub fn store_at(
        &self,
        slot: Slot,
        key: KeyRef<'_>,
        key_value: &Value,
        value: Value,
    ) -> Option<Value> {
        {
            let mut table = self.table.borrow_mut();
            if let Some((found, current)) = table.get_index_mut(slot) {
                if key.equivalent(found) {
                    return Some(std::mem::replace(current, value));
                }
            }
        }
        self.insert(key, key_value, value)
    }

    /// Removes `key`, keeping the order of the others; the removed value is returned.
    pub fn remove(&self, key: KeyRef<'_>) -> Option<(MapKey, Value)> {
        self.table.borrow_mut().shift_remove_entry(&key)
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
        self.table.borrow().keys().map(MapKey::to_value).collect()
    }

    /// The values, in order.
    pub fn values(&self) -> Vec<Value> {
        self.table.borrow().values().cloned().collect()
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

impl Drop for Map {
    fn drop(&mut self) {
        heap::release(MAP_OVERHEAD + self.charged.get());
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
        map.insert(KeyRef::of(&minus_zero).unwrap(), &minus_zero, Value::Num(2.0));
        assert_eq!(map.len(), 1);
        assert!(matches!(map.keys()[0], Value::Num(n) if n.to_bits() == 0));
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
