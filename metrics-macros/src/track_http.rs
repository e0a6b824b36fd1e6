//! `#[track_http(METHOD, "/route")]`: records one axum handler's requests.
//!
//! The handler keeps its body, which runs inside an async block whose output type is the
//! declared return type (with each `impl Trait` left to inference), so `self`, generics,
//! early `return` and `?` behave as written. Around it the expansion starts an
//! `HttpGuard` from a `static HttpRoute`, converts the body's value into a response, and
//! finishes the guard with the response's status. A future dropped before it answers
//! leaves the guard unfinished, and its `Drop` records 499, or 500 during a panic.
//!
//! The rewritten signature returns `Response`, so the traits of an `impl Trait` return type
//! would no longer be named anywhere; a `use Trait as _;` per trait keeps the user's imports
//! of them in use.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{AttrStyle, Attribute, Ident, ItemFn, LitStr, ReturnType, Token, Type};

/// The methods the `method` label knows, as written in the attribute and on the wire.
const METHODS: &[(&str, &str)] = &[
    ("GET", "Get"),
    ("HEAD", "Head"),
    ("POST", "Post"),
    ("PUT", "Put"),
    ("PATCH", "Patch"),
    ("DELETE", "Delete"),
    ("OPTIONS", "Options"),
    ("CONNECT", "Connect"),
    ("TRACE", "Trace"),
];

const USAGE: &str = "expected `#[track_http(METHOD, \"/route\")]`, such as \
                     `#[track_http(GET, \"/users/{id}\")]`";

/// The checked arguments: the `Method` variant and the route template.
struct Args {
    variant: Ident,
    route: LitStr,
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[track_http]` applies to an `async fn` axum handler",
            );
            return with_item(error, item);
        }
    };

    let args = parse_args.parse2(args);
    let mut errors = Vec::new();
    if let Some(constness) = &function.sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            "`#[track_http]` cannot be used on a `const fn`; handlers are `async fn`",
        ));
    } else if function.sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            function.sig.fn_token.span,
            "`#[track_http]` requires an `async fn`; add `async` before `fn`",
        ));
    }

    let args = match args {
        Ok(args) => Some(args),
        Err(error) => {
            errors.insert(0, error);
            None
        }
    };
    match (combine(errors), args) {
        (None, Some(args)) => expand_handler(&args, function),
        (error, _) => with_item(error.unwrap_or_else(usage_error), item),
    }
}

/// Reads `METHOD, "/route"`, reporting every mistake it finds at once.
fn parse_args(input: ParseStream<'_>) -> syn::Result<Args> {
    if input.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("missing arguments: {USAGE}"),
        ));
    }

    let mut errors = Vec::new();
    let method_span = input.span();
    let variant = if input.peek(Ident) {
        let method: Ident = input.parse()?;
        match check_method(&method) {
            Ok(variant) => Some(variant),
            Err(error) => {
                errors.push(error);
                None
            }
        }
    } else {
        let token: proc_macro2::TokenTree = input.parse()?;
        errors.push(syn::Error::new(
            token.span(),
            format!("expected an HTTP method, one of {}", method_list()),
        ));
        None
    };

    if input.is_empty() {
        errors.push(syn::Error::new(
            method_span,
            format!("missing route template after the method: {USAGE}"),
        ));
        return Err(combine(errors).unwrap_or_else(usage_error));
    }
    input.parse::<Token![,]>()?;

    let route = if input.peek(LitStr) {
        let route: LitStr = input.parse()?;
        match check_route(&route) {
            Ok(()) => Some(route),
            Err(error) => {
                errors.push(error);
                None
            }
        }
    } else if input.is_empty() {
        errors.push(syn::Error::new(
            method_span,
            format!("missing route template after the method: {USAGE}"),
        ));
        None
    } else {
        let token: proc_macro2::TokenTree = input.parse()?;
        errors.push(syn::Error::new(
            token.span(),
            "expected the route template as a string literal, such as \"/users/{id}\"",
        ));
        None
    };

    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    }
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        errors.push(syn::Error::new_spanned(
            rest,
            "unexpected argument: `#[track_http]` takes a method and a route template",
        ));
    }

    match (combine(errors), variant, route) {
        (None, Some(variant), Some(route)) => Ok(Args { variant, route }),
        (error, _, _) => Err(error.unwrap_or_else(usage_error)),
    }
}

fn check_method(method: &Ident) -> syn::Result<Ident> {
    let name = method.to_string();
    if let Some((_, variant)) = METHODS.iter().find(|(wire, _)| *wire == name) {
        return Ok(Ident::new(variant, method.span()));
    }
    let upper = name.to_ascii_uppercase();
    let message = if METHODS.iter().any(|(wire, _)| *wire == upper) {
        format!("unknown HTTP method `{name}`; methods are upper case: `{upper}`")
    } else {
        format!(
            "unknown HTTP method `{name}`; expected one of {}",
            method_list()
        )
    };
    Err(syn::Error::new(method.span(), message))
}

fn check_route(route: &LitStr) -> syn::Result<()> {
    let template = route.value();
    if !template.starts_with('/') {
        return Err(syn::Error::new(
            route.span(),
            format!("route template `{template}` must start with `/`"),
        ));
    }
    if !captures_are_balanced(&template) {
        return Err(syn::Error::new(
            route.span(),
            format!("route template `{template}` has unbalanced `{{` `}}`"),
        ));
    }
    Ok(())
}

