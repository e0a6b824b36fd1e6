//! Procedural macros of tachometer. Use them through the `tachometer` crate, which
//! re-exports them and documents each one.
//!
//! Each entry point parses its input into a typed description, checks it, and expands it;
//! the work happens in functions over `proc_macro2` token streams so that expansion can be
//! unit-tested and snapshotted.

use proc_macro::TokenStream;

mod catalog;
mod count;
mod label_value;
mod names;
mod track_http;
mod ws_scoped;

/// Declares metric families, checked at compile time. See `tachometer::catalog!`.
#[proc_macro]
pub fn catalog(input: TokenStream) -> TokenStream {
    catalog::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Counts each call of a function. See `tachometer::count_event`.
#[proc_macro_attribute]
pub fn count_event(args: TokenStream, item: TokenStream) -> TokenStream {
    count::expand_attribute(args.into(), item.into()).into()
}

/// Counts one event where it stands. See `tachometer::count!`.
#[proc_macro]
pub fn count(input: TokenStream) -> TokenStream {
    count::expand_statement(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `tachometer::LabelValue` for a fieldless enum. See `tachometer::LabelValue`.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    label_value::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Records HTTP requests of an axum handler. See `tachometer::track_http`.
#[proc_macro_attribute]
pub fn track_http(args: TokenStream, item: TokenStream) -> TokenStream {
    track_http::expand(args.into(), item.into()).into()
}

/// Counts the values of a WebSocket connection type. See `tachometer::ws_scoped`.
#[proc_macro_attribute]
pub fn ws_scoped(args: TokenStream, item: TokenStream) -> TokenStream {
    ws_scoped::expand(args.into(), item.into()).into()
}
