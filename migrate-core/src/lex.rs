//! One lexer for SQL text. The statement splitter, SQLite's schema reader, the declared
//! schema's loader and view dependencies read SQL through it, so they agree on where a
//! quote, a comment or a word starts and ends; the few forms the databases disagree on
//! are a [`Syntax`] each reader chooses.
//!
//! ```
//! use migrate_core::lex::{tokens, Syntax, TokenKind};
//!
//! let sql = "SELECT 'a;b' -- note\nFROM \"T\";";
//! let words: Vec<&str> = tokens(sql, Syntax::ANY)
//!     .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::Quoted))
//!     .map(|t| t.text)
//!     .collect();
//! assert_eq!(words, ["SELECT", "FROM", "\"T\""]);
//! let semicolon = tokens(sql, Syntax::ANY).find(|t| t.is_punct(b';')).unwrap();
//! assert_eq!((semicolon.start, semicolon.line), (29, 2));
//! ```

use std::borrow::Cow;

/// The lexical forms a reader recognizes, where the databases differ. Start from a
/// preset and change its fields: more forms may come (MySQL's `#` comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Syntax {
    /// `[x]` quotes an identifier (SQLite's form); otherwise `[` is punctuation, as in
    /// PostgreSQL's array subscripts.
    pub brackets: bool,
    /// A backslash escapes the next character in a `'…'` string (MySQL's default).
    pub backslash_escapes: bool,
    /// `/* /* */ */` is one comment (PostgreSQL); otherwise a comment ends at the first
    /// `*/` (MySQL, SQLite).
    pub nested_comments: bool,
    /// `$tag$…$tag$` is a string (PostgreSQL's dollar quoting).
    pub dollar_quotes: bool,
    /// Words are ASCII: `[A-Za-z_][A-Za-z0-9_]*`, and a digit, `$` or non-ASCII character
    /// outside one is a [`TokenKind::Punct`] of its own. Otherwise a word is a run of ASCII
    /// letters, digits, `_`, `$` and non-ASCII characters (the databases' unquoted
    /// identifiers, and numbers), starting with `$` only where dollar quotes are off.
    pub ascii_words: bool,
    /// MySQL's conditional comments, `/*!50003 … */` and MariaDB's `/*M!100101 … */`,
    /// are code: the server runs what is inside (when its version is at least the
    /// number), so their opener and closer are each a [`TokenKind::Conditional`] and
    /// what is between them is read as SQL. Otherwise they are block comments, as
    /// PostgreSQL and SQLite read them.
    pub conditional_comments: bool,
}

impl Syntax {
    /// Text that may be for any of the databases: every form of quote and comment.
    pub const ANY: Syntax = Syntax {
        brackets: true,
        backslash_escapes: true,
        nested_comments: true,
        dollar_quotes: true,
        ascii_words: false,
        conditional_comments: false,
    };

    /// What the statement splitter reads ([`split_statements`](crate::sql::split_statements)):
    /// [`Syntax::ANY`] but with `[` as punctuation, since it subscripts PostgreSQL's
    /// arrays, ASCII words, since the keywords it looks for are ASCII, and MySQL's
    /// conditional comments read as code, since a dump hides whole statements in them
    /// (a comment starting `/*!` elsewhere is rare enough to be read so too).
    pub const STATEMENTS: Syntax = Syntax {
        brackets: false,
        ascii_words: true,
        conditional_comments: true,
        ..Syntax::ANY
    };

    /// MySQL's and MariaDB's text, as their client reads it: backslash escapes,
    /// comments that do not nest, conditional comments as code, no dollar quotes (`$$`
    /// is a common `DELIMITER`), no brackets.
    pub const MYSQL: Syntax = Syntax {
        brackets: false,
        backslash_escapes: true,
        nested_comments: false,
        dollar_quotes: false,
        ascii_words: true,
        conditional_comments: true,
    };

    /// SQLite's own text (the `CREATE` statements it stores): `[x]` identifiers, no
    /// backslash escapes, no dollar quotes, comments that do not nest.
    pub const SQLITE: Syntax = Syntax {
        brackets: true,
        backslash_escapes: false,
        nested_comments: false,
        dollar_quotes: false,
        ascii_words: false,
        conditional_comments: false,
    };
}

