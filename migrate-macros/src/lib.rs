//! `embed_migrations!`: compile-time validated migrations (implementation in progress).
use proc_macro::TokenStream;

/// Embeds the migrations of a versions folder.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let _ = input;
    "compile_error!(\"embed_migrations! is not built yet\")".parse().unwrap_or_default()
}

/// Short name of [`embed_migrations!`].
#[proc_macro]
pub fn migrations(input: TokenStream) -> TokenStream {
    embed_migrations(input)
}
