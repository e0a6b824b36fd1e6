//! `#[derive(LabelValue)]`: a fieldless enum as a closed set of label values.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, ExprLit, Ident, Lit, LitStr, Meta};

/// One variant and the label value it stands for.
pub(crate) struct Variant {
    pub(crate) ident: Ident,
    pub(crate) label: String,
}

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let variants = parse_variants(&input)?;
    Ok(generate(&input.ident, &variants))
}

fn parse_variants(input: &DeriveInput) -> syn::Result<Vec<Variant>> {
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(data) => return Err(not_an_enum(data.struct_token.span)),
        Data::Union(data) => return Err(not_an_enum(data.union_token.span)),
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "`LabelValue` cannot be derived for a generic enum: its values must be a closed set",
        ));
    }
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "an enum without variants has no label values: add at least one variant",
        ));
    }

    let mut errors: Option<syn::Error> = None;
    let mut push = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };
    let mut variants: Vec<Variant> = Vec::new();
    for variant in &data.variants {
        if !variant.fields.is_empty() {
            push(syn::Error::new_spanned(
                &variant.fields,
                "a label value variant cannot hold fields: remove them",
            ));
            continue;
        }
        let (label, span) = match label_override(&variant.attrs) {
            Ok(Some(lit)) => (lit.value(), lit.span()),
            Ok(None) => (snake_case(&variant.ident.to_string()), variant.ident.span()),
            Err(error) => {
                push(error);
                continue;
            }
        };
        if label.is_empty() {
            push(syn::Error::new(
                span,
                "an empty label value reads as no label at all in Prometheus: choose a non-empty value",
            ));
        } else if let Some(first) = variants.iter().find(|v| v.label == label) {
            push(syn::Error::new(
                span,
                format!(
                    "label value `{}` is already used by `{}`: give each variant its own value",
                    label.escape_debug(),
                    first.ident
                ),
            ));
        }
        variants.push(Variant {
            ident: variant.ident.clone(),
            label,
        });
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(variants),
    }
}

fn not_an_enum(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "`LabelValue` can only be derived for a fieldless enum",
    )
}

/// The string of a `#[label = "..."]` attribute, if the variant has one.
fn label_override(attrs: &[syn::Attribute]) -> syn::Result<Option<LitStr>> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        let Meta::NameValue(pair) = &attr.meta else {
            return Err(syn::Error::new_spanned(
                attr,
                "expected `#[label = \"value\"]`",
            ));
        };
        let Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) = &pair.value
        else {
            return Err(syn::Error::new_spanned(
                &pair.value,
                "expected a string literal: `#[label = \"value\"]`",
            ));
        };
        if found.is_some() {
            return Err(syn::Error::new(
                attr.span(),
                "a variant takes one `#[label]` attribute: remove the others",
            ));
        }
        found = Some(lit.clone());
    }
    Ok(found)
}

/// `SessionAlive` -> `session_alive`, `HTTPError` -> `http_error`, `V2Ping` -> `v2_ping`.
pub(crate) fn snake_case(ident: &str) -> String {
    let ident = ident.strip_prefix("r#").unwrap_or(ident);
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let after_lower = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            let ends_acronym =
                prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase());
            if (after_lower || ends_acronym) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn generate(name: &Ident, variants: &[Variant]) -> TokenStream {
    let idents: Vec<&Ident> = variants.iter().map(|v| &v.ident).collect();
    let labels: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
    let indices = 0..variants.len();
    let has = |label: &str| labels.contains(&label);

    let result_impl = (has("ok") && has("error")).then(|| {
        let ok = &variants[labels.iter().position(|l| *l == "ok").unwrap_or(0)].ident;
        let error = &variants[labels.iter().position(|l| *l == "error").unwrap_or(0)].ident;
        quote! {
            impl<__TachometerT, __TachometerE>
                ::tachometer::__private::FromOutcome<
                    ::core::result::Result<__TachometerT, __TachometerE>,
                > for #name
            {
                fn from_outcome(
                    returned: &::core::result::Result<__TachometerT, __TachometerE>,
                ) -> Self {
                    match returned {
                        ::core::result::Result::Ok(_) => #name::#ok,
                        ::core::result::Result::Err(_) => #name::#error,
                    }
                }
            }
        }
    });
    let option_impl = (has("hit") && has("miss")).then(|| {
        let hit = &variants[labels.iter().position(|l| *l == "hit").unwrap_or(0)].ident;
        let miss = &variants[labels.iter().position(|l| *l == "miss").unwrap_or(0)].ident;
        quote! {
            impl<__TachometerT>
                ::tachometer::__private::FromOutcome<::core::option::Option<__TachometerT>>
                for #name
            {
                fn from_outcome(returned: &::core::option::Option<__TachometerT>) -> Self {
                    match returned {
                        ::core::option::Option::Some(_) => #name::#hit,
                        ::core::option::Option::None => #name::#miss,
                    }
                }
            }
        }
    });

    quote! {
        impl ::tachometer::__private::LabelValue for #name {
            const ALL: &'static [Self] = &[#(#name::#idents),*];

            fn as_str(self) -> &'static str {
                match self {
                    #(#name::#idents => #labels,)*
                }
            }

            fn index(self) -> usize {
                match self {
                    #(#name::#idents => #indices,)*
                }
            }

            fn from_label(label: &str) -> ::core::option::Option<Self> {
                match label {
                    #(#labels => ::core::option::Option::Some(#name::#idents),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl ::tachometer::__private::LabelLiterals for #name {
            const LABELS: &'static [&'static str] = &[#(#labels),*];
        }

        #result_impl
        #option_impl
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn variant_names_become_snake_case() {
        assert_eq!(snake_case("SessionAlive"), "session_alive");
        assert_eq!(snake_case("Ping"), "ping");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("V2Ping"), "v2_ping");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
    }
}
