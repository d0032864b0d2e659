//! Locking shared books.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if a worker panicked while holding it (the books stay
/// usable; a panic is a simulator bug that the failing request already reported).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
