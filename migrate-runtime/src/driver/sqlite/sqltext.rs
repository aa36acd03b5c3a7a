//! Just enough of SQL's lexical structure to read SQLite's stored `CREATE` statements:
//! tokens with their byte ranges, matching parentheses, and the normalized text of an
//! expression. SQLite keeps the SQL as written, so this is where its constraint names,
//! CHECK expressions, generated-column expressions, index expressions and view queries
//! come from; the column, index and foreign-key facts come from its pragmas. The
//! tokens are `migrate_core::lex`'s, read as SQLite reads them.

use migrate_core::lex::{tokens, Syntax, TokenKind};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword, identifier or number.
    Word,
    /// A quoted identifier: `"x"`, `` `x` `` or `[x]`.
    Quoted,
    /// A string literal.
    Str,
    /// One punctuation character.
    Punct(u8),
}

/// A token and where it is in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Splits `sql` into tokens, dropping blanks and comments.
pub(crate) fn lex(sql: &str) -> Vec<Tok> {
    tokens(sql, Syntax::SQLITE)
        .filter_map(|t| {
            let kind = match t.kind {
                // SQLite reads MySQL's conditional comments as comments: `Syntax::SQLITE`
                // never yields a `Conditional`.
                TokenKind::Blank
                | TokenKind::LineComment
                | TokenKind::BlockComment
                | TokenKind::Conditional => return None,
                TokenKind::Word => Kind::Word,
                TokenKind::Quoted => Kind::Quoted,
                // SQLite has no dollar quotes: `Syntax::SQLITE` never yields one.
                TokenKind::Str | TokenKind::DollarStr => Kind::Str,
                TokenKind::Punct => Kind::Punct(*t.text.as_bytes().first()?),
            };
            Some(Tok {
                kind,
                start: t.start,
                end: t.end(),
            })
        })
        .collect()
}

impl Tok {
    /// The token's text.
    pub(crate) fn text<'s>(&self, sql: &'s str) -> &'s str {
        sql.get(self.start..self.end).unwrap_or("")
    }

    /// Whether the token is the word `w` (any case).
    pub(crate) fn is_word(&self, sql: &str, w: &str) -> bool {
        self.kind == Kind::Word && self.text(sql).eq_ignore_ascii_case(w)
    }

    /// Whether the token is the punctuation `c`.
    pub(crate) fn is(&self, c: u8) -> bool {
        self.kind == Kind::Punct(c)
    }

    /// The identifier the token names, quotes removed; `None` for punctuation.
    pub(crate) fn ident(&self, sql: &str) -> Option<String> {
        let t = self.text(sql);
        match self.kind {
            Kind::Word => Some(t.to_string()),
            Kind::Quoted | Kind::Str if t.len() >= 2 => {
                let q = &t[..1];
                let inner = &t[1..t.len() - 1];
                Some(match q {
                    "[" => inner.to_string(),
                    _ => inner.replace(&q.repeat(2), q),
                })
            }
            _ => None,
        }
    }
}

/// The index of the `)` that closes the `(` at `open`, or the last token.
pub(crate) fn closing(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.is(b'(') {
            depth += 1;
        } else if t.is(b')') {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    toks.len().saturating_sub(1)
}

/// Splits `toks` at the commas outside parentheses.
pub(crate) fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.is(b'(') {
            depth += 1;
        } else if t.is(b')') {
            depth -= 1;
        } else if t.is(b',') && depth == 0 {
            out.push(&toks[start..i]);
            start = i + 1;
        }
    }
    if start < toks.len() {
        out.push(&toks[start..]);
    }
    out
}

/// Operators of more than one character, kept whole.
const OPERATORS: &[&str] = &["->>", "<=", ">=", "<>", "!=", "==", "||", "<<", ">>", "->"];

/// Characters that make operators.
fn is_operator_char(c: u8) -> bool {
    matches!(
        c,
        b'<' | b'>' | b'=' | b'!' | b'|' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'~' | b'^'
    )
}

/// What a piece of normalized text is, for spacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Open,
    Close,
    Comma,
    /// A binary operator: one space on each side.
    Binary,
    /// A sign or `~` before an operand: no space after.
    Unary,
    /// Words, literals, and other punctuation (`.`): spaced as written.
    Other,
}

