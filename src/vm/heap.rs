//! The heap account behind `--max-memory`: bytes held by the strings and arrays of the
//! current thread, kept up to date by their constructors, growth and destructors.
//!
//! Values are `Rc`s, which never leave their thread, so a thread-local counter sees
//! every acquire matched by its release. A run measures its growth from the count at its
//! start, so values that other engines on the same thread hold do not count against it.

use std::cell::Cell;

/// The account of one thread.
struct Account {
    /// Bytes held now.
    live: Cell<usize>,
    /// Bytes ever acquired (wrapping): how much work allocation has done, which a
    /// metered run uses to read the clock after costly instructions.
    acquired: Cell<usize>,
}

thread_local! {
    static ACCOUNT: Account = const {
        Account {
            live: Cell::new(0),
            acquired: Cell::new(0),
        }
    };
}

/// Records `bytes` more held.
#[inline]
pub fn acquire(bytes: usize) {
    ACCOUNT.with(|account| {
        account.live.set(account.live.get().wrapping_add(bytes));
        account
            .acquired
            .set(account.acquired.get().wrapping_add(bytes));
    });
}

/// Records `bytes` no longer held.
#[inline]
pub fn release(bytes: usize) {
    ACCOUNT.with(|account| account.live.set(account.live.get().wrapping_sub(bytes)));
}

/// Bytes the strings and arrays of this thread hold now.
#[inline]
pub fn live_bytes() -> usize {
    ACCOUNT.with(|account| account.live.get())
}

/// Bytes the strings and arrays of this thread have acquired so far (wrapping).
#[inline]
pub fn acquired_bytes() -> usize {
    ACCOUNT.with(|account| account.acquired.get())
}
