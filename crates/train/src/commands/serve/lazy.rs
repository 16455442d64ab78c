//! A value built on first use, by one caller at a time; a build that fails is tried again by the
//! next caller (a full disk freed, a data file put back), not remembered.

use std::sync::{Mutex, OnceLock};

/// A value built on first use; see the module.
pub struct Lazy<T> {
    value: OnceLock<T>,
    building: Mutex<()>,
}

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Self {
            value: OnceLock::new(),
            building: Mutex::new(()),
        }
    }
}

impl<T> Lazy<T> {
    /// The value, if built (never waits for a build in progress).
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, built by `build` if no caller has built it yet; whether this call built it.
    pub fn get_or_try<E>(&self, build: impl FnOnce() -> Result<T, E>) -> Result<(&T, bool), E> {
        if let Some(value) = self.value.get() {
            return Ok((value, false));
        }
        let _one = self.building.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = self.value.get() {
            return Ok((value, false));
        }
        let value = build()?;
        Ok((self.value.get_or_init(|| value), true))
    }
}