/// The text of `toks` normalized so that spellings of one expression compare equal, and
/// still valid SQL: comments dropped; words lower-cased, quoted text kept as written;
/// no space after `(` or before `)` and `,`, one after `,`; one space around binary
/// operators (`n>=0` is `n >= 0`), none after a sign (`-1`); elsewhere one space where
/// the text had blanks.
pub(crate) fn normalize(sql: &str, toks: &[Tok]) -> String {
    let mut out = String::new();
    let mut prev: Option<(Piece, usize)> = None;
    let mut k = 0;
    while k < toks.len() {
        let t = &toks[k];
        let (piece, text, end) = match t.kind {
            Kind::Punct(b'(') => (Piece::Open, "(".to_string(), t.end),
            Kind::Punct(b')') => (Piece::Close, ")".to_string(), t.end),
            Kind::Punct(b',') => (Piece::Comma, ",".to_string(), t.end),
            Kind::Punct(c) if is_operator_char(c) => {
                // The longest operator of adjacent characters.
                let mut op = (c as char).to_string();
                let mut last = k;
                for candidate in OPERATORS {
                    let n = candidate.len();
                    let run = toks.get(k..k + n);
                    let adjacent = run.is_some_and(|r| {
                        r.windows(2).all(|w| w[0].end == w[1].start)
                            && r.iter().map(|x| x.text(sql)).collect::<String>() == *candidate
                    });
                    if adjacent && n > op.len() {
                        op = (*candidate).to_string();
                        last = k + n - 1;
                    }
                }
                let operand_before = matches!(prev, Some((Piece::Other | Piece::Close, _)));
                let unary = !operand_before && matches!(op.as_str(), "-" | "+" | "~");
                k = last;
                (
                    if unary { Piece::Unary } else { Piece::Binary },
                    op,
                    toks[last].end,
                )
            }
            Kind::Word => (Piece::Other, t.text(sql).to_ascii_lowercase(), t.end),
            _ => (Piece::Other, t.text(sql).to_string(), t.end),
        };
        if let Some((p, prev_end)) = prev {
            let space = match (p, piece) {
                (_, Piece::Close | Piece::Comma) | (Piece::Open | Piece::Unary, _) => false,
                (Piece::Comma | Piece::Binary, _) | (_, Piece::Binary | Piece::Unary) => true,
                _ => prev_end < t.start,
            };
            if space {
                out.push(' ');
            }
        }
        out.push_str(&text);
        prev = Some((piece, end));
        k += 1;
    }
    out
}

/// [`normalize`] of a whole text.
pub(crate) fn normalize_text(sql: &str) -> String {
    normalize(sql, &lex(sql))
}

/// `toks` without parentheses around the whole of it: `((a > 0))` is `a > 0`, as the
/// servers print it (`(a) + (b)` keeps its parentheses).
pub(crate) fn without_outer_parens(mut toks: &[Tok]) -> &[Tok] {
    while toks.len() >= 2
        && toks[0].is(b'(')
        && toks[toks.len() - 1].is(b')')
        && closing(toks, 0) == toks.len() - 1
    {
        toks = &toks[1..toks.len() - 1];
    }
    toks
}

