//! `#[count_event]` and `count!`: count events into a catalog counter.
//!
//! Parsing turns the arguments into a [`Target`] and a list of [`LabelArg`]s; expansion
//! wraps the function the way `#[instrument]` does, keeping the body in place so that
//! `self`, `Self` and generics resolve as written.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{AttrStyle, Expr, ExprCall, ExprPath, Ident, ItemFn, LitStr, Path, ReturnType, Token};

use crate::catalog::{Errors, field_ident};
use crate::names::{self, Kind};

/// One argument as written: a bare path or `key = value`.
enum Arg {
    Path(Path),
    Pair { key: Ident, value: Expr },
}

/// What is counted.
enum Target {
    /// A counter declared in a catalog.
    Catalog(Path),
    /// `name = "..."`: an unlabeled counter declared by the attribute itself.
    Inline { name: LitStr, help: Option<LitStr> },
}

/// Where a label takes its value from.
enum LabelSource {
    /// A literal other than a string: the same on every call.
    Fixed(Expr),
    /// A string literal: the value of the label's type with that label, found at compile time.
    Literal(LitStr),
    /// An expression evaluated on each call.
    Evaluated(Expr),
    /// `outcome`: the return value, through `FromOutcome`.
    Outcome(Ident),
    /// `outcome(path::to::fn)`: the return value, through a mapping function.
    OutcomeWith(Ident, Expr),
}

impl LabelSource {
    /// The same value on every call: the call site can keep a single handle.
    fn is_fixed(&self) -> bool {
        matches!(self, Self::Fixed(_) | Self::Literal(_))
    }

    /// The value's expression, for sources that do not depend on the return value.
    fn value(&self) -> Option<TokenStream> {
        match self {
            Self::Fixed(expr) | Self::Evaluated(expr) => Some(expr.to_token_stream()),
            Self::Literal(lit) => Some(literal_value(lit)),
            Self::Outcome(_) | Self::OutcomeWith(..) => None,
        }
    }
}

/// The enum value a string literal stands for, found when the program is compiled: an
/// inline `const` block that fails on the literal when no value has that label.
fn literal_value(lit: &LitStr) -> TokenStream {
    let message = format!(
        "`{}` is not a value of this label: use one the catalog or the label's `LabelValue` type lists",
        lit.value().escape_debug()
    );
    quote_spanned! {lit.span()=>
        const {
            match ::tachometer::__private::literal_label(#lit) {
                ::core::option::Option::Some(__tachometer_value) => __tachometer_value,
                ::core::option::Option::None => ::core::panic!(#message),
            }
        }
    }
}

struct LabelArg {
    key: Ident,
    source: LabelSource,
}

struct Args {
    target: Target,
    labels: Vec<LabelArg>,
}

const USAGE: &str = "`#[count_event(path::to::metric_total, label = value, ...)]` or \
                     `#[count_event(name = \"metric_total\")]`";

fn parse_arg(input: ParseStream<'_>) -> syn::Result<Arg> {
    if (input.peek(Ident::peek_any) && input.peek2(Token![=]) && !input.peek2(Token![==]))
        && !input.peek(Token![::])
    {
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        return Ok(Arg::Pair { key, value });
    }
    Ok(Arg::Path(input.call(Path::parse_mod_style)?))
}

fn parse_args(tokens: TokenStream, attribute: bool) -> syn::Result<Args> {
    let what = if attribute {
        "#[count_event]"
    } else {
        "count!"
    };
    let parser = |input: ParseStream<'_>| {
        Punctuated::<Arg, Token![,]>::parse_terminated_with(input, parse_arg)
    };
    let args = parser
        .parse2(tokens)
        .map_err(|e| syn::Error::new(e.span(), format!("{e}: expected {USAGE}")))?;
    let mut args = args.into_iter();
    let mut errors = Errors::default();

    let target = match args.next() {
        None => {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("`{what}` needs the counter to count into: {USAGE}"),
            ));
        }
        Some(Arg::Path(path)) => Target::Catalog(path),
        Some(Arg::Pair { key, value }) if key == "name" && attribute => Target::Inline {
            name: string_literal(&value, "name")?,
            help: None,
        },
        Some(Arg::Pair { key, .. }) => {
            return Err(syn::Error::new(
                key.span(),
                format!("expected the metric first, before any label: {USAGE}"),
            ));
        }
    };

    let mut target = target;
    let mut labels: Vec<LabelArg> = Vec::new();
    for arg in args {
        let (key, value) = match arg {
            Arg::Pair { key, value } => (key, value),
            Arg::Path(path) => {
                errors.at(
                    path.span(),
                    "expected `label = value`: the metric comes first and only once",
                );
                continue;
            }
        };
        if let Target::Inline { help, .. } = &mut target {
            if key == "help" && help.is_none() {
                match string_literal(&value, "help") {
                    Ok(text) => *help = Some(text),
                    Err(error) => errors.push(error),
                }
            } else if key == "help" {
                errors.at(key.span(), "`help` is given twice: remove one");
            } else {
                errors.at(
                    key.span(),
                    format!(
                        "unexpected `{key}`: a counter declared by `name = ...` takes only `help`; \
                         declare it in a `tachometer::catalog!` to give it labels"
                    ),
                );
            }
            continue;
        }
        if let Err(error) = crate::catalog::refuse_path_keyword(&key, "label") {
            errors.push(error);
            continue;
        }
        let name = key.unraw().to_string();
        if labels.iter().any(|l| l.key.unraw() == name) {
            errors.at(
                key.span(),
                format!("label `{name}` is given twice: remove one"),
            );
            continue;
        }
        let source = match label_source(value) {
            Ok(source) => source,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        if !attribute
            && matches!(
                source,
                LabelSource::Outcome(_) | LabelSource::OutcomeWith(..)
            )
        {
            errors.at(
                key.span(),
                "`outcome` names the return value of a function counted by `#[count_event]`; \
                 `count!` has none: give the value itself",
            );
            continue;
        }
        labels.push(LabelArg { key, source });
    }

    errors.finish()?;
    Ok(Args { target, labels })
}