/// What a [`Token`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A run of ASCII whitespace, newlines included.
    Blank,
    /// A `--` comment, up to its newline (not included).
    LineComment,
    /// A `/* … */` comment.
    BlockComment,
    /// A keyword, an unquoted identifier or a number.
    Word,
    /// A quoted identifier: `"x"`, `` `x` ``, or `[x]` where [`Syntax::brackets`].
    Quoted,
    /// A string literal `'…'`.
    Str,
    /// A dollar-quoted string `$tag$…$tag$`.
    DollarStr,
    /// One character that starts none of the above: punctuation or an operator's.
    Punct,
    /// Where [`Syntax::conditional_comments`]: the opener of a conditional comment
    /// (`/*!`, `/*!50003`, `/*M!100101`) or the `*/` that closes it.
    Conditional,
}

/// A token of SQL text: its kind, its text and where it starts.
///
/// The tokens of a text, joined, are the text: blanks and comments are tokens too
/// ([`Token::is_trivia`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind,
    /// Its text, quotes and comment markers included.
    pub text: &'a str,
    /// The byte offset of its first character in the text.
    pub start: usize,
    /// The 1-based line it starts on.
    pub line: usize,
    /// Whether a quote, dollar quote or block comment closes; `false` when it runs to
    /// the text's end unclosed. Always `true` for other tokens.
    pub closed: bool,
}

impl<'a> Token<'a> {
    /// The byte offset just after the token.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Whether the token is a blank or a comment, which separates tokens and means
    /// nothing else.
    pub fn is_trivia(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::Blank | TokenKind::LineComment | TokenKind::BlockComment
        )
    }

    /// Whether the token is the word `w`, in any case.
    pub fn is_word(&self, w: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(w)
    }

    /// Whether the token is the punctuation character `c`.
    pub fn is_punct(&self, c: u8) -> bool {
        self.kind == TokenKind::Punct && self.text.as_bytes() == [c]
    }

    /// The text of a quoted identifier or string literal between its quotes, a doubled
    /// quote read as one (backslash escapes are left as written); for a quote that
    /// never closes, everything after the opening quote. `None` for other tokens.
    pub fn unquoted(&self) -> Option<Cow<'a, str>> {
        if !matches!(self.kind, TokenKind::Quoted | TokenKind::Str) {
            return None;
        }
        let open = *self.text.as_bytes().first()?;
        let inner = if self.closed {
            self.text.get(1..self.text.len() - 1)?
        } else {
            self.text.get(1..)?
        };
        // A `]` inside `[…]` closes it, so only the other quotes can be doubled.
        if open == b'[' {
            return Some(Cow::Borrowed(inner));
        }
        let quote = char::from(open).to_string();
        let doubled = quote.repeat(2);
        Some(if inner.contains(&doubled) {
            Cow::Owned(inner.replace(&doubled, &quote))
        } else {
            Cow::Borrowed(inner)
        })
    }
}

/// The tokens of `sql` read with `syntax`, in order, from line 1.
pub fn tokens(sql: &str, syntax: Syntax) -> Tokens<'_> {
    Tokens {
        sql,
        syntax,
        pos: 0,
        line: 1,
        conditional: false,
    }
}

/// The iterator of [`tokens`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    sql: &'a str,
    syntax: Syntax,
    pos: usize,
    line: usize,
    /// Whether a conditional comment is open, so that `*/` closes it.
    conditional: bool,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    #[inline]
    fn next(&mut self) -> Option<Token<'a>> {
        let start = self.pos;
        let c = *self.sql.as_bytes().get(start)?;
        let (kind, end, closed) = self.read(c, start);
        let text = self.sql.get(start..end)?;
        let token = Token {
            kind,
            text,
            start,
            line: self.line,
            closed,
        };
        if matches!(
            kind,
            TokenKind::Blank
                | TokenKind::BlockComment
                | TokenKind::Quoted
                | TokenKind::Str
                | TokenKind::DollarStr
        ) {
            // Most blanks are one space: count without a loop.
            self.line += match text.as_bytes() {
                [c] => usize::from(*c == b'\n'),
                bytes => newlines(bytes),
            };
        }
        if kind == TokenKind::Conditional {
            self.conditional = text.starts_with("/*");
        }
        self.pos = end;
        Some(token)
    }
}

