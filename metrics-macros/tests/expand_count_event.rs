//! Expansion snapshots of `#[count_event]`, `count!`, `catalog!` and
//! `#[derive(LabelValue)]`: what the user's code turns into, formatted.

#[path = "../src/names.rs"]
#[allow(dead_code, unreachable_pub)]
mod names;

#[path = "../src/catalog.rs"]
#[allow(dead_code, unreachable_pub)]
mod catalog;

#[path = "../src/count.rs"]
#[allow(dead_code, unreachable_pub)]
mod count;

#[path = "../src/label_value.rs"]
#[allow(dead_code, unreachable_pub)]
mod label_value;

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

fn count_event(args: TokenStream, item: TokenStream) -> String {
    pretty(count::expand_attribute(args, item))
}

#[test]
fn sync_function_with_fixed_labels() {
    insta::assert_snapshot!(count_event(
        quote!(
            telemetry::session_cache_operations_total,
            operation = CacheOperation::Get,
            result = CacheResult::Hit
        ),
        quote! {
            /// Reads the cache.
            pub fn get(key: u32) -> u32 {
                #![allow(clippy::cast_possible_truncation)]
                key
            }
        },
    ));
}

#[test]
fn async_function_counted_when_its_future_runs() {
    insta::assert_snapshot!(count_event(
        quote!(session_alive_events_total),
        quote! {
            async fn on_alive(id: u64) -> u64 {
                tokio::task::yield_now().await;
                id
            }
        },
    ));
}

#[test]
fn async_function_labelled_by_its_result() {
    insta::assert_snapshot!(count_event(
        quote!(
            session_cache_operations_total,
            operation = CacheOperation::Set,
            result = outcome
        ),
        quote! {
            async fn set(&self, key: u32) -> Result<(), Error> {
                self.store.put(key).await?;
                Ok(())
            }
        },
    ));
}

#[test]
fn method_labelled_by_an_option_and_an_argument() {
    insta::assert_snapshot!(count_event(
        quote!(
            session_cache_operations_total,
            operation = op,
            result = outcome
        ),
        quote! {
            fn lookup(&self, op: CacheOperation, key: &str) -> Option<&Session> {
                if key.is_empty() {
                    return None;
                }
                self.sessions.get(key)
            }
        },
    ));
}

#[test]
fn generic_function() {
    insta::assert_snapshot!(count_event(
        quote!(calls_total),
        quote! {
            fn largest<T: PartialOrd + Copy, const N: usize>(items: [T; N]) -> Option<T>
            where
                T: Default,
            {
                items.into_iter().reduce(|a, b| if b > a { b } else { a })
            }
        },
    ));
}

#[test]
fn impl_trait_return_mapped_by_a_function() {
    insta::assert_snapshot!(count_event(
        quote!(results_total, outcome = outcome(classify)),
        quote! {
            fn numbers(n: u32) -> impl Iterator<Item = u32> {
                0..n
            }
        },
    ));
}

#[test]
fn inline_counter_takes_its_help_from_the_doc_comment() {
    insta::assert_snapshot!(count_event(
        quote!(name = "session_alive_events_total"),
        quote! {
            /// Sessions reported alive over WebSocket.
            fn on_alive() {}
        },
    ));
}

#[test]
fn wrong_arguments_keep_the_function() {
    let tokens = count::expand_attribute(
        quote!(name = "session-alive_total"),
        quote!(
            fn on_alive() {}
        ),
    );
    let text = tokens.to_string();
    assert!(text.contains("compile_error"), "{text}");
    assert!(text.contains("fn on_alive"), "{text}");
}

#[test]
fn count_statement_with_a_runtime_label() {
    let tokens = count::expand_statement(quote!(websocket_events_total, event_type = kind))
        .expect("valid arguments");
    insta::assert_snapshot!(pretty(quote!(fn f() { #tokens })));
}

#[test]
fn catalog_of_a_counter_and_a_histogram() {
    let tokens = catalog::expand(quote! {
        /// Session cache operations by operation and result.
        counter session_cache_operations_total { operation: CacheOperation, result: CacheResult }
        /// Time one refresh took.
        pub histogram refresh_seconds buckets [0.5, 1, 2.5];
    })
    .expect("a valid catalog");
    insta::assert_snapshot!(pretty(tokens));
}

#[test]
fn derived_label_value() {
    let tokens = label_value::expand(quote! {
        enum CacheResult {
            Hit,
            Miss,
            #[label = "ok"]
            Fine,
            Error,
        }
    })
    .expect("a fieldless enum");
    insta::assert_snapshot!(pretty(tokens));
}

#[test]
fn count_statement_with_string_literal_values() {
    let tokens = count::expand_statement(quote!(
        session_cache_operations_total,
        operation = "get",
        result = "hit"
    ))
    .expect("valid arguments");
    insta::assert_snapshot!(pretty(quote!(fn f() { #tokens })));
}
