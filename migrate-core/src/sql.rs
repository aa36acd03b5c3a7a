//! Splitting a section's SQL into statements, so a failure can name the statement.

/// Splits SQL text into statements at top-level `;`, respecting quotes, comments,
/// PostgreSQL dollar quoting and `CREATE TRIGGER ... BEGIN ... END` bodies.
///
/// Each statement is returned trimmed, without its `;`, with the 1-based line it starts
/// on (relative to the text). Comment-only pieces are dropped.
pub fn split_statements(sql: &str) -> Vec<(usize, &str)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut depth = 0i32; // BEGIN ... END nesting inside a trigger body
    let mut trigger = false;
    let mut significant = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'\'' | b'"' | b'`' => {
                significant = true;
                i += 1;
                while i < b.len() {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    if b[i] == c {
                        if i + 1 < b.len() && b[i + 1] == c {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if b[i] == b'\\' && c == b'\'' && i + 1 < b.len() {
                        // MySQL-style escapes; harmless elsewhere for splitting.
                        if b[i + 1] == b'\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            b'$' => {
                significant = true;
                // $tag$ ... $tag$
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|&x| !(x.is_ascii_alphanumeric() || x == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(e)
                        if b[e] == b'$' && !b[i + 1..e].first().is_some_and(u8::is_ascii_digit) =>
                    {
                        let tag = &b[i..=e];
                        let body = e + 1;
                        let close = b[body..]
                            .windows(tag.len())
                            .position(|w| w == tag)
                            .map(|p| body + p + tag.len())
                            .unwrap_or(b.len());
                        line += b[i..close].iter().filter(|&&x| x == b'\n').count();
                        i = close;
                    }
                    _ => i += 1,
                }
            }
            b';' if depth <= 0 => {
                push(&mut out, &sql[start..i], start_line, significant);
                i += 1;
                start = i;
                start_line = line;
                trigger = false;
                depth = 0;
                significant = false;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = &sql[s..i];
                if !significant {
                    start_line = line;
                    start = s;
                }
                significant = true;
                if word.eq_ignore_ascii_case("TRIGGER") {
                    trigger = true;
                } else if trigger
                    && (word.eq_ignore_ascii_case("BEGIN") || word.eq_ignore_ascii_case("CASE"))
                {
                    depth += 1;
                } else if trigger && word.eq_ignore_ascii_case("END") {
                    depth -= 1;
                }
            }
            _ => {
                if !c.is_ascii_whitespace() && !significant {
                    significant = true;
                    start = i;
                    start_line = line;
                }
                i += 1;
            }
        }
    }
    push(
        &mut out,
        &sql[start.min(sql.len())..],
        start_line,
        significant,
    );
    out
}

fn push<'a>(out: &mut Vec<(usize, &'a str)>, piece: &'a str, line: usize, significant: bool) {
    let t = piece.trim();
    if significant && !t.is_empty() {
        out.push((line, t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(s: &str) -> Vec<String> {
        split_statements(s)
            .into_iter()
            .map(|(_, s)| s.to_string())
            .collect()
    }

    #[test]
    fn splits_plain_statements_with_lines() {
        let v = split_statements("CREATE TABLE a (x INT);\n\n-- note\nINSERT INTO a VALUES (1);\n");
        assert_eq!(
            v,
            vec![
                (1, "CREATE TABLE a (x INT)"),
                (4, "INSERT INTO a VALUES (1)")
            ]
        );
    }

    #[test]
    fn respects_quotes_comments_and_dollars() {
        assert_eq!(
            stmts("INSERT INTO t VALUES ('a;b', \"c;\", `d;`); /* x; */ SELECT 1"),
            vec!["INSERT INTO t VALUES ('a;b', \"c;\", `d;`)", "SELECT 1"]
        );
        assert_eq!(
            stmts("CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql; SELECT 2;"),
            vec![
                "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql",
                "SELECT 2"
            ]
        );
        assert_eq!(stmts("SELECT 'it''s; fine';"), vec!["SELECT 'it''s; fine'"]);
        assert_eq!(stmts("-- only a comment\n"), Vec::<String>::new());
    }

    #[test]
    fn trigger_bodies_stay_whole() {
        let sql = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = 1; UPDATE t SET y = CASE WHEN 1 THEN 2 END; END;\nSELECT 1;";
        assert_eq!(stmts(sql).len(), 2);
    }
}
