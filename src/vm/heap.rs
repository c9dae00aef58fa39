//! The heap account behind `--max-memory`: bytes held by the strings and arrays of the
//! current thread, kept up to date by their constructors, growth and destructors.
//!
//! Values are `Rc`s, which never leave their thread, so a thread-local counter sees
//! every acquire matched by its release. A run measures its growth from the count at its
//! start, so values that other engines on the same thread hold do not count against it.

use std::cell::Cell;

thread_local! {
    static LIVE_BYTES: Cell<usize> = const { Cell::new(0) };
}

/// Records `bytes` more held.
#[inline]
pub fn acquire(bytes: usize) {
    LIVE_BYTES.with(|live| live.set(live.get().wrapping_add(bytes)));
}

/// Records `bytes` no longer held.
#[inline]
pub fn release(bytes: usize) {
    LIVE_BYTES.with(|live| live.set(live.get().wrapping_sub(bytes)));
}

/// Bytes the strings and arrays of this thread hold now.
#[inline]
pub fn live_bytes() -> usize {
    LIVE_BYTES.with(Cell::get)
}
