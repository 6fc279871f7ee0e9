//! What keeps a service from piling onto Adobe Pass while it fails: a retry budget shared by
//! every device (retries add at most a share of the calls of the last 10 seconds, with a
//! floor), and fail-fast (after a run of failed requests, calls fail at once until probes
//! succeed). A single-device client has neither; a [`crate::PassService`] has both.

// A device's build (no feature `service`) never makes a guard: the pipeline's check is `None`.
#![cfg_attr(not(feature = "service"), allow(dead_code))]

use crate::config::{FailFast, RetryBudget};
use crate::error::PassError;
use crate::time::Instant;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The budget's window: 10 buckets of one second.
const BUCKETS: usize = 10;

/// How an attempt ended, as fail-fast counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// An answer that shows the service up: 2xx to 4xx, 429 included.
    Up,
    /// A 5xx, a timeout, a connection error.
    Down,
}

/// A call's place: a normal call, or one of the probes after a cool-down. A probe that ends
/// without an outcome (its future dropped) frees its place.
pub(crate) struct Ticket<'a> {
    guard: &'a Guard,
    probe: bool,
    settled: bool,
}

impl Ticket<'_> {
    /// Whether this call is a probe (it makes one attempt).
    #[cfg(test)]
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// Records how one attempt ended.
    pub fn record(&mut self, health: Health) {
        if self.probe {
            self.settled = true;
        }
        self.guard.record(self.probe, health);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            let mut state = self.guard.lock();
            if let State::Probing { in_flight, .. } = &mut *state {
                *in_flight = in_flight.saturating_sub(1);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Closed,
    Open { until: Instant },
    Probing { in_flight: u32, passed: u32 },
}

/// Counts per second over the window, lock-free: each slot holds its second in the high 32
/// bits and its count in the low 32 (a count that races a new second may be lost: the budget is
/// an estimate, never a hard gate for correctness).
struct Window([AtomicU64; BUCKETS]);

impl Window {
    fn new() -> Self {
        Self([const { AtomicU64::new(0) }; BUCKETS])
    }

    fn add(&self, second: u64) {
        let slot = &self.0[(second % BUCKETS as u64) as usize];
        let tag = (second & 0xffff_ffff) << 32;
        let v = slot.load(Ordering::Relaxed);
        // A slot of an older second starts over; when another call started it first, or it
        // is this second's already, the count goes up.
        let restarted = v & !0xffff_ffff != tag
            && slot
                .compare_exchange(v, tag | 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok();
        if !restarted {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The count of the last 10 seconds, `second` included.
    fn sum(&self, second: u64) -> u64 {
        self.0
            .iter()
            .map(|slot| slot.load(Ordering::Relaxed))
            .filter(|v| {
                let s = v >> 32;
                s <= (second & 0xffff_ffff) && s + (BUCKETS as u64) > (second & 0xffff_ffff)
            })
            .map(|v| v & 0xffff_ffff)
            .sum()
    }
}

/// The retry budget and fail-fast state of one service. The path of a call while Adobe Pass
/// answers takes no lock: a few atomics; only failing fast and probing take the lock.
pub(crate) struct Guard {
    budget: RetryBudget,
    fail_fast: FailFast,
    origin: Instant,
    calls: Window,
    retries: Window,
    /// Failed requests in a row.
    failures: AtomicU32,
    /// Whether the state is other than closed (read without the lock).
    tripped: AtomicBool,
    state: Mutex<State>,
    jitter: RandomState,
    draws: AtomicU64,
}

impl Guard {
    pub fn new(budget: RetryBudget, fail_fast: FailFast) -> Self {
        Self {
            budget,
            fail_fast,
            origin: Instant::now(),
            calls: Window::new(),
            retries: Window::new(),
            failures: AtomicU32::new(0),
            tripped: AtomicBool::new(false),
            state: Mutex::new(State::Closed),
            jitter: RandomState::new(),
            draws: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn second(&self) -> u64 {
        Instant::now()
            .saturating_duration_since(self.origin)
            .as_secs()
    }

    /// Admits a call, or refuses it with [`PassError::Unavailable`] while failing fast.
    pub fn admit(&self) -> Result<Ticket<'_>, PassError> {
        let probe = self.tripped.load(Ordering::Acquire) && self.admit_tripped()?;
        self.calls.add(self.second());
        Ok(Ticket {
            guard: self,
            probe,
            settled: false,
        })
    }

    /// While not closed: a probe's place, or the refusal.
    fn admit_tripped(&self) -> Result<bool, PassError> {
        let now = Instant::now();
        let mut state = self.lock();
        let refusal = match *state {
            State::Closed => return Ok(false),
            State::Open { until } if now < until => until.saturating_duration_since(now),
            State::Open { .. } => {
                *state = State::Probing {
                    in_flight: 1,
                    passed: 0,
                };
                return Ok(true);
            }
            State::Probing { in_flight, passed } if in_flight + passed < self.fail_fast.probes => {
                *state = State::Probing {
                    in_flight: in_flight + 1,
                    passed,
                };
                return Ok(true);
            }
            // The probes in flight answer within a request's timeout; ask again soon.
            State::Probing { .. } => self.fail_fast.cool_down,
        };
        drop(state);
        crate::telemetry::fail_fast_refusal();
        Err(PassError::Unavailable {
            retry_after: refusal,
        })
    }

    /// Takes a retry from the budget: `false` when it is spent, or when the service is failing
    /// fast (the call then ends with the error it got).
    pub fn retry(&self, ticket: &Ticket<'_>) -> bool {
        if ticket.probe || self.tripped.load(Ordering::Acquire) {
            return false;
        }
        let second = self.second();
        let calls = self.calls.sum(second);
        let retries = self.retries.sum(second);
        let allowed = (self.budget.ratio * calls as f64)
            .max(self.budget.min_per_second * BUCKETS as f64)
            .floor() as u64;
        if retries >= allowed {
            crate::telemetry::budget_refusal();
            return false;
        }
        self.retries.add(second);
        true
    }

    fn record(&self, probe: bool, health: Health) {
        if !self.fail_fast.enabled {
            return;
        }
        if !probe {
            match health {
                Health::Up => {
                    if self.failures.load(Ordering::Relaxed) != 0 {
                        self.failures.store(0, Ordering::Relaxed);
                    }
                }
                Health::Down => {
                    let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
                    if n >= self.fail_fast.failures {
                        self.open_after_failures();
                    }
                }
            }
            return;
        }
        let mut state = self.lock();
        // What calls admitted before the service failed report later changes nothing.
        let State::Probing { in_flight, passed } = *state else {
            return;
        };
        match health {
            Health::Up if passed + 1 >= self.fail_fast.probes => {
                *state = State::Closed;
                self.failures.store(0, Ordering::Relaxed);
                self.tripped.store(false, Ordering::Release);
                drop(state);
                crate::telemetry::fail_fast_open(false);
                tracing::info!("Adobe Pass answers again; traffic resumes");
            }
            Health::Up => {
                *state = State::Probing {
                    in_flight: in_flight.saturating_sub(1),
                    passed: passed + 1,
                }
            }
            Health::Down => {
                *state = State::Open {
                    until: Instant::now() + self.cool_down(),
                };
            }
        }
    }

    fn open_after_failures(&self) {
        let mut state = self.lock();
        if *state != State::Closed {
            return;
        }
        *state = State::Open {
            until: Instant::now() + self.cool_down(),
        };
        self.failures.store(0, Ordering::Relaxed);
        self.tripped.store(true, Ordering::Release);
        drop(state);
        crate::telemetry::fail_fast_open(true);
        tracing::warn!(
            failures = self.fail_fast.failures,
            "Adobe Pass failed every recent request; failing fast until probes succeed"
        );
    }

    /// The cool-down, plus up to half of it again at random.
    fn cool_down(&self) -> Duration {
        let mut h = self.jitter.build_hasher();
        h.write_u64(self.draws.fetch_add(1, Ordering::Relaxed));
        let frac = (h.finish() % 1000) as f64 / 2000.0;
        self.fail_fast.cool_down.mul_f64(1.0 + frac)
    }

    /// Whether calls fail fast now, and if so, until about when.
    pub fn failing_fast(&self) -> Option<Duration> {
        if !self.tripped.load(Ordering::Acquire) {
            return None;
        }
        match *self.lock() {
            State::Closed => None,
            State::Open { until } => Some(until.saturating_duration_since(Instant::now())),
            State::Probing { .. } => Some(Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(failures: u32, probes: u32) -> Guard {
        Guard::new(
            RetryBudget {
                ratio: 0.1,
                min_per_second: 1.0,
            },
            FailFast {
                enabled: true,
                failures,
                cool_down: Duration::from_millis(100),
                probes,
            },
        )
    }

    #[test]
    fn the_budget_allows_its_floor_then_a_tenth_of_the_calls() {
        let g = guard(1000, 1);
        let tickets: Vec<_> = (0..500).map(|_| g.admit().unwrap()).collect();
        let granted = tickets.iter().filter(|t| g.retry(t)).count();
        // 500 calls: a tenth is 50, more than the floor of 10 in 10 s.
        assert_eq!(granted, 50);
        let quiet = guard(1000, 1);
        let t = quiet.admit().unwrap();
        assert_eq!((0..20).filter(|_| quiet.retry(&t)).count(), 10);
    }

    #[test]
    fn failures_in_a_row_open_and_probes_close() {
        let g = guard(3, 2);
        for _ in 0..2 {
            g.admit().unwrap().record(Health::Down);
        }
        // An answer in between starts the count again.
        g.admit().unwrap().record(Health::Up);
        for _ in 0..3 {
            g.admit().unwrap().record(Health::Down);
        }
        let Err(PassError::Unavailable { retry_after }) = g.admit() else {
            panic!("must fail fast");
        };
        assert!(retry_after <= Duration::from_millis(150), "{retry_after:?}");
        std::thread::sleep(Duration::from_millis(160));
        let mut a = g.admit().unwrap();
        let b = g.admit().unwrap();
        assert!(a.is_probe() && b.is_probe());
        assert!(!g.retry(&a), "probes make one attempt");
        assert!(g.admit().is_err(), "only two probes at once");
        a.record(Health::Up);
        // A probe dropped without an answer frees its place.
        drop(b);
        let mut c = g.admit().unwrap();
        c.record(Health::Up);
        assert_eq!(g.failing_fast(), None);
        assert!(!g.admit().unwrap().is_probe());
    }

    #[test]
    fn a_failed_probe_starts_the_cool_down_again() {
        let g = guard(2, 1);
        for _ in 0..2 {
            g.admit().unwrap().record(Health::Down);
        }
        std::thread::sleep(Duration::from_millis(160));
        g.admit().unwrap().record(Health::Down);
        assert!(matches!(g.admit(), Err(PassError::Unavailable { .. })));
    }
}
