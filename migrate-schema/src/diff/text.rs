//! What a SQL text names: the words of a view, a check or an index expression.

use std::collections::HashSet;

/// Lower-cased identifier-like words of a SQL text, quotes removed, string literals
/// skipped: what a view or an expression may name.
pub(crate) fn words(sql: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut chars = sql.chars().peekable();
    let mut word = String::new();
    let flush = |w: &mut String, out: &mut HashSet<String>| {
        if !w.is_empty() {
            out.insert(std::mem::take(w).to_lowercase());
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                flush(&mut word, &mut out);
                // A string literal; `''` inside is two quotes in a row.
                while let Some(d) = chars.next() {
                    if d == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '"' | '`' | '[' => {
                flush(&mut word, &mut out);
                let close = if c == '[' { ']' } else { c };
                let mut quoted = String::new();
                for d in chars.by_ref() {
                    if d == close {
                        break;
                    }
                    quoted.push(d);
                }
                if !quoted.is_empty() {
                    out.insert(quoted.to_lowercase());
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => word.push(c),
            _ => flush(&mut word, &mut out),
        }
    }
    flush(&mut word, &mut out);
    out
}

pub(super) fn mentions(words: &HashSet<String>, name: &str) -> bool {
    words.contains(&name.to_lowercase())
}
