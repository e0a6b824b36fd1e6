use proc_macro2::TokenStream;

pub(crate) fn expand_attribute(args: TokenStream, _item: TokenStream) -> TokenStream {
    syn::Error::new_spanned(args, "not available yet").into_compile_error()
}

pub(crate) fn expand_statement(input: TokenStream) -> syn::Result<TokenStream> {
    Err(syn::Error::new_spanned(input, "not available yet"))
}
