//! `#[ws_scoped("session")]`: makes every value of a struct one open WebSocket connection.
//!
//! The struct gains a field holding a `tachometer::WsConnection<Self>`, and the type
//! implements `WsScope` with a `static Scope` of the chosen name. The connection counts
//! while the value lives and closes in its own `Drop`, so there is no manual decrement to
//! forget and no path (return, panic, abort) that skips it. Cloning the value clones the
//! field, which opens a connection of its own.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::{ParseStream, Parser};
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Token};

/// Scopes the runtime knows; any other needs `custom = "..."`.
const KNOWN_SCOPES: &[&str] = &["user", "session", "machine"];

/// Name of the injected field unless `field = ...` says otherwise.
const DEFAULT_FIELD: &str = "ws_connection";

/// Longest scope name accepted; scopes are label values and should read as words.
const MAX_SCOPE_LEN: usize = 64;

const USAGE: &str = "expected `#[ws_scoped(\"session\")]` with one of \"user\", \"session\", \
                     \"machine\", or `#[ws_scoped(custom = \"name\")]` for a scope of your own";

/// The checked arguments.
struct Args {
    scope: LitStr,
    /// `Some` when set with `field = ...`.
    field: Option<Ident>,
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(item.clone()) {
        Ok(input) => input,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[ws_scoped]` applies to a struct with named or tuple fields",
            );
            return with_item(error, item);
        }
    };

    let mut errors = Vec::new();
    let args = match (|input: ParseStream<'_>| parse_args(input, &mut errors)).parse2(args) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error);
            None
        }
    };
    if let Err(error) = check_shape(&input, args.as_ref()) {
        errors.push(error);
        let error = combine(errors).unwrap_or_else(usage_error);
        return with_item(error, item);
    }

    match (combine(errors), args) {
        (None, Some(args)) => expand_struct(&args, input),
        (Some(error), Some(args)) => {
            // A wrong scope name on a struct of the right shape: expand anyway, so that code
            // building the struct with its connection field reports nothing further.
            let mut tokens = error.into_compile_error();
            tokens.extend(expand_struct(&args, input));
            tokens
        }
        (error, None) => with_item(error.unwrap_or_else(usage_error), item),
    }
}

/// Reads `"scope"` or `custom = "scope"`, optionally followed by `field = name`, in any
/// order. Mistakes go to `errors`, all at once; the arguments come back whenever a scope was
/// given, even a wrong one, so that the struct can still be expanded.
fn parse_args(input: ParseStream<'_>, errors: &mut Vec<syn::Error>) -> syn::Result<Option<Args>> {
    let mut scope: Option<LitStr> = None;
    let mut field: Option<Ident> = None;
    while !input.is_empty() {
        if input.peek(LitStr) {
            let name: LitStr = input.parse()?;
            if scope.is_some() {
                errors.push(syn::Error::new(name.span(), "the scope is already given"));
            } else {
                if let Err(error) = check_known_scope(&name) {
                    errors.push(error);
                }
                scope = Some(name);
            }
        } else if input.peek(Ident) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if key == "custom" {
                let name: LitStr = input.parse()?;
                if scope.is_some() {
                    errors.push(syn::Error::new(key.span(), "the scope is already given"));
                } else {
                    if let Err(error) = check_custom_scope(&name) {
                        errors.push(error);
                    }
                    scope = Some(name);
                }
            } else if key == "field" {
                let name: Ident = input.parse()?;
                if field.is_some() {
                    errors.push(syn::Error::new(key.span(), "duplicate argument `field`"));
                } else {
                    field = Some(name);
                }
            } else {
                let _value: syn::Expr = input.parse()?;
                errors.push(syn::Error::new(
                    key.span(),
                    format!("unknown argument `{key}`; expected `custom` or `field`"),
                ));
            }
        } else {
            let token: proc_macro2::TokenTree = input.parse()?;
            errors.push(syn::Error::new(token.span(), USAGE));
        }

        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }

    if scope.is_none() {
        errors.push(syn::Error::new(
            Span::call_site(),
            format!("missing scope: {USAGE}"),
        ));
    }
    Ok(scope.map(|scope| Args { scope, field }))
}

fn check_known_scope(name: &LitStr) -> syn::Result<()> {
    let value = name.value();
    if KNOWN_SCOPES.contains(&value.as_str()) {
        return Ok(());
    }
    let suggestion = KNOWN_SCOPES
        .iter()
        .find(|known| edit_distance(known, &value) <= 2)
        .map(|known| format!(" (did you mean \"{known}\"?)"))
        .unwrap_or_default();
    Err(syn::Error::new(
        name.span(),
        format!(
            "unknown WebSocket scope \"{value}\"{suggestion}; expected one of \"user\", \
             \"session\", \"machine\", or declare it as the application's own with \
             `#[ws_scoped(custom = \"{value}\")]`"
        ),
    ))
}

