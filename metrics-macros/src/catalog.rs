//! `catalog!`: every metric declared once, its names, labels and buckets checked.
//!
//! Each entry becomes a struct named after the metric whose fields are its labels, with an
//! implementation of `tachometer::Metric` and of the trait of its kind; the catalog also
//! gets a `register` function that makes every family and label combination present.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, Token, Type, UnOp, Visibility};

use crate::label_value::{self, Variant};
use crate::names::{self, Kind};

/// The whole input of one `catalog!`.
struct Catalog {
    entries: Vec<Entry>,
}

/// One metric declaration.
struct Entry {
    docs: Vec<Attribute>,
    other_attrs: Vec<Attribute>,
    vis: Visibility,
    kind_word: Ident,
    name: Ident,
    labels: Vec<LabelDecl>,
    buckets: Option<Buckets>,
}

/// `name: Type` inside an entry's braces.
struct LabelDecl {
    /// As written, possibly a keyword such as `type`.
    written: Ident,
    ty: LabelType,
}

/// The values a label takes.
enum LabelType {
    /// A type implementing `LabelValue`, usually an enum deriving it.
    Rust(Type),
    /// `"a" | "b"`: a closed set of strings, given as literals at call sites.
    Literals(Vec<LitStr>),
}

/// `buckets [0.1, 1, 10]`.
struct Buckets {
    keyword: Ident,
    bracket: Span,
    values: Vec<Expr>,
}

impl Parse for Catalog {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut entries = Vec::new();
        while !input.is_empty() {
            entries.push(input.parse()?);
        }
        Ok(Self { entries })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let (docs, other_attrs) = attrs.into_iter().partition(|a| a.path().is_ident("doc"));
        let vis = input.parse()?;
        let kind_word: Ident = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a metric kind: `counter`, `gauge` or `histogram`",
            )
        })?;
        let name: Ident = input.call(Ident::parse_any)?;
        refuse_path_keyword(&name, "metric")?;

        let mut labels = Vec::new();
        if input.peek(syn::token::Brace) {
            let content;
            syn::braced!(content in input);
            let decls = content.parse_terminated(LabelDecl::parse, Token![,])?;
            labels.extend(decls);
        }

        let mut buckets = None;
        if input.peek(Ident) && input.fork().call(Ident::parse_any)? == "buckets" {
            let keyword: Ident = input.call(Ident::parse_any)?;
            let content;
            let bracket = syn::bracketed!(content in input);
            let values: Punctuated<Expr, Token![,]> =
                content.parse_terminated(Expr::parse, Token![,])?;
            buckets = Some(Buckets {
                keyword,
                bracket: bracket.span.join(),
                values: values.into_iter().collect(),
            });
        }

        if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        } else if !input.is_empty() && labels.is_empty() && buckets.is_none() {
            return Err(input.error("expected `;`, `{` or `buckets` after the metric name"));
        }

        Ok(Self {
            docs,
            other_attrs,
            vis,
            kind_word,
            name,
            labels,
            buckets,
        })
    }
}

impl Parse for LabelDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let written = input.call(Ident::parse_any)?;
        refuse_path_keyword(&written, "label")?;
        input.parse::<Token![:]>()?;
        let ty = if input.peek(LitStr) {
            let mut values = vec![input.parse::<LitStr>()?];
            while input.peek(Token![|]) {
                input.parse::<Token![|]>()?;
                values.push(input.parse()?);
            }
            LabelType::Literals(values)
        } else {
            LabelType::Rust(input.parse()?)
        };
        Ok(Self { written, ty })
    }
}

impl LabelDecl {
    /// The label name as it appears in the exposition: `r#type` and `type` are `type`.
    fn name(&self) -> String {
        self.written.unraw().to_string()
    }

    /// The struct field: a raw identifier when the name is a Rust keyword.
    fn field(&self) -> Ident {
        field_ident(&self.written)
    }
}

/// `self`, `Self`, `super` and `crate` cannot be raw identifiers, so they can name neither
/// the struct of a metric nor a field of it.
pub(crate) fn refuse_path_keyword(written: &Ident, what: &str) -> syn::Result<()> {
    let name = written.unraw().to_string();
    if matches!(name.as_str(), "self" | "Self" | "super" | "crate") {
        return Err(syn::Error::new(
            written.span(),
            format!(
                "`{name}` cannot be a {what} name: it is a Rust path keyword; choose another name"
            ),
        ));
    }
    Ok(())
}

