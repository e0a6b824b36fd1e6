//! `#[count_event]` on every shape of function: sync and async, free functions and methods,
//! generics, `impl Trait` returns, `?` and early `return`, inner attributes, trait methods.
#![deny(warnings)]

use std::fmt::Display;

#[derive(Clone, Copy, tachometer::LabelValue)]
enum Outcome {
    Ok,
    Error,
    Hit,
    Miss,
}

tachometer::catalog! {
    /// Calls.
    counter calls_total;
    /// Results.
    counter results_total { outcome: Outcome }
}

#[tachometer::count_event(calls_total)]
fn plain() {}

#[tachometer::count_event(calls_total)]
async fn asynchronous(n: u32) -> u32 {
    n + 1
}

#[tachometer::count_event(calls_total)]
fn generic<T: Display, const N: usize>(items: [T; N]) -> String {
    #![allow(clippy::needless_pass_by_value)]
    items.iter().map(ToString::to_string).collect()
}

#[tachometer::count_event(calls_total)]
fn returns_impl_trait(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[tachometer::count_event(results_total, outcome = outcome)]
fn fallible(input: &str) -> Result<u32, std::num::ParseIntError> {
    if input.is_empty() {
        return Ok(0);
    }
    let n: u32 = input.parse()?;
    Ok(n * 2)
}

#[tachometer::count_event(results_total, outcome = outcome)]
async fn fallible_async(input: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let n: u32 = input.parse()?;
    Ok(n)
}

#[tachometer::count_event(results_total, outcome = outcome)]
fn lookup<'a>(items: &'a [String], key: &str) -> Option<&'a String> {
    items.iter().find(|item| *item == key)
}

fn classify(value: &impl Display) -> Outcome {
    if value.to_string().is_empty() {
        Outcome::Miss
    } else {
        Outcome::Hit
    }
}

#[tachometer::count_event(results_total, outcome = outcome(classify))]
fn mapped_impl_trait(text: &str) -> impl Display + '_ {
    text
}

struct Session {
    name: String,
}

impl Session {
    #[tachometer::count_event(calls_total)]
    fn name(&self) -> &str {
        &self.name
    }

    #[tachometer::count_event(calls_total)]
    fn rename(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = name.into();
        self
    }

    #[tachometer::count_event(results_total, outcome = Outcome::Ok)]
    async fn close(self) -> String {
        self.name
    }

    #[tachometer::count_event(results_total, outcome = outcome)]
    fn check(&self) -> Result<&Self, String> {
        if self.name.is_empty() {
            return Err("empty".to_owned());
        }
        Ok(self)
    }
}

trait Greeter {
    fn greet(&self) -> String;
}

impl Greeter for Session {
    #[tachometer::count_event(calls_total)]
    fn greet(&self) -> String {
        format!("hello {}", self.name)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    plain();
    assert_eq!(asynchronous(1).await, 2);
    assert_eq!(generic([1, 2]), "12");
    assert_eq!(returns_impl_trait(3).count(), 3);
    assert_eq!(fallible("4").ok(), Some(8));
    assert!(fallible_async("x").await.is_err());
    let items = vec!["a".to_owned()];
    assert!(lookup(&items, "a").is_some());
    assert_eq!(mapped_impl_trait("x").to_string(), "x");
    let mut session = Session { name: String::new() };
    session.rename("s");
    assert_eq!(session.name(), "s");
    assert!(session.check().is_ok());
    assert_eq!(session.greet(), "hello s");
    assert_eq!(session.close().await, "s");
}