impl Tokens<'_> {
    /// The kind, end and closedness of the token starting with `c` at `at`.
    #[inline]
    fn read(&self, c: u8, at: usize) -> (TokenKind, usize, bool) {
        let b = self.sql.as_bytes();
        let syntax = self.syntax;
        let next = b.get(at + 1).copied();
        match c {
            c if c.is_ascii_whitespace() => (TokenKind::Blank, run_end(b, at, is_blank), true),
            b'*' if self.conditional && next == Some(b'/') => {
                (TokenKind::Conditional, at + 2, true)
            }
            b'/' if syntax.conditional_comments && next == Some(b'*') => {
                match conditional_open_end(b, at) {
                    Some(end) => (TokenKind::Conditional, end, true),
                    None => {
                        let close = block_comment_close(b, at, syntax.nested_comments);
                        (
                            TokenKind::BlockComment,
                            close.unwrap_or(b.len()),
                            close.is_some(),
                        )
                    }
                }
            }
            b'-' if next == Some(b'-') => (TokenKind::LineComment, line_comment_end(b, at), true),
            b'/' if next == Some(b'*') => {
                let close = block_comment_close(b, at, syntax.nested_comments);
                (
                    TokenKind::BlockComment,
                    close.unwrap_or(b.len()),
                    close.is_some(),
                )
            }
            b'\'' | b'"' | b'`' => quoted(b, at, syntax.backslash_escapes),
            b'[' if syntax.brackets => quoted(b, at, false),
            b'$' if syntax.dollar_quotes => match dollar_quote(b, at) {
                Some(Some(end)) => (TokenKind::DollarStr, end, true),
                Some(None) => (TokenKind::DollarStr, b.len(), false),
                None => (TokenKind::Punct, at + 1, true),
            },
            c if syntax.ascii_words && (c.is_ascii_alphabetic() || c == b'_') => {
                (TokenKind::Word, run_end(b, at, is_ascii_word), true)
            }
            c if !syntax.ascii_words && is_word_byte(c) => {
                (TokenKind::Word, run_end(b, at, is_word_byte), true)
            }
            c if c.is_ascii() => (TokenKind::Punct, at + 1, true),
            _ => {
                // One character, whole: with ASCII words a non-ASCII one stands alone.
                let len = self.sql[at..].chars().next().map_or(1, char::len_utf8);
                (TokenKind::Punct, at + len, true)
            }
        }
    }
}

/// The index after the opener of a conditional comment at `open` (`/*!`, `/*M!`, and
/// the version number after either), or `None` when the comment there is a plain one.
fn conditional_open_end(b: &[u8], open: usize) -> Option<usize> {
    let bang = match (b.get(open + 2), b.get(open + 3)) {
        (Some(b'!'), _) => open + 2,
        (Some(b'M'), Some(b'!')) => open + 3,
        _ => return None,
    };
    Some(run_end(b, bang + 1, |c| c.is_ascii_digit()))
}

/// A quoted token opening at `open`: `'…'` is a string, the others identifiers.
fn quoted(b: &[u8], open: usize, backslash_escapes: bool) -> (TokenKind, usize, bool) {
    let kind = if b[open] == b'\'' {
        TokenKind::Str
    } else {
        TokenKind::Quoted
    };
    match quote_close(b, open, backslash_escapes) {
        Some(close) => (kind, close + 1, true),
        None => (kind, b.len(), false),
    }
}

fn is_blank(c: u8) -> bool {
    c.is_ascii_whitespace()
}

fn is_ascii_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The index after the run of bytes from `at` that `part` accepts.
fn run_end(b: &[u8], at: usize, part: impl Fn(u8) -> bool) -> usize {
    b[at..]
        .iter()
        .position(|&c| !part(c))
        .map_or(b.len(), |p| at + p)
}

// The pieces of lexing, each given the text's bytes and the index where the construct
// opens.

/// The index of the quote that closes the quoted text opening at `open` (`'…'`,
/// `"…"`, `` `…` `` or `[…]`), or `None` when it never closes. A doubled quote stands
/// for itself (except in `[…]`); with `backslash_escapes`, a backslash escapes the next
/// byte in `'…'`.
fn quote_close(sql: &[u8], open: usize, backslash_escapes: bool) -> Option<usize> {
    let &c = sql.get(open)?;
    let close = if c == b'[' { b']' } else { c };
    let backslash = backslash_escapes && c == b'\'';
    let mut j = open + 1;
    loop {
        // The next byte that may end the text or escape one: most of it is neither.
        j += sql
            .get(j..)?
            .iter()
            .position(|&x| x == close || (backslash && x == b'\\'))?;
        if sql[j] == close {
            if close != b']' && sql.get(j + 1) == Some(&close) {
                j += 2;
                continue;
            }
            return Some(j);
        }
        j += 2;
    }
}

#[cfg(test)]
/// Where the quoted text opening at `open` (`'…'`, `"…"`, `` `…` ``, or `[…]`) closes:
/// the index of its closing quote, or the text's length when it never closes. A doubled
/// quote stands for itself (except in `[…]`), and a backslash escapes the next byte in
/// `'…'` (MySQL's escapes; harmless elsewhere for finding the end).
pub(crate) fn quote_end(sql: &[u8], open: usize) -> usize {
    quote_close(sql, open, true).unwrap_or(sql.len())
}