/// The identifier of the field for label `written`: `type` becomes `r#type`.
pub(crate) fn field_ident(written: &Ident) -> Ident {
    let name = written.unraw().to_string();
    if syn::parse_str::<Ident>(&name).is_ok() {
        Ident::new(&name, written.span())
    } else {
        Ident::new_raw(&name, written.span())
    }
}

/// Collects errors so that every mistake in the input is reported at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn spanned(
        &mut self,
        tokens: impl quote::ToTokens,
        message: impl std::fmt::Display,
    ) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// An entry that passed every check, ready to generate.
struct Checked<'a> {
    entry: &'a Entry,
    kind: Kind,
    help: String,
    buckets: Vec<f64>,
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let catalog: Catalog = syn::parse2(input)?;
    let mut errors = Errors::default();
    let checked: Vec<Checked<'_>> = catalog
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| check_entry(entry, &catalog.entries[..i], &mut errors))
        .collect();
    errors.finish()?;
    Ok(generate(&checked))
}

fn check_entry<'a>(
    entry: &'a Entry,
    earlier: &[Entry],
    errors: &mut Errors,
) -> Option<Checked<'a>> {
    let before = errors.0.is_some();
    let name = entry.name.unraw().to_string();

    for attr in &entry.other_attrs {
        errors.spanned(
            attr,
            "a catalog entry takes doc comments only: remove this attribute",
        );
    }

    let kind = Kind::parse(&entry.kind_word.to_string());
    if kind.is_none() {
        errors.at(
            entry.kind_word.span(),
            format!(
                "unknown metric kind `{}`: expected `counter`, `gauge` or `histogram`",
                entry.kind_word
            ),
        );
    }
    if let Some(kind) = kind
        && let Err(message) = names::check_metric_name(&name, kind)
    {
        errors.at(entry.name.span(), message);
    }
    if earlier.iter().any(|e| e.name.unraw() == entry.name.unraw()) {
        errors.at(
            entry.name.span(),
            format!("metric `{name}` is declared twice in this catalog: remove one declaration"),
        );
    }

    let help = help_text(&entry.docs);
    if help.is_empty() {
        errors.at(
            entry.name.span(),
            format!("metric `{name}` has no HELP text: add a doc comment above it"),
        );
    }

    for (i, label) in entry.labels.iter().enumerate() {
        let label_name = label.name();
        if let Err(message) = names::check_label_name(&label_name) {
            errors.at(label.written.span(), message);
        } else if entry.labels[..i].iter().any(|l| l.name() == label_name) {
            errors.at(
                label.written.span(),
                format!("label `{label_name}` is declared twice: remove one"),
            );
        }
    }

    for label in &entry.labels {
        if let LabelType::Literals(values) = &label.ty {
            for (i, value) in values.iter().enumerate() {
                let text = value.value();
                if text.is_empty() {
                    errors.at(
                        value.span(),
                        "an empty label value reads as no label at all in Prometheus: choose a non-empty value",
                    );
                } else if values[..i].iter().any(|v| v.value() == text) {
                    errors.at(
                        value.span(),
                        format!(
                            "label value `{}` is listed twice: remove one",
                            text.escape_debug()
                        ),
                    );
                }
            }
        }
    }

    let buckets = match (&entry.buckets, kind) {
        (Some(buckets), Some(Kind::Histogram)) => check_buckets(buckets, errors),
        (Some(buckets), Some(kind)) => {
            errors.at(
                buckets.keyword.span(),
                format!(
                    "only histograms take buckets: remove them from this {}",
                    kind.as_str()
                ),
            );
            Vec::new()
        }
        _ => Vec::new(),
    };

    let kind = kind?;
    (errors.0.is_some() == before).then_some(Checked {
        entry,
        kind,
        help,
        buckets,
    })
}