fn string_literal(value: &Expr, key: &str) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("expected a string literal: `{key} = \"...\"`"),
        )),
    }
}

fn label_source(value: Expr) -> syn::Result<LabelSource> {
    match value {
        Expr::Path(ExprPath { ref path, .. }) if path.is_ident("outcome") => {
            let ident = path.segments[0].ident.clone();
            Ok(LabelSource::Outcome(ident))
        }
        Expr::Call(ExprCall {
            ref func, ref args, ..
        }) if matches!(&**func, Expr::Path(p) if p.path.is_ident("outcome")) => {
            let Expr::Path(ExprPath { path, .. }) = &**func else {
                unreachable!("matched above")
            };
            let ident = path.segments[0].ident.clone();
            if args.len() != 1 {
                return Err(syn::Error::new_spanned(
                    &value,
                    "expected one mapping function: `outcome(path::to::fn)`",
                ));
            }
            Ok(LabelSource::OutcomeWith(ident, args[0].clone()))
        }
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(ref lit),
            ..
        }) => Ok(LabelSource::Literal(lit.clone())),
        Expr::Lit(_) => Ok(LabelSource::Fixed(value)),
        // A path such as `Operation::Get` is evaluated on each call too: it may name a
        // constant of a generic parameter (`T::KIND`, `Self::KIND`), whose value differs
        // between instantiations that share one `static`. Choosing the handle by index
        // costs no more than a single cached handle.
        _ => Ok(LabelSource::Evaluated(value)),
    }
}

