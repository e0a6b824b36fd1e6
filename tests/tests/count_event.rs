//! `#[count_event]` and `count!` against the global registry: every test reads the real
//! exposition back through the parser and asserts exact values. Tests in this binary share
//! the global registry, so each one counts into metrics of its own.

use tachometer::LabelValue;
use tachometer_tests::parse_ok;

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum CacheOperation {
    Get,
    Set,
    Invalidate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum CacheResult {
    Hit,
    Miss,
    Ok,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, tachometer::LabelValue)]
enum EventType {
    SessionAlive,
    MachineAlive,
    Message,
    Ping,
    Unknown,
}

tachometer::catalog! {
    /// Calls of a plain function.
    counter plain_calls_total;
    /// Calls of an async function.
    counter async_calls_total;
    /// Cache operations by operation and result.
    counter cache_operations_total { operation: CacheOperation, result: CacheResult }
    /// Events by type, chosen at run time.
    counter runtime_events_total { event_type: EventType }
    /// Events counted with `count!`.
    counter statement_events_total { event_type: EventType }
    /// Calls of methods and generic functions.
    counter shaped_calls_total { operation: CacheOperation }
    /// Results mapped by a function of the test.
    counter mapped_results_total { result: CacheResult }
    /// Mutable lookups labelled by their outcome.
    counter mutable_lookups_total { result: CacheResult }
    /// Events whose labels are spelled as string literals.
    counter literal_events_total { event_type: EventType, result: CacheResult }
    /// Jobs labelled by a constant of their type.
    counter generic_jobs_total { operation: CacheOperation }
}

fn exposition() -> tachometer_tests::Exposition {
    parse_ok(&tachometer::global().render())
}

fn value(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition().value(name, labels)
}

#[tachometer::count_event(plain_calls_total)]
fn plain() -> u32 {
    7
}

#[test]
fn each_call_of_a_sync_function_counts_once() {
    for _ in 0..3 {
        assert_eq!(plain(), 7);
    }
    assert_eq!(value("plain_calls_total", &[]), Some(3.0));
}

#[tachometer::count_event(async_calls_total)]
async fn wait_and_answer(answer: u32) -> u32 {
    tokio::task::yield_now().await;
    answer
}

#[tokio::test]
async fn async_function_counts_when_its_future_runs() {
    let never_polled = wait_and_answer(1);
    drop(never_polled);
    assert_eq!(wait_and_answer(2).await, 2);
    assert_eq!(wait_and_answer(3).await, 3);
    assert_eq!(value("async_calls_total", &[]), Some(2.0));
}

struct Cache {
    entries: std::collections::HashMap<u32, String>,
}

impl Cache {
    #[tachometer::count_event(cache_operations_total, operation = CacheOperation::Get, result = outcome)]
    fn get(&self, key: u32) -> Option<&String> {
        self.entries.get(&key)
    }

    #[tachometer::count_event(cache_operations_total, operation = CacheOperation::Set, result = outcome)]
    fn set(&mut self, key: u32, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Err("empty value".to_owned());
        }
        let parsed: u32 = value.len().try_into().map_err(|_| "too long".to_owned())?;
        self.entries.insert(key, format!("{value}:{parsed}"));
        Ok(())
    }
}

#[test]
fn return_value_chooses_hit_miss_ok_or_error() {
    let mut cache = Cache {
        entries: std::collections::HashMap::new(),
    };
    assert_eq!(cache.set(1, "one"), Ok(()));
    assert_eq!(cache.set(2, ""), Err("empty value".to_owned()));
    assert_eq!(cache.get(1).map(String::as_str), Some("one:3"));
    assert_eq!(cache.get(1).map(String::as_str), Some("one:3"));
    assert_eq!(cache.get(9), None);

    let parsed = exposition();
    let read = |operation: &str, result: &str| {
        parsed.value(
            "cache_operations_total",
            &[("operation", operation), ("result", result)],
        )
    };
    assert_eq!(read("set", "ok"), Some(1.0));
    assert_eq!(read("set", "error"), Some(1.0));
    assert_eq!(read("get", "hit"), Some(2.0));
    assert_eq!(read("get", "miss"), Some(1.0));
    assert_eq!(read("invalidate", "ok"), Some(0.0));
}

#[tachometer::count_event(runtime_events_total, event_type = kind)]
fn on_event(kind: EventType) -> EventType {
    kind
}

