use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, _item: TokenStream) -> TokenStream {
    syn::Error::new_spanned(args, "not available yet").into_compile_error()
}
