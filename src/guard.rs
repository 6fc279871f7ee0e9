//! What keeps a service from piling onto Adobe Pass while it fails: a retry budget shared by
//! every device (retries add at most a share of the calls of the last 10 seconds, with a
//! floor), and fail-fast (after a run of failed requests, calls fail at once until probes
//! succeed). A single-device client has neither; a [`crate::PassService`] has both.

use crate::config::{FailFast, RetryBudget};
use crate::error::PassError;
use crate::time::Instant;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
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
            let mut b = self.guard.lock();
            if let State::Probing { in_flight, .. } = &mut b.state {
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

#[derive(Clone, Copy, Default)]
struct Bucket {
    second: u64,
    calls: u32,
    retries: u32,
}

struct Inner {
    buckets: [Bucket; BUCKETS],
    failures: u32,
    state: State,
}

/// The retry budget and fail-fast state of one service.
pub(crate) struct Guard {
    budget: RetryBudget,
    fail_fast: FailFast,
    origin: Instant,
    inner: Mutex<Inner>,
    jitter: RandomState,
    draws: AtomicU64,
}

impl Guard {
    pub fn new(budget: RetryBudget, fail_fast: FailFast) -> Self {
        Self {
            budget,
            fail_fast,
            origin: Instant::now(),
            inner: Mutex::new(Inner {
                buckets: [Bucket::default(); BUCKETS],
                failures: 0,
                state: State::Closed,
            }),
            jitter: RandomState::new(),
            draws: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn second(&self) -> u64 {
        Instant::now()
            .saturating_duration_since(self.origin)
            .as_secs()
    }

    /// Admits a call, or refuses it with [`PassError::Unavailable`] while failing fast.
    pub fn admit(&self) -> Result<Ticket<'_>, PassError> {
        let now = Instant::now();
        let second = self.second();
        let mut b = self.lock();
        let probe = match b.state {
            State::Closed => false,
            State::Open { until } if now < until => {
                drop(b);
                crate::telemetry::fail_fast_refusal();
                return Err(PassError::Unavailable {
                    retry_after: until.saturating_duration_since(now),
                });
            }
            State::Open { .. } => {
                b.state = State::Probing {
                    in_flight: 1,
                    passed: 0,
                };
                true
            }
            State::Probing { in_flight, passed } => {
                if in_flight + passed >= self.fail_fast.probes {
                    drop(b);
                    crate::telemetry::fail_fast_refusal();
                    // The probes in flight answer within a request's timeout; ask again soon.
                    return Err(PassError::Unavailable {
                        retry_after: self.fail_fast.cool_down,
                    });
                }
                b.state = State::Probing {
                    in_flight: in_flight + 1,
                    passed,
                };
                true
            }
        };
        let bucket = Self::bucket(&mut b, second);
        bucket.calls = bucket.calls.saturating_add(1);
        Ok(Ticket {
            guard: self,
            probe,
            settled: false,
        })
    }

    fn bucket(b: &mut Inner, second: u64) -> &mut Bucket {
        let slot = &mut b.buckets[(second % BUCKETS as u64) as usize];
        if slot.second != second {
            *slot = Bucket {
                second,
                calls: 0,
                retries: 0,
            };
        }
        slot
    }

    /// Takes a retry from the budget: `false` when it is spent, or when the service is failing
    /// fast (the call then ends with the error it got).
    pub fn retry(&self, ticket: &Ticket<'_>) -> bool {
        if ticket.probe {
            return false;
        }
        let second = self.second();
        let mut b = self.lock();
        if b.state != State::Closed {
            return false;
        }
        let (calls, retries) = b
            .buckets
            .iter()
            .filter(|k| k.second + (BUCKETS as u64) > second)
            .fold((0u64, 0u64), |(c, r), k| {
                (c + u64::from(k.calls), r + u64::from(k.retries))
            });
        let allowed = (self.budget.ratio * calls as f64)
            .max(self.budget.min_per_second * BUCKETS as f64)
            .floor() as u64;
        if retries >= allowed {
            drop(b);
            crate::telemetry::budget_refusal();
            return false;
        }
        let bucket = Self::bucket(&mut b, second);
        bucket.retries = bucket.retries.saturating_add(1);
        true
    }

    fn record(&self, probe: bool, health: Health) {
        if !self.fail_fast.enabled {
            return;
        }
        let mut b = self.lock();
        match (b.state, health) {
            (State::Closed, Health::Up) => b.failures = 0,
            (State::Closed, Health::Down) => {
                b.failures += 1;
                if b.failures >= self.fail_fast.failures {
                    b.failures = 0;
                    b.state = State::Open {
                        until: Instant::now() + self.cool_down(),
                    };
                    drop(b);
                    crate::telemetry::fail_fast_open(true);
                    tracing::warn!(
                        failures = self.fail_fast.failures,
                        "Adobe Pass failed every recent request; failing fast until probes succeed"
                    );
                }
            }
            (State::Probing { in_flight, passed }, health) if probe => match health {
                Health::Up if passed + 1 >= self.fail_fast.probes => {
                    b.state = State::Closed;
                    drop(b);
                    crate::telemetry::fail_fast_open(false);
                    tracing::info!("Adobe Pass answers again; traffic resumes");
                }
                Health::Up => {
                    b.state = State::Probing {
                        in_flight: in_flight.saturating_sub(1),
                        passed: passed + 1,
                    }
                }
                Health::Down => {
                    b.state = State::Open {
                        until: Instant::now() + self.cool_down(),
                    };
                }
            },
            // What calls admitted before the service failed report later changes nothing.
            _ => {}
        }
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
        match self.lock().state {
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
