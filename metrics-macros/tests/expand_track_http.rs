//! Expansion snapshots of `#[track_http]`: what a handler turns into, formatted.

#[path = "../src/track_http.rs"]
#[allow(dead_code, unreachable_pub)]
mod track_http;

use proc_macro2::TokenStream;
use quote::quote;

fn expand(args: TokenStream, item: TokenStream) -> String {
    let tokens = track_http::expand(args, item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

#[test]
fn async_handler_with_an_extractor() {
    insta::assert_snapshot!(expand(
        quote!(GET, "/users/{id}"),
        quote! {
            /// One user.
            pub async fn user(Path(id): Path<u32>) -> String {
                format!("user {id}")
            }
        },
    ));
}

#[test]
fn handler_returning_impl_into_response() {
    insta::assert_snapshot!(expand(
        quote!(POST, "/sessions"),
        quote! {
            async fn create(body: String) -> impl IntoResponse {
                if body.is_empty() {
                    return (StatusCode::BAD_REQUEST, "empty");
                }
                (StatusCode::CREATED, "created")
            }
        },
    ));
}

#[test]
fn method_handler_with_a_self_receiver() {
    insta::assert_snapshot!(expand(
        quote!(GET, "/health"),
        quote! {
            async fn health(&self) -> &'static str {
                self.state()
            }
        },
    ));
}

#[test]
fn generic_handler() {
    insta::assert_snapshot!(expand(
        quote!(PUT, "/items/{id}"),
        quote! {
            async fn put<S>(State(store): State<S>, body: String) -> StatusCode
            where
                S: Store + Clone + Send + Sync + 'static,
            {
                store.put(body).await;
                StatusCode::NO_CONTENT
            }
        },
    ));
}

#[test]
fn handler_returning_a_result_with_question_mark() {
    insta::assert_snapshot!(expand(
        quote!(DELETE, "/items/{id}"),
        quote! {
            async fn delete(Path(id): Path<String>) -> Result<impl IntoResponse, AppError> {
                #![allow(clippy::needless_return)]
                let id: u64 = id.parse()?;
                Ok(format!("deleted {id}"))
            }
        },
    ));
}

#[test]
fn handler_without_a_return_type() {
    insta::assert_snapshot!(expand(
        quote!(HEAD, "/"),
        quote!(
            async fn root() {}
        )
    ));
}

#[test]
fn errors_are_reported_together_and_the_item_is_kept() {
    let tokens = track_http::expand(
        quote!(get, "users"),
        quote!(
            fn handler() {}
        ),
    );
    insta::assert_snapshot!(tokens.to_string());
}