/// [`normalize`] of an expression's text, without its outer parentheses.
pub(crate) fn normalize_expression(sql: &str, toks: &[Tok]) -> String {
    normalize(sql, without_outer_parens(toks))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lexer as it was before it read `migrate_core::lex`: the oracle the new one
    /// must agree with.
    mod before_lexer {
        use super::super::{Kind, Tok};

        pub(super) fn lex(sql: &str) -> Vec<Tok> {
            let b = sql.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                let c = b[i];
                let start = i;
                let kind = match c {
                    c if c.is_ascii_whitespace() => {
                        i += 1;
                        continue;
                    }
                    b'-' if b.get(i + 1) == Some(&b'-') => {
                        i = b[i..]
                            .iter()
                            .position(|&x| x == b'\n')
                            .map_or(b.len(), |p| i + p);
                        continue;
                    }
                    b'/' if b.get(i + 1) == Some(&b'*') => {
                        i = b[i + 2..]
                            .windows(2)
                            .position(|w| w == b"*/")
                            .map_or(b.len(), |p| i + 2 + p + 2);
                        continue;
                    }
                    b'\'' | b'"' | b'`' | b'[' => {
                        let close = if c == b'[' { b']' } else { c };
                        i += 1;
                        while i < b.len() {
                            if b[i] == close {
                                if close != b']' && b.get(i + 1) == Some(&close) {
                                    i += 2;
                                    continue;
                                }
                                break;
                            }
                            i += 1;
                        }
                        i = (i + 1).min(b.len());
                        if c == b'\'' {
                            Kind::Str
                        } else {
                            Kind::Quoted
                        }
                    }
                    c if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                        while i < b.len()
                            && (b[i].is_ascii_alphanumeric()
                                || matches!(b[i], b'_' | b'$')
                                || b[i] >= 0x80)
                        {
                            i += 1;
                        }
                        Kind::Word
                    }
                    _ => {
                        i += 1;
                        Kind::Punct(c)
                    }
                };
                out.push(Tok {
                    kind,
                    start,
                    end: i,
                });
            }
            out
        }
    }

    #[test]
    fn lexing_agrees_with_the_lexer_before_migrate_core_lex() {
        const FRAGMENTS: &[&str] = &[
            "CREATE",
            "TABLE",
            "x",
            "a_1",
            "1",
            "1.5e3",
            "a$b",
            "$c",
            "$$",
            "$q$",
            "é",
            "ü_1",
            "'",
            "\"",
            "`",
            "[",
            "]",
            "'a,b'",
            "'it''s'",
            "'a\\'",
            "\"q\"\"t\"",
            "[a b]",
            "`c`",
            "--",
            "-- c",
            "/*",
            "*/",
            "/* x */",
            "/* a /* b */ c */",
            "(",
            ")",
            ",",
            ";",
            "-",
            "/",
            "*",
            "<",
            ">",
            "=",
            "|",
            "!",
            " ",
            "\n",
            "\t",
            "\u{b}",
            "\r\n",
        ];
        // splitmix64, so the cases are the same on every run.
        let mut seed = 0x5eed_u64;
        let mut next = || {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        for _ in 0..20_000 {
            let n = next() % 24;
            let sql: String = (0..n)
                .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
                .collect();
            assert_eq!(lex(&sql), before_lexer::lex(&sql), "{sql:?}");
        }
    }

    #[test]
    fn normalizes_spacing_case_and_comments() {
        assert_eq!(
            normalize_text("  Lower( Name )  >  'A  b' -- note\n AND \"X\"  IS  NOT NULL /* c */"),
            "lower(name) > 'A  b' and \"X\" is not null"
        );
        assert_eq!(normalize_text("CURRENT_TIMESTAMP"), "current_timestamp");
        assert_eq!(normalize_text("a+1"), "a + 1");
        assert_eq!(normalize_text("f(a , b)"), "f(a, b)");
        assert_eq!(normalize_text("f(a,b)"), "f(a, b)");
        assert_eq!(normalize_text("n>=0 AND n<>-1"), "n >= 0 and n <> -1");
        assert_eq!(normalize_text("-1.5"), "-1.5");
        assert_eq!(normalize_text("a*-b||'x'"), "a * -b || 'x'");
        assert_eq!(normalize_text("count(*)"), "count(*)");
        assert_eq!(normalize_text("t.a-(-1)"), "t.a - (-1)");
        assert_eq!(normalize_text("j->>'k'"), "j ->> 'k'");
        let outer = |t: &str| normalize_expression(t, &lex(t));
        assert_eq!(outer("((a > 0))"), "a > 0");
        assert_eq!(outer("(a) + (b)"), "(a) + (b)");
        assert_eq!(outer("(0)"), "0");
    }

    #[test]
    fn idents_and_parentheses() {
        let sql = "CREATE TABLE \"my \"\"t\"\"\" ([a b], `c`, d INT CHECK (d > (1)))";
        let toks = lex(sql);
        assert_eq!(toks[2].ident(sql).as_deref(), Some("my \"t\""));
        assert_eq!(toks[4].ident(sql).as_deref(), Some("a b"));
        let close = closing(&toks, 3);
        assert_eq!(close, toks.len() - 1);
        let items = split_commas(&toks[4..close]);
        assert_eq!(items.len(), 3);
        assert_eq!(normalize(sql, items[2]), "d int check (d > (1))");
    }
}