#[test]
fn label_from_an_argument_picks_the_series_at_run_time() {
    for kind in [
        EventType::Ping,
        EventType::Ping,
        EventType::Message,
        EventType::Unknown,
    ] {
        assert_eq!(on_event(kind), kind);
    }
    let parsed = exposition();
    let read = |event: &str| parsed.value("runtime_events_total", &[("event_type", event)]);
    assert_eq!(read("ping"), Some(2.0));
    assert_eq!(read("message"), Some(1.0));
    assert_eq!(read("unknown"), Some(1.0));
    assert_eq!(read("session_alive"), Some(0.0));
    assert_eq!(read("machine_alive"), Some(0.0));
}

#[test]
fn count_statement_counts_where_it_stands() {
    for name in ["ping", "session_alive", "ping", "not-a-type"] {
        let event = EventType::from_label(name).unwrap_or(EventType::Unknown);
        tachometer::count!(statement_events_total, event_type = event);
    }
    tachometer::count!(statement_events_total, event_type = EventType::Message);
    let parsed = exposition();
    let read = |event: &str| parsed.value("statement_events_total", &[("event_type", event)]);
    assert_eq!(read("ping"), Some(2.0));
    assert_eq!(read("session_alive"), Some(1.0));
    assert_eq!(read("unknown"), Some(1.0));
    assert_eq!(read("message"), Some(1.0));
    assert_eq!(read("machine_alive"), Some(0.0));
}

trait Store {
    fn invalidate(&mut self) -> usize;
}

struct Shelf<T> {
    items: Vec<T>,
}

impl<T: Clone> Shelf<T> {
    #[tachometer::count_event(shaped_calls_total, operation = CacheOperation::Get)]
    fn first(&self) -> Option<T> {
        self.items.first().cloned()
    }

    #[tachometer::count_event(shaped_calls_total, operation = CacheOperation::Set)]
    fn into_iter_cloned(self) -> impl Iterator<Item = T> {
        self.items.into_iter()
    }
}

impl<T> Store for Shelf<T> {
    #[tachometer::count_event(shaped_calls_total, operation = CacheOperation::Invalidate)]
    fn invalidate(&mut self) -> usize {
        let removed = self.items.len();
        self.items.clear();
        removed
    }
}

#[tachometer::count_event(shaped_calls_total, operation = CacheOperation::Get)]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {
    let mut best = *items.first()?;
    for item in items {
        if *item > best {
            best = *item;
        }
    }
    Some(best)
}

#[test]
fn methods_generics_and_impl_trait_returns_count_each_call() {
    let shelf = Shelf {
        items: vec![3, 1, 2],
    };
    assert_eq!(shelf.first(), Some(3));
    assert_eq!(shelf.into_iter_cloned().sum::<i32>(), 6);
    let mut words = Shelf {
        items: vec!["a", "b"],
    };
    assert_eq!(words.invalidate(), 2);
    assert_eq!(words.invalidate(), 0);
    assert_eq!(largest(&[1.5, 4.0, 2.0]), Some(4.0));
    assert_eq!(largest::<u8>(&[]), None);
    assert_eq!(largest(&[9_u64]), Some(9));

    let parsed = exposition();
    let read = |operation: &str| parsed.value("shaped_calls_total", &[("operation", operation)]);
    assert_eq!(read("get"), Some(4.0));
    assert_eq!(read("set"), Some(1.0));
    assert_eq!(read("invalidate"), Some(2.0));
}

fn severity(returned: &Result<u32, String>) -> CacheResult {
    match returned {
        Ok(0) => CacheResult::Miss,
        Ok(_) => CacheResult::Hit,
        Err(_) => CacheResult::Error,
    }
}

#[tachometer::count_event(mapped_results_total, result = outcome(severity))]
async fn lookup(found: Option<u32>) -> Result<u32, String> {
    tokio::task::yield_now().await;
    let found = found.ok_or_else(|| "gone".to_owned())?;
    Ok(found)
}

