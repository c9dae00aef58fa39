//! A cheap monotonic clock for the profiler.
//!
//! `Instant::now()` costs about 20-25 ns here; reading it at every call and return would
//! more than double the run time of a call-heavy program. On x86-64 the profiler reads
//! the time-stamp counter instead (`rdtsc`, about 9 ns, invariant on every CPU of the
//! last decade: `constant_tsc`/`nonstop_tsc`), and converts ticks to nanoseconds with a
//! rate measured against `Instant` over the whole run. Elsewhere a tick is a nanosecond
//! of `Instant`.

use std::time::Instant;

pub(crate) struct Clock {
    /// When the clock started, by the system clock and by the counter.
    origin: Instant,
    start_ticks: u64,
    /// Least ticks between two back-to-back reads: the cost of reading the clock,
    /// subtracted from sampled instruction durations.
    pub(crate) read_cost: u64,
}

impl Clock {
    /// Which counter [`Clock::now`] reads, as named in reports.
    #[cfg(target_arch = "x86_64")]
    pub(crate) const SOURCE: &'static str = "tsc";
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) const SOURCE: &'static str = "instant";

    pub(crate) fn start() -> Clock {
        let mut clock = Clock {
            origin: Instant::now(),
            start_ticks: 0,
            read_cost: 0,
        };
        let mut read_cost = u64::MAX;
        for _ in 0..64 {
            let a = clock.now();
            let b = clock.now();
            read_cost = read_cost.min(b.wrapping_sub(a));
        }
        clock.read_cost = read_cost;
        clock.origin = Instant::now();
        clock.start_ticks = clock.now();
        clock
    }

    /// The current time in ticks.
    #[inline(always)]
    pub(crate) fn now(&self) -> u64 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `rdtsc` is available on every x86-64 CPU and has no preconditions.
            unsafe { core::arch::x86_64::_rdtsc() }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.origin.elapsed().as_nanos() as u64
        }
    }

    /// Stops the clock: the end in ticks, the nanoseconds per tick measured over the
    /// clock's life, and the wall time since the start.
    pub(crate) fn stop(&self) -> Calibration {
        let end_ticks = self.now();
        let wall_ns = self.origin.elapsed().as_nanos() as f64;
        let ticks = end_ticks.saturating_sub(self.start_ticks);
        let ns_per_tick = if ticks == 0 || wall_ns <= 0.0 {
            1.0
        } else {
            wall_ns / ticks as f64
        };
        Calibration {
            end_ticks,
            ns_per_tick,
            wall_ns,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Calibration {
    pub end_ticks: u64,
    pub ns_per_tick: f64,
    pub wall_ns: f64,
}
