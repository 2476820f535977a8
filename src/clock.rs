//! What time it is, for the answers that depend on the day (whether a network is overdue) and
//! the clean-ups that depend on age (the purge of commenters' contact details). The system
//! clock, unless a test set one: a server's clock travels in its settings, so a test can move
//! one server's time without touching any other's.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};

/// The system clock, or a clock set to a given instant (for tests).
#[derive(Clone, Default)]
pub struct Clock {
    set_to: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.set_to {
            None => f.write_str("Clock(system)"),
            Some(_) => write!(f, "Clock(set to {})", self.now()),
        }
    }
}

impl Clock {
    /// A clock that stands at `at` until [`Clock::set`] moves it; its clones move with it.
    pub fn set_at(at: DateTime<Utc>) -> Self {
        Self {
            set_to: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Moves a clock made by [`Clock::set_at`] (and its clones) to `at`; the system clock
    /// cannot be moved, so nothing happens to it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(set_to) = &self.set_to {
            *set_to
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.set_to {
            None => Utc::now(),
            Some(set_to) => *set_to
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// The day it is in UTC.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_moves_with_its_clones() {
        let start = DateTime::parse_from_rfc3339("2019-04-24T09:00:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        let clock = Clock::set_at(start);
        let clone = clock.clone();
        clock.set(start + chrono::Duration::days(200));
        assert_eq!(clone.today().to_string(), "2019-11-10");
        assert!(Clock::default().now() > start);
    }
}