/// Levenshtein distance, for suggesting the known scope a misspelling meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// A scope of the application's own becomes the `scope` label value: it must be a short
/// lower-case word (`[a-z][a-z0-9_]*`) and must not shadow a known scope.
fn check_custom_scope(name: &LitStr) -> syn::Result<()> {
    let value = name.value();
    if KNOWN_SCOPES.contains(&value.as_str()) {
        return Err(syn::Error::new(
            name.span(),
            format!("\"{value}\" is a known scope; write `#[ws_scoped(\"{value}\")]`"),
        ));
    }
    let mut chars = value.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed || value.len() > MAX_SCOPE_LEN {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "invalid scope \"{}\": a scope is a label value of at most {MAX_SCOPE_LEN} \
                 characters matching `[a-z][a-z0-9_]*`",
                value.escape_default()
            ),
        ));
    }
    Ok(())
}

/// Only a struct with named or tuple fields can hold the connection.
fn check_shape(input: &DeriveInput, args: Option<&Args>) -> syn::Result<()> {
    let name = &input.ident;
    match &input.data {
        Data::Enum(data) => Err(syn::Error::new(
            data.enum_token.span,
            format!(
                "`#[ws_scoped]` cannot be used on an enum; put it on a struct that holds the \
                 connection, such as `struct {name}Connection {{ state: {name} }}`"
            ),
        )),
        Data::Union(data) => Err(syn::Error::new(
            data.union_token.span,
            "`#[ws_scoped]` cannot be used on a union; put it on a struct",
        )),
        Data::Struct(data) => match &data.fields {
            Fields::Unit => Err(syn::Error::new(
                data.struct_token.span,
                format!(
                    "`#[ws_scoped]` needs a struct with fields to hold the connection; \
                     write `struct {name} {{}}` and build it with \
                     `{name} {{ {DEFAULT_FIELD}: tachometer::WsConnection::open() }}`"
                ),
            )),
            Fields::Unnamed(_) => match args.and_then(|a| a.field.as_ref()) {
                Some(field) => Err(syn::Error::new(
                    field.span(),
                    "`field = ...` names the connection field of a struct with named \
                     fields; a tuple struct gets it as its last field",
                )),
                None => Ok(()),
            },
            Fields::Named(fields) => {
                let wanted = field_name(args);
                match fields
                    .named
                    .iter()
                    .filter_map(|f| f.ident.as_ref())
                    .find(|ident| **ident == wanted)
                {
                    Some(existing) => Err(syn::Error::new(
                        existing.span(),
                        format!(
                            "`#[ws_scoped]` adds a field `{wanted}`, and this struct already \
                             has one; name the connection field with \
                             `#[ws_scoped(..., field = other_name)]`"
                        ),
                    )),
                    None => Ok(()),
                }
            }
        },
    }
}

fn field_name(args: Option<&Args>) -> Ident {
    args.and_then(|a| a.field.clone())
        .unwrap_or_else(|| Ident::new(DEFAULT_FIELD, Span::call_site()))
}

fn combine(errors: Vec<syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, error| {
        all.combine(error);
        all
    })
}

fn usage_error() -> syn::Error {
    syn::Error::new(Span::call_site(), USAGE)
}

/// The errors followed by the user's item unchanged.
fn with_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let mut tokens = error.into_compile_error();
    tokens.extend(item);
    tokens
}

fn expand_struct(args: &Args, mut input: DeriveInput) -> TokenStream {
    let field_type: syn::Type = syn::parse_quote!(::tachometer::WsConnection<Self>);
    let vis = input.vis.clone();
    if let Data::Struct(data) = &mut input.data {
        match &mut data.fields {
            Fields::Named(fields) => {
                let name = field_name(Some(args));
                fields.named.push(syn::parse_quote! {
                    /// This value's WebSocket connection: counted while it lives.
                    #vis #name: #field_type
                });
            }
            Fields::Unnamed(fields) => {
                fields.unnamed.push(syn::parse_quote! {
                    /// This value's WebSocket connection: counted while it lives.
                    #vis #field_type
                });
            }
            Fields::Unit => {}
        }
    }

    let name = &input.ident;
    let scope = &args.scope;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let scope_impl = quote! {
        impl #impl_generics ::tachometer::__private::WsScope for #name #type_generics
        #where_clause
        {
            fn scope() -> &'static ::tachometer::__private::Scope {
                static SCOPE: ::tachometer::__private::Scope =
                    ::tachometer::__private::Scope::new(#scope);
                &SCOPE
            }
        }
    };

    let mut tokens = input.into_token_stream();
    tokens.extend(scope_impl);
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_known_scopes_for_an_unknown_one() {
        let out = expand(
            quote!("sesion"),
            quote!(
                struct S {
                    a: u8,
                }
            ),
        )
        .to_string();
        assert!(out.contains("unknown WebSocket scope \\\"sesion\\\""));
        assert!(out.contains("custom = \\\"sesion\\\""));
        assert!(out.contains("WsScope for S"));
    }

    #[test]
    fn custom_scopes_must_read_as_label_words() {
        let out = expand(
            quote!(custom = "Bad Scope"),
            quote!(
                struct S {
                    a: u8,
                }
            ),
        )
        .to_string();
        assert!(out.contains("invalid scope"));
        let out = expand(
            quote!(custom = "device"),
            quote!(
                struct S {
                    a: u8,
                }
            ),
        )
        .to_string();
        assert!(!out.contains("compile_error"));
    }
}