#[tokio::test]
async fn a_mapping_function_labels_the_result_of_an_async_function() {
    assert_eq!(lookup(Some(4)).await, Ok(4));
    assert_eq!(lookup(Some(0)).await, Ok(0));
    assert_eq!(lookup(Some(0)).await, Ok(0));
    assert_eq!(lookup(None).await, Err("gone".to_owned()));
    let parsed = exposition();
    let read = |result: &str| parsed.value("mapped_results_total", &[("result", result)]);
    assert_eq!(read("hit"), Some(1.0));
    assert_eq!(read("miss"), Some(2.0));
    assert_eq!(read("error"), Some(1.0));
    assert_eq!(read("ok"), Some(0.0));
}

#[tachometer::count_event(literal_events_total, event_type = "session_alive", result = outcome)]
fn alive(ok: bool) -> Result<(), ()> {
    if ok { Ok(()) } else { Err(()) }
}

#[test]
fn string_literal_label_values_name_enum_values() {
    for _ in 0..2 {
        tachometer::count!(literal_events_total, event_type = "ping", result = "hit");
    }
    tachometer::count!(
        literal_events_total,
        event_type = "message",
        result = CacheResult::Miss
    );
    alive(true).unwrap();
    alive(false).unwrap_err();

    let parsed = exposition();
    let read = |event: &str, result: &str| {
        parsed.value(
            "literal_events_total",
            &[("event_type", event), ("result", result)],
        )
    };
    assert_eq!(read("ping", "hit"), Some(2.0));
    assert_eq!(read("message", "miss"), Some(1.0));
    assert_eq!(read("session_alive", "ok"), Some(1.0));
    assert_eq!(read("session_alive", "error"), Some(1.0));
    assert_eq!(read("ping", "miss"), Some(0.0));
}

struct Slots {
    values: Vec<u32>,
}

impl Slots {
    #[tachometer::count_event(mutable_lookups_total, result = outcome)]
    fn slot_mut(&mut self, index: usize) -> Option<&mut u32> {
        self.values.get_mut(index)
    }

    #[tachometer::count_event(mutable_lookups_total, result = outcome)]
    async fn slot_mut_async(&mut self, index: usize) -> Option<&mut u32> {
        tokio::task::yield_now().await;
        self.values.get_mut(index)
    }
}

#[tokio::test]
async fn outcome_label_on_a_method_returning_a_mutable_borrow_of_self() {
    let mut slots = Slots { values: vec![1, 2] };
    *slots.slot_mut(0).expect("slot 0") = 10;
    assert!(slots.slot_mut(5).is_none());
    *slots.slot_mut_async(1).await.expect("slot 1") = 20;
    assert_eq!(slots.values, vec![10, 20]);

    let parsed = exposition();
    let read = |result: &str| parsed.value("mutable_lookups_total", &[("result", result)]);
    assert_eq!(read("hit"), Some(2.0));
    assert_eq!(read("miss"), Some(1.0));
}

/// A job type that names its label value as an associated constant.
trait Job {
    const OPERATION: CacheOperation;
}

struct GetJob;
struct SetJob;

impl Job for GetJob {
    const OPERATION: CacheOperation = CacheOperation::Get;
}

impl Job for SetJob {
    const OPERATION: CacheOperation = CacheOperation::Set;
}

#[tachometer::count_event(generic_jobs_total, operation = J::OPERATION)]
fn run_job<J: Job>() {}

struct Runner<J>(std::marker::PhantomData<J>);

impl<J: Job> Runner<J> {
    fn go() {
        tachometer::count!(generic_jobs_total, operation = J::OPERATION);
    }
}

trait Described {
    const OPERATION: CacheOperation;

    #[tachometer::count_event(generic_jobs_total, operation = Self::OPERATION)]
    fn describe(&self) {}
}

impl Described for GetJob {
    const OPERATION: CacheOperation = CacheOperation::Get;
}

impl Described for SetJob {
    const OPERATION: CacheOperation = CacheOperation::Invalidate;
}

#[test]
fn constant_label_of_a_generic_parameter_counts_under_each_type() {
    run_job::<GetJob>();
    run_job::<SetJob>();
    run_job::<SetJob>();
    Runner::<GetJob>::go();
    Runner::<SetJob>::go();
    Runner::<SetJob>::go();
    Runner::<SetJob>::go();
    GetJob.describe();
    SetJob.describe();

    let series = |operation| value("generic_jobs_total", &[("operation", operation)]);
    assert_eq!(series("get"), Some(3.0));
    assert_eq!(series("set"), Some(5.0));
    assert_eq!(series("invalidate"), Some(1.0));
}
