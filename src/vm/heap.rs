//! The heap account behind `--max-memory`: bytes held by the strings and arrays of the
//! current thread, kept up to date by their constructors, growth and destructors.
//!
//! Values are `Rc`s, which never leave their thread, so a thread-local counter sees
//! every acquire matched by its release. A run measures its growth from the count at its
//! start, so values that other engines on the same thread hold do not count against it.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The account of one thread.
struct Account {
    /// Bytes held now.
    live: Cell<usize>,
    /// Bytes ever acquired (wrapping): how much work allocation has done, which a
    /// metered run uses to read the clock after costly instructions.
    acquired: Cell<usize>,
    /// A ceiling that stops an unmetered run (see [`arm_ceiling`]): when `live` passes
    /// it, `alarm` is raised (`usize::MAX`: none).
    ceiling: Cell<usize>,
    alarm: RefCell<Option<Arc<AtomicBool>>>,
    /// Whether the ceiling was passed since it was armed.
    passed: Cell<bool>,
}

thread_local! {
    static ACCOUNT: Account = const {
        Account {
            live: Cell::new(0),
            acquired: Cell::new(0),
            ceiling: Cell::new(usize::MAX),
            alarm: RefCell::new(None),
            passed: Cell::new(false),
        }
    };
}

/// Records `bytes` more held.
#[inline]
pub fn acquire(bytes: usize) {
    ACCOUNT.with(|account| {
        let live = account.live.get().wrapping_add(bytes);
        account.live.set(live);
        account
            .acquired
            .set(account.acquired.get().wrapping_add(bytes));
        if live > account.ceiling.get() {
            raise_alarm(account);
        }
    });
}

#[cold]
#[inline(never)]
fn raise_alarm(account: &Account) {
    account.passed.set(true);
    if let Some(alarm) = &*account.alarm.borrow() {
        alarm.store(true, Ordering::Relaxed);
    }
}

/// Until the guard is dropped, the account raises `alarm` as soon as it holds more than
/// `ceiling` bytes. A run without the metered loop uses this to keep a memory ceiling
/// at no cost per instruction: the alarm is its interrupt flag, which the loop checks at
/// every backward jump and call anyway, and the allocations that can be large check
/// the ceiling themselves before they are made (`Runtime::fits`).
pub fn arm_ceiling(ceiling: usize, alarm: Arc<AtomicBool>) -> CeilingGuard {
    ACCOUNT.with(|account| {
        account.ceiling.set(ceiling);
        account.passed.set(false);
        *account.alarm.borrow_mut() = Some(alarm);
    });
    CeilingGuard(())
}

/// Whether the armed ceiling was passed (what raised the alarm, even if the bytes
/// have been released since).
pub fn ceiling_passed() -> bool {
    ACCOUNT.with(|account| account.passed.get())
}

/// Disarms the ceiling of [`arm_ceiling`] when dropped.
pub struct CeilingGuard(());

impl Drop for CeilingGuard {
    fn drop(&mut self) {
        ACCOUNT.with(|account| {
            account.ceiling.set(usize::MAX);
            account.passed.set(false);
            account.alarm.borrow_mut().take();
        });
    }
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