/// The PostgreSQL dollar-quoted text opening at `open` (`$$…$$`, `$tag$…$tag$`): the
/// index after its closing tag, or `None` inside when it never closes; `None` when no
/// dollar quote opens there (a `$1` parameter, a lone `$`).
fn dollar_quote(sql: &[u8], open: usize) -> Option<Option<usize>> {
    let tag_end = sql
        .get(open + 1..)?
        .iter()
        .position(|&x| !(x.is_ascii_alphanumeric() || x == b'_'))
        .map(|p| open + 1 + p)?;
    if sql[tag_end] != b'$'
        || sql[open + 1..tag_end]
            .first()
            .is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    let tag = &sql[open..=tag_end];
    let body = tag_end + 1;
    Some(
        sql[body..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map(|p| body + p + tag.len()),
    )
}

#[cfg(test)]
/// Where the PostgreSQL dollar-quoted text opening at `open` (`$$…$$`, `$tag$…$tag$`)
/// ends: the index after its closing tag, or the text's length when it never closes;
/// `None` when no dollar quote opens there (a `$1` parameter, a lone `$`).
pub(crate) fn dollar_quote_end(sql: &[u8], open: usize) -> Option<usize> {
    dollar_quote(sql, open).map(|end| end.unwrap_or(sql.len()))
}

/// Where the `--` comment opening at `open` ends: the index of its newline, or the
/// text's length.
pub(crate) fn line_comment_end(sql: &[u8], open: usize) -> usize {
    sql.get(open..)
        .and_then(|rest| rest.iter().position(|&x| x == b'\n'))
        .map_or(sql.len(), |p| open + p)
}

/// The index after the `*/` that closes the `/* … */` comment opening at `open`, or
/// `None` when it never closes; with `nested`, a `/*` inside opens a comment of its own.
fn block_comment_close(sql: &[u8], open: usize, nested: bool) -> Option<usize> {
    let mut nesting = 1;
    let mut j = open + 2;
    while j < sql.len() {
        match (sql[j], sql.get(j + 1)) {
            (b'*', Some(b'/')) => {
                nesting -= 1;
                j += 2;
                if nesting == 0 {
                    return Some(j);
                }
            }
            (b'/', Some(b'*')) if nested => {
                nesting += 1;
                j += 2;
            }
            _ => j += 1,
        }
    }
    None
}

#[cfg(test)]
/// Where the `/* … */` comment opening at `open` ends (nested comments included): the
/// index after its `*/`, or the text's length when it never closes.
pub(crate) fn block_comment_end(sql: &[u8], open: usize) -> usize {
    // PostgreSQL nests block comments; elsewhere a `/*` inside a comment is plain
    // text, which only matters for text those databases reject.
    block_comment_close(sql, open, true).unwrap_or(sql.len())
}

/// The number of newlines in `bytes`.
pub(crate) fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&c| c == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds(sql: &str, syntax: Syntax) -> Vec<(TokenKind, &str)> {
        tokens(sql, syntax).map(|t| (t.kind, t.text)).collect()
    }

    fn solid(sql: &str, syntax: Syntax) -> Vec<(TokenKind, &str)> {
        tokens(sql, syntax)
            .filter(|t| !t.is_trivia())
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn tokens_join_into_the_text_with_lines() {
        let sql = "SELECT 'a\nb' AS \"x\" -- c\n/* d\n*/ FROM t;";
        let toks: Vec<Token> = tokens(sql, Syntax::ANY).collect();
        assert_eq!(toks.iter().map(|t| t.text).collect::<String>(), sql);
        for t in &toks {
            assert_eq!(&sql[t.start..t.end()], t.text);
            assert_eq!(t.line, newlines(&sql.as_bytes()[..t.start]) + 1);
        }
        assert_eq!(
            solid(sql, Syntax::ANY),
            [
                (Word, "SELECT"),
                (Str, "'a\nb'"),
                (Word, "AS"),
                (Quoted, "\"x\""),
                (Word, "FROM"),
                (Word, "t"),
                (Punct, ";")
            ]
        );
        let from = toks.iter().find(|t| t.is_word("from")).unwrap();
        assert_eq!(from.line, 4);
    }

    #[test]
    fn quotes_close_as_the_syntax_says() {
        assert_eq!(
            solid(r"'a\'b' 'it''s'", Syntax::ANY),
            [(Str, r"'a\'b'"), (Str, "'it''s'")]
        );
        assert_eq!(
            solid(r"'a\' b", Syntax::SQLITE),
            [(Str, r"'a\'"), (Word, "b")]
        );
        assert_eq!(
            solid("[a b] x[1]", Syntax::SQLITE),
            [(Quoted, "[a b]"), (Word, "x"), (Quoted, "[1]")]
        );
        assert_eq!(
            solid("x[1]", Syntax::STATEMENTS),
            [(Word, "x"), (Punct, "["), (Punct, "1"), (Punct, "]")]
        );
        let open: Vec<Token> = tokens("'open", Syntax::ANY).collect();
        assert_eq!((open[0].kind, open[0].closed), (Str, false));
        assert!(tokens("'shut'", Syntax::ANY).next().unwrap().closed);
    }

    #[test]
    fn comments_nest_as_the_syntax_says() {
        let sql = "/* a /* b */ c */ d";
        assert_eq!(
            kinds(sql, Syntax::ANY),
            [
                (BlockComment, "/* a /* b */ c */"),
                (Blank, " "),
                (Word, "d")
            ]
        );
        assert_eq!(
            solid(sql, Syntax::SQLITE),
            [(Word, "c"), (Punct, "*"), (Punct, "/"), (Word, "d")]
        );
        let open = tokens("/* open", Syntax::ANY).next().unwrap();
        assert_eq!((open.kind, open.closed), (BlockComment, false));
        assert_eq!(
            kinds("-- x\ny", Syntax::ANY),
            [(LineComment, "-- x"), (Blank, "\n"), (Word, "y")]
        );
    }

    #[test]
    fn dollar_quotes_and_words() {
        assert_eq!(
            solid("$$ a; $$ $q$ $$ $q$ $1 $x$ open", Syntax::ANY),
            [
                (DollarStr, "$$ a; $$"),
                (DollarStr, "$q$ $$ $q$"),
                (Punct, "$"),
                (Word, "1"),
                (DollarStr, "$x$ open")
            ]
        );
        assert_eq!(solid("$x$", Syntax::ANY)[0], (DollarStr, "$x$"));
        assert!(!tokens("$x$ open", Syntax::ANY).next().unwrap().closed);
        assert_eq!(
            solid("a$b $c 1x é", Syntax::SQLITE),
            [(Word, "a$b"), (Word, "$c"), (Word, "1x"), (Word, "é")]
        );
        assert_eq!(
            solid("a$b 1x é_", Syntax::STATEMENTS),
            [
                (Word, "a"),
                (Punct, "$"),
                (Word, "b"),
                (Punct, "1"),
                (Word, "x"),
                (Punct, "é"),
                (Word, "_")
            ]
        );
    }

    #[test]
    fn conditional_comments_are_code_where_the_syntax_says() {
        let sql = "/*!50003 CREATE*/ /*M!100101 x; */ /*!y*/ /* z */";
        assert_eq!(
            solid(sql, Syntax::MYSQL),
            [
                (Conditional, "/*!50003"),
                (Word, "CREATE"),
                (Conditional, "*/"),
                (Conditional, "/*M!100101"),
                (Word, "x"),
                (Punct, ";"),
                (Conditional, "*/"),
                (Conditional, "/*!"),
                (Word, "y"),
                (Conditional, "*/"),
            ]
        );
        // Outside a conditional comment, `*/` is two characters.
        assert_eq!(
            solid("a */", Syntax::MYSQL),
            [(Word, "a"), (Punct, "*"), (Punct, "/")]
        );
        assert_eq!(
            kinds(sql, Syntax::ANY).first(),
            Some(&(BlockComment, "/*!50003 CREATE*/"))
        );
        assert_eq!(solid("/*!", Syntax::MYSQL), [(Conditional, "/*!")]);
        assert_eq!(solid("/*M", Syntax::MYSQL), []);
    }

    #[test]
    fn unquoting() {
        let un = |sql: &str| {
            tokens(sql, Syntax::ANY)
                .next()
                .and_then(|t| t.unquoted())
                .map(Cow::into_owned)
        };
        assert_eq!(un("\"my \"\"t\"\"\"").as_deref(), Some("my \"t\""));
        assert_eq!(un("[a b]").as_deref(), Some("a b"));
        assert_eq!(un("`c`").as_deref(), Some("c"));
        assert_eq!(un("'it''s'").as_deref(), Some("it's"));
        assert_eq!(un("\"open").as_deref(), Some("open"));
        assert_eq!(un("word"), None);
    }
}