/// Whether every `{capture}` closes, none nests, and no `}` comes first. Outside a capture,
/// `{{` and `}}` are axum's escapes for literal braces.
fn captures_are_balanced(template: &str) -> bool {
    let mut in_capture = false;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_capture) {
            ('{' | '}', false) if chars.peek() == Some(&c) => {
                chars.next();
            }
            ('{', false) => in_capture = true,
            ('}', true) => in_capture = false,
            ('{' | '}', _) => return false,
            _ => {}
        }
    }
    !in_capture
}

fn method_list() -> String {
    let names: Vec<String> = METHODS
        .iter()
        .map(|(wire, _)| format!("`{wire}`"))
        .collect();
    names.join(", ")
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

/// The errors followed by the user's item unchanged, so that one mistake does not cascade
/// into "cannot find function" elsewhere.
fn with_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let mut tokens = error.into_compile_error();
    tokens.extend(item);
    tokens
}

/// Replaces every `impl Trait` with `_`, so the declared return type can pin the body's
/// output type while inference fills in what the signature hides. The traits it removes are
/// kept, as paths, so that the expansion can still refer to them.
#[derive(Default)]
struct InferImplTrait {
    traits: Vec<syn::Path>,
}

impl VisitMut for InferImplTrait {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            // Traits named inside the bounds' own arguments (`impl Iterator<Item = impl
            // Display>`) are collected too.
            syn::visit_mut::visit_type_impl_trait_mut(self, impl_trait);
            for bound in &impl_trait.bounds {
                if let syn::TypeParamBound::Trait(bound) = bound
                    && matches!(bound.modifier, syn::TraitBoundModifier::None)
                {
                    self.traits.push(without_arguments(&bound.path));
                }
            }
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: Token![_](impl_trait.span()),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}

/// `a::Trait<X>` as `a::Trait`, a path a `use` declaration accepts.
fn without_arguments(path: &syn::Path) -> syn::Path {
    let mut path = path.clone();
    for segment in &mut path.segments {
        segment.arguments = syn::PathArguments::None;
    }
    path
}

/// `use Trait as _;` for each trait the signature named in an `impl Trait`: the rewritten
/// signature no longer mentions them, and an import used only there must not turn into an
/// unused-import warning.
fn keep_traits_in_use(traits: &[syn::Path]) -> TokenStream {
    let mut seen = Vec::new();
    let mut tokens = TokenStream::new();
    for path in traits {
        let key = path.to_token_stream().to_string();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        tokens.extend(quote! {
            #[allow(unused_imports)]
            use #path as _;
        });
    }
    tokens
}

fn expand_handler(args: &Args, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    let (outer, inner): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Outer));

    let mut output_type = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let output_span = match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let mut infer = InferImplTrait::default();
    infer.visit_type_mut(&mut output_type);
    let traits_in_use = keep_traits_in_use(&infer.traits);
    sig.output = syn::parse_quote!(-> ::tachometer::__private::Response);

    let variant = &args.variant;
    let route = &args.route;
    let guard = Ident::new("guard", Span::mixed_site());
    let output = Ident::new("output", Span::mixed_site());
    let response = Ident::new("response", Span::mixed_site());

    let route_static = quote! {
        static __TACHOMETER_ROUTE: ::tachometer::__private::HttpRoute =
            ::tachometer::__private::HttpRoute::new(
                ::tachometer::__private::Method::#variant,
                #route,
            );
    };
    let pin_output = quote! {
        fn __tachometer_output<T, F>(future: F) -> F
        where
            F: ::core::future::Future<Output = T>,
        {
            future
        }
    };
    // Naming the declared type in the call puts a missing `IntoResponse` on the return type.
    let into_response = quote_spanned! {output_span=>
        <#output_type as ::tachometer::__private::IntoResponse>::into_response(#output)
    };

    let body = quote! {
        #(#inner)*
        #traits_in_use
        #pin_output
        #route_static
        let #guard = __TACHOMETER_ROUTE.start();
        let #output = __tachometer_output::<#output_type, _>(async move #block).await;
        let #response: ::tachometer::__private::Response = #into_response;
        #guard.finish(#response.status().as_u16());
        #response
    };

    let mut tokens = TokenStream::new();
    for attr in &outer {
        attr.to_tokens(&mut tokens);
    }
    vis.to_tokens(&mut tokens);
    sig.to_tokens(&mut tokens);
    tokens.extend(quote!({ #body }));
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(args: TokenStream, item: TokenStream) -> String {
        expand(args, item).to_string()
    }

    #[test]
    fn lists_every_method_for_an_unknown_one() {
        let out = errors_of(
            quote!(FETCH, "/x"),
            quote!(
                async fn h() {}
            ),
        );
        assert!(out.contains("unknown HTTP method `FETCH`; expected one of `GET`"));
        assert!(out.contains("`TRACE`"));
    }

    #[test]
    fn reports_method_and_route_mistakes_together() {
        let out = errors_of(
            quote!(get, "users"),
            quote!(
                async fn h() {}
            ),
        );
        assert!(out.contains("methods are upper case: `GET`"));
        assert!(out.contains("route template `users` must start with `/`"));
    }

    #[test]
    fn route_braces_must_pair_up() {
        for template in ["/users/{id", "/users/id}", "/users/{a{b}}"] {
            let out = errors_of(
                quote!(GET, #template),
                quote!(
                    async fn h() {}
                ),
            );
            assert!(out.contains("has unbalanced"), "{template}: {out}");
        }
        let out = errors_of(
            quote!(GET, "/users/{id}/posts/{post}"),
            quote!(
                async fn h() {}
            ),
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn keeps_the_item_when_arguments_are_wrong() {
        let out = errors_of(
            quote!(),
            quote!(
                async fn handler_name() {}
            ),
        );
        assert!(out.contains("missing arguments"));
        assert!(out.contains("handler_name"));
    }
}