/// The doc comment as one HELP line: lines trimmed and joined by spaces.
fn help_text(docs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in docs {
        if let syn::Meta::NameValue(pair) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) = &pair.value
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

/// The bucket bounds, each checked on its own token.
fn check_buckets(buckets: &Buckets, errors: &mut Errors) -> Vec<f64> {
    if buckets.values.is_empty() {
        errors.at(
            buckets.bracket,
            "histogram buckets are empty: give at least one upper bound, such as `[0.1, 1, 10]`",
        );
        return Vec::new();
    }
    let mut values: Vec<f64> = Vec::with_capacity(buckets.values.len());
    for expr in &buckets.values {
        let Some(value) = bucket_value(expr, errors) else {
            continue;
        };
        let shown = quote!(#expr).to_string().replace(' ', "");
        if !value.is_finite() {
            errors.spanned(
                expr,
                format!(
                    "bucket `{shown}` is not a finite number: list finite upper bounds, \
                     the exposition adds `+Inf` itself"
                ),
            );
        } else if values.contains(&value) {
            errors.spanned(expr, format!("bucket `{shown}` appears twice: remove one"));
        } else if values.last().is_some_and(|last| value < *last) {
            errors.spanned(
                expr,
                format!(
                    "bucket `{shown}` is smaller than the one before it: list buckets in increasing order"
                ),
            );
        } else {
            values.push(value);
            continue;
        }
        values.push(f64::NAN);
    }
    values
}

/// The number a bucket expression stands for: a literal, a negated literal, or one of the
/// `f64` constants that are not finite (reported by the caller).
fn bucket_value(expr: &Expr, errors: &mut Errors) -> Option<f64> {
    let parsed = match expr {
        Expr::Lit(ExprLit { lit, .. }) => literal_value(lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            Expr::Lit(ExprLit { lit, .. }) => literal_value(lit).map(|v| -v),
            _ => None,
        },
        Expr::Path(path) => {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            match segments.last().map(String::as_str) {
                Some("INFINITY") => Some(f64::INFINITY),
                Some("NEG_INFINITY") => Some(f64::NEG_INFINITY),
                Some("NAN") => Some(f64::NAN),
                _ => None,
            }
        }
        _ => None,
    };
    if parsed.is_none() {
        errors.spanned(
            expr,
            "expected a number literal as a bucket upper bound, such as `0.5`",
        );
    }
    parsed
}

fn literal_value(lit: &Lit) -> Option<f64> {
    match lit {
        Lit::Float(f) => f.base10_parse::<f64>().ok(),
        Lit::Int(i) => i.base10_parse::<f64>().ok(),
        _ => None,
    }
}

fn generate(entries: &[Checked<'_>]) -> TokenStream {
    let items = entries.iter().map(generate_entry);
    let names = entries.iter().map(|c| &c.entry.name);
    let any_pub = entries
        .iter()
        .any(|c| matches!(c.entry.vis, Visibility::Public(_)));
    let register_vis = if any_pub {
        quote!(pub)
    } else {
        quote!(pub(crate))
    };
    let unused = entries.is_empty().then(|| quote!(let _ = registry;));

    quote! {
        #(#items)*

        /// Makes every metric of this catalog present in `registry`: its `# HELP` and
        /// `# TYPE` lines, and every label combination at zero. Call it once at start-up,
        /// usually with `tachometer::global()`.
        #register_vis fn register(registry: &::tachometer::Registry) {
            #unused
            #(::tachometer::__private::register::<#names>(registry);)*
        }
    }
}

fn generate_entry(checked: &Checked<'_>) -> TokenStream {
    let entry = checked.entry;
    let name = &entry.name;
    let name_str = name.unraw().to_string();
    let docs = &entry.docs;
    let vis = match &entry.vis {
        Visibility::Inherited => quote!(pub(crate)),
        vis => quote!(#vis),
    };
    let help = &checked.help;
    let private = quote!(::tachometer::__private);
    let (kind_variant, kind_trait) = match checked.kind {
        Kind::Counter => (quote!(Counter), quote!(CounterMetric)),
        Kind::Gauge => (quote!(Gauge), quote!(GaugeMetric)),
        Kind::Histogram => (quote!(Histogram), quote!(HistogramMetric)),
    };
    let buckets = match (checked.kind, &entry.buckets) {
        (Kind::Histogram, None) => quote!(#private::builtin::HTTP_DURATION_BUCKETS),
        _ => {
            let values = &checked.buckets;
            quote!(&[#(#values),*])
        }
    };

    let fields: Vec<Ident> = entry.labels.iter().map(LabelDecl::field).collect();
    let label_names: Vec<String> = entry.labels.iter().map(LabelDecl::name).collect();
    let mut literal_types = Vec::new();
    let types: Vec<TokenStream> = entry
        .labels
        .iter()
        .map(|label| match &label.ty {
            LabelType::Rust(ty) => ty.to_token_stream(),
            LabelType::Literals(values) => {
                let (ty, definition) = literal_type(&name_str, label, values, &vis);
                literal_types.push(definition);
                ty.to_token_stream()
            }
        })
        .collect();
    let field_docs = label_names
        .iter()
        .map(|n| format!(" The `{n}` label."))
        .collect::<Vec<_>>();
    let value_traits: Vec<TokenStream> = types
        .iter()
        .map(|ty| {
            let span = ty
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            quote_spanned!(span=> <#ty as ::tachometer::__private::LabelValue>)
        })
        .collect();
    let lens: Vec<TokenStream> = value_traits.iter().map(|t| quote!(#t::ALL.len())).collect();

    let index = fields
        .iter()
        .zip(&value_traits)
        .zip(&lens)
        .fold(None, |acc: Option<TokenStream>, ((field, value), len)| {
            let this = quote!(#value::index(self.#field));
            Some(match acc {
                None => this,
                Some(acc) => quote!((#acc) * #len + #this),
            })
        })
        .unwrap_or_else(|| quote!(0));

    let locals: Vec<Ident> = (0..fields.len())
        .map(|i| format_ident!("__tachometer_label_{}", i))
        .collect();
    let decode = locals
        .iter()
        .zip(&value_traits)
        .zip(&lens)
        .rev()
        .map(|((local, value), len)| {
            quote! {
                let #local = *#value::ALL.get(__tachometer_rest.checked_rem(#len)?)?;
                let __tachometer_rest = __tachometer_rest / #len;
            }
        });

    quote! {
        #(#literal_types)*

        #(#docs)*
        #[allow(non_camel_case_types, private_interfaces)]
        #vis struct #name {
            #(
                #[doc = #field_docs]
                #vis #fields: #types,
            )*
        }

        impl #private::Metric for #name {
            const DESCRIPTOR: &'static #private::Descriptor = &#private::Descriptor {
                name: #name_str,
                help: #help,
                kind: #private::MetricKind::#kind_variant,
                labels: &[#(#label_names),*],
                buckets: #buckets,
            };

            const SERIES: usize = 1 #(* #lens)*;

            fn index(&self) -> usize {
                #index
            }

            fn from_index(index: usize) -> #private::core::option::Option<Self> {
                let __tachometer_rest = index;
                #(#decode)*
                (__tachometer_rest == 0).then_some(Self { #(#fields: #locals),* })
            }

            fn with_label_values<__TachometerR, __TachometerF>(
                &self,
                f: __TachometerF,
            ) -> __TachometerR
            where
                __TachometerF: #private::core::ops::FnOnce(&[&'static str]) -> __TachometerR,
            {
                f(&[#(#value_traits::as_str(self.#fields)),*])
            }
        }

        impl #private::#kind_trait for #name {}
    }
}

/// The hidden enum behind a label declared as string literals, and its definition.
fn literal_type(
    metric: &str,
    label: &LabelDecl,
    values: &[LitStr],
    vis: &TokenStream,
) -> (Ident, TokenStream) {
    let ident = format_ident!("__TachometerLabel_{}_{}", metric, label.name());
    let variants: Vec<Variant> = values
        .iter()
        .enumerate()
        .map(|(i, value)| Variant {
            ident: format_ident!("V{}", i, span = value.span()),
            label: value.value(),
        })
        .collect();
    let idents = variants.iter().map(|v| &v.ident);
    let doc = format!(" The values of label `{}` of `{metric}`.", label.name());
    let impls = label_value::generate(&ident, &variants);
    let definition = quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq, ::core::cmp::Eq)]
        #vis enum #ident {
            #(#[doc(hidden)] #idents,)*
        }

        #impls
    };
    (ident, definition)
}
