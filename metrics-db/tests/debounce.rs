//! The debouncer: which writes go through, what is counted, and how much it remembers.

mod common;

use std::time::{Duration, Instant};

use common::value;
use tachometer::Registry;
use tachometer_db::Debouncer;

fn skipped(registry: &Registry, kind: &str) -> Option<f64> {
    value(
        &registry.render(),
        "database_updates_skipped_total",
        "type",
        kind,
    )
}

#[test]
fn n_writes_of_one_key_inside_the_interval_count_n_minus_one_skips() {
    let registry = Registry::new();
    let debouncer = Debouncer::with_registry(&registry, "session", Duration::from_secs(30));
    let start = Instant::now();

    let n = 250;
    let written: Vec<bool> = (0..n)
        .map(|i| debouncer.should_write_at("session-1", start + Duration::from_millis(i * 10)))
        .collect();

    assert!(written[0]);
    assert_eq!(written.iter().filter(|w| **w).count(), 1);
    assert_eq!(skipped(&registry, "session"), Some((n - 1) as f64));
}

#[test]
fn skip_counter_exists_at_zero_before_any_skip_and_is_per_type() {
    let registry = Registry::new();
    let sessions = Debouncer::with_registry(&registry, "session", Duration::from_secs(30));
    let machines = Debouncer::with_registry(&registry, "machine", Duration::from_secs(30));
    assert_eq!(skipped(&registry, "session"), Some(0.0));
    assert_eq!(skipped(&registry, "machine"), Some(0.0));

    assert!(machines.should_write(7_u32));
    assert!(!machines.should_write(7_u32));
    assert!(
        sessions.should_write(7_u32),
        "keys of different debouncers are independent"
    );
    assert_eq!(skipped(&registry, "session"), Some(0.0));
    assert_eq!(skipped(&registry, "machine"), Some(1.0));
}

#[test]
fn a_key_is_written_again_once_the_interval_has_passed() {
    let registry = Registry::new();
    let interval = Duration::from_secs(10);
    let debouncer = Debouncer::with_registry(&registry, "session", interval);
    let t0 = Instant::now();

    assert!(debouncer.should_write_at(1_u64, t0));
    assert!(!debouncer.should_write_at(1_u64, t0 + Duration::from_secs(9)));
    assert!(debouncer.should_write_at(1_u64, t0 + interval));
    // The interval restarts from the last write, not from the first.
    assert!(!debouncer.should_write_at(1_u64, t0 + Duration::from_secs(19)));
    assert!(debouncer.should_write_at(1_u64, t0 + Duration::from_secs(20)));
    // Distinct keys never hold each other back.
    assert!(debouncer.should_write_at(2_u64, t0 + Duration::from_secs(20)));
    assert_eq!(skipped(&registry, "session"), Some(2.0));
}

#[test]
fn forgotten_key_is_written_at_once() {
    let debouncer = Debouncer::with_registry(&Registry::new(), "session", Duration::from_secs(60));
    assert!(debouncer.should_write("a".to_owned()));
    debouncer.forget(&"a".to_owned());
    assert_eq!(debouncer.tracked_keys(), 0);
    assert!(debouncer.should_write("a".to_owned()));
}

/// The bound: a sweep at most once per interval drops every key not written within the last
/// interval, so the debouncer never holds more keys than were written during the last two
/// intervals, and it gives the table's memory back when a sweep empties most of it.
#[test]
fn memory_after_a_million_expired_keys_stays_bounded() {
    let registry = Registry::new();
    let interval = Duration::from_secs(60);
    let debouncer = Debouncer::with_registry(&registry, "session", interval);
    let t0 = Instant::now();

    for key in 0..1_000_000_u64 {
        assert!(debouncer.should_write_at(key, t0 + Duration::from_micros(key)));
    }
    assert_eq!(debouncer.tracked_keys(), 1_000_000);
    let grown = debouncer.capacity();
    assert!(grown >= 1_000_000);

    // Two intervals later every one of them has expired; one more write triggers the sweep.
    let later = t0 + 2 * interval + Duration::from_secs(1);
    assert!(debouncer.should_write_at(u64::MAX, later));
    assert_eq!(debouncer.tracked_keys(), 1);
    assert!(
        debouncer.capacity() <= 64,
        "capacity {} after the sweep (was {grown})",
        debouncer.capacity()
    );

    // Steady traffic of fresh keys: never more than two intervals' worth remembered.
    let per_interval = 1_000_u64;
    let step = interval / per_interval as u32;
    let mut most = 0;
    for i in 0..(10 * per_interval) {
        debouncer.should_write_at(2_000_000 + i, later + step * (i as u32 + 1));
        most = most.max(debouncer.tracked_keys());
    }
    assert!(most <= 2 * per_interval as usize + 1, "held {most} keys");
    assert_eq!(skipped(&registry, "session"), Some(0.0));
}

#[test]
fn concurrent_writers_count_every_skip_exactly_once() {
    let registry = Registry::new();
    let debouncer = std::sync::Arc::new(Debouncer::with_registry(
        &registry,
        "machine",
        Duration::from_secs(3600),
    ));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let debouncer = debouncer.clone();
            std::thread::spawn(move || {
                (0..10_000_u32)
                    .filter(|i| debouncer.should_write(i % 100))
                    .count()
            })
        })
        .collect();
    let written: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();

    assert_eq!(written, 100, "each of the 100 keys is written exactly once");
    assert_eq!(skipped(&registry, "machine"), Some(40_000.0 - 100.0));
}
