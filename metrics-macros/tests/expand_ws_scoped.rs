//! Expansion snapshots of `#[ws_scoped]`: the injected field and the scope impl, formatted.

#[path = "../src/ws_scoped.rs"]
#[allow(dead_code, unreachable_pub)]
mod ws_scoped;

use proc_macro2::TokenStream;
use quote::quote;

fn expand(args: TokenStream, item: TokenStream) -> String {
    let tokens = ws_scoped::expand(args, item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

#[test]
fn struct_with_named_fields() {
    insta::assert_snapshot!(expand(
        quote!("session"),
        quote! {
            /// A client's session.
            #[derive(Debug, Clone)]
            pub struct Session {
                pub user: String,
                id: u64,
            }
        },
    ));
}

#[test]
fn tuple_struct() {
    insta::assert_snapshot!(expand(
        quote!("machine"),
        quote!(
            pub(crate) struct Machine(u64);
        ),
    ));
}

#[test]
fn generic_struct_with_a_where_clause() {
    insta::assert_snapshot!(expand(
        quote!("user"),
        quote! {
            struct UserConnection<'a, T>
            where
                T: Send + 'a,
            {
                sink: &'a mut T,
            }
        },
    ));
}

#[test]
fn custom_scope_and_field_name() {
    insta::assert_snapshot!(expand(
        quote!(custom = "device", field = connection),
        quote!(
            struct Device {
                serial: String,
            }
        ),
    ));
}

#[test]
fn unknown_scope_still_expands_the_struct() {
    let tokens = ws_scoped::expand(
        quote!("sesion"),
        quote!(
            struct Session {
                user: String,
            }
        ),
    );
    insta::assert_snapshot!(tokens.to_string());
}