/// `#[count_event(...)]`: always returns the user's function, with the errors beside it
/// when the arguments or the function are wrong.
pub(crate) fn expand_attribute(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[count_event]` applies to a function with a body",
            );
            let error = error.into_compile_error();
            return quote!(#error #item);
        }
    };
    let args = match parse_args(args, true) {
        Ok(args) => args,
        Err(error) => {
            let error = error.into_compile_error();
            return quote!(#error #item);
        }
    };
    match expand_function(&args, &function) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#error #item)
        }
    }
}

/// `count!(...)`: one count where it stands.
pub(crate) fn expand_statement(input: TokenStream) -> syn::Result<TokenStream> {
    let args = parse_args(input, false)?;
    let Target::Catalog(metric) = &args.target else {
        unreachable!("`name = ...` is refused for `count!` while parsing")
    };
    let values = args
        .labels
        .iter()
        .map(|label| label.source.value().unwrap_or_default())
        .collect::<Vec<_>>();
    let fixed = args.labels.iter().all(|l| l.source.is_fixed());
    Ok(count_catalog(metric, &args.labels, &values, fixed))
}

/// The statement that adds one to the series of `metric` named by `values`.
fn count_catalog(
    metric: &Path,
    labels: &[LabelArg],
    values: &[TokenStream],
    fixed: bool,
) -> TokenStream {
    let private = quote!(::tachometer::__private);
    let fields = labels.iter().map(|l| field_ident(&l.key));
    let series = quote!(#metric { #(#fields: #values),* });
    // A metric that is not a catalog counter is reported on the metric's name.
    let span = metric
        .segments
        .last()
        .map_or_else(Span::call_site, |segment| segment.ident.span());
    let count_fixed = quote_spanned! {span=>
        ::tachometer::__private::static_counter(&__TACHOMETER_COUNTER, || #series).inc()
    };
    let count_evaluated = quote_spanned! {span=>
        ::tachometer::__private::CounterSite::inc(&__TACHOMETER_SITE, &#series)
    };
    if fixed {
        quote! {
            {
                static __TACHOMETER_COUNTER: #private::OnceLock<#private::Counter> =
                    #private::OnceLock::new();
                #count_fixed;
            }
        }
    } else {
        quote! {
            {
                static __TACHOMETER_SITE: #private::CounterSite = #private::CounterSite::new();
                #count_evaluated;
            }
        }
    }
}

/// The statement that adds one to a counter declared by `name = "..."`.
fn count_inline(
    function: &ItemFn,
    name: &LitStr,
    help: Option<&LitStr>,
) -> syn::Result<TokenStream> {
    names::check_metric_name(&name.value(), Kind::Counter)
        .map_err(|message| syn::Error::new(name.span(), message))?;
    let help = help.map_or_else(
        || {
            let docs = doc_text(&function.attrs);
            if docs.is_empty() {
                format!("Calls of `{}`.", function.sig.ident.unraw())
            } else {
                docs
            }
        },
        LitStr::value,
    );
    let private = quote!(::tachometer::__private);
    Ok(quote! {
        {
            static __TACHOMETER_DESCRIPTOR: #private::Descriptor = #private::Descriptor {
                name: #name,
                help: #help,
                kind: #private::MetricKind::Counter,
                labels: &[],
                buckets: &[],
            };
            static __TACHOMETER_COUNTER: #private::OnceLock<#private::Counter> =
                #private::OnceLock::new();
            __TACHOMETER_COUNTER
                .get_or_init(|| #private::global().counter(&__TACHOMETER_DESCRIPTOR, &[]))
                .inc();
        }
    })
}

fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(pair) = &attr.meta
            && let Ok(text) = string_literal(&pair.value, "doc")
        {
            let text = text.value();
            lines.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    lines.join(" ")
}

fn expand_function(args: &Args, function: &ItemFn) -> syn::Result<TokenStream> {
    if let Some(constness) = &function.sig.constness {
        return Err(syn::Error::new(
            constness.span,
            "`#[count_event]` cannot count calls of a `const fn`: remove `const` or the attribute",
        ));
    }

    let (outer, inner): (Vec<_>, Vec<_>) = function
        .attrs
        .iter()
        .partition(|a| matches!(a.style, AttrStyle::Outer));
    let vis = &function.vis;
    let sig = &function.sig;
    let stmts = &function.block.stmts;

    let metric = match &args.target {
        Target::Inline { name, help } => {
            let count = count_inline(function, name, help.as_ref())?;
            return Ok(quote! {
                #(#outer)*
                #vis #sig {
                    #(#inner)*
                    #count
                    #(#stmts)*
                }
            });
        }
        Target::Catalog(metric) => metric,
    };

    let from_outcome = args.labels.iter().any(|l| {
        matches!(
            l.source,
            LabelSource::Outcome(_) | LabelSource::OutcomeWith(..)
        )
    });
    if !from_outcome {
        let values: Vec<TokenStream> = args
            .labels
            .iter()
            .map(|l| l.source.value().unwrap_or_default())
            .collect();
        let fixed = args.labels.iter().all(|l| l.source.is_fixed());
        let count = count_catalog(metric, &args.labels, &values, fixed);
        return Ok(quote! {
            #(#outer)*
            #vis #sig {
                #(#inner)*
                #count
                #(#stmts)*
            }
        });
    }

    // A label from the return value: run the body to completion, then count.
    let mut on_entry = Vec::new();
    let mut values = Vec::new();
    for (i, label) in args.labels.iter().enumerate() {
        match &label.source {
            LabelSource::Fixed(expr) => values.push(expr.to_token_stream()),
            LabelSource::Literal(lit) => values.push(literal_value(lit)),
            LabelSource::Evaluated(expr) => {
                let local = format_ident!("__tachometer_label_{}", i);
                on_entry.push(quote!(let #local = #expr;));
                values.push(local.to_token_stream());
            }
            LabelSource::Outcome(word) => values.push(quote_spanned! {word.span()=>
                ::tachometer::__private::FromOutcome::from_outcome(&__tachometer_result)
            }),
            LabelSource::OutcomeWith(word, mapping) => {
                let call = quote_spanned!(word.span()=> (#mapping)(&__tachometer_result));
                values.push(call);
            }
        }
    }
    let count = count_catalog(metric, &args.labels, &values, false);
    let annotation = match &sig.output {
        ReturnType::Type(_, ty) if !contains_impl_trait(ty) => quote!(: #ty),
        _ => TokenStream::new(),
    };
    let run = if sig.asyncness.is_some() {
        quote!(async move { #(#stmts)* }.await)
    } else {
        quote!(::tachometer::__private::call_once(move || { #(#stmts)* }))
    };

    Ok(quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #(#on_entry)*
            let __tachometer_result #annotation = #run;
            #count
            __tachometer_result
        }
    })
}

fn contains_impl_trait(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}
