//! What a SQL text names: the words of a view, a check or an index expression.

use migrate_core::lex::{tokens, Syntax, TokenKind};
use std::collections::HashSet;

/// Lower-cased identifier-like words of a SQL text, quotes removed, string literals
/// and comments skipped: what a view or an expression may name.
pub(crate) fn words(sql: &str) -> HashSet<String> {
    tokens(sql, definitions())
        .filter_map(|t| match t.kind {
            TokenKind::Word => Some(t.text.to_lowercase()),
            TokenKind::Quoted => t
                .unquoted()
                .filter(|q| !q.is_empty())
                .map(|q| q.to_lowercase()),
            _ => None,
        })
        .collect()
}

/// How definitions read back from any of the databases are lexed: every quote and
/// comment, but a backslash in a string is itself (PostgreSQL and SQLite print it so),
/// and `$` is part of a word, as PostgreSQL prints neither views nor expressions with
/// dollar quotes.
fn definitions() -> Syntax {
    let mut syntax = Syntax::ANY;
    syntax.backslash_escapes = false;
    syntax.dollar_quotes = false;
    syntax
}

/// Whether `words` (from [`words`]) hold `name`, in any case.
pub(super) fn mentions(words: &HashSet<String>, name: &str) -> bool {
    words.contains(&name.to_lowercase())
}
