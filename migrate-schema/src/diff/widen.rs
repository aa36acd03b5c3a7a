//! Whether a column's type change keeps every value: the widenings the three
//! databases' types allow.

/// A parsed type: base words (lower case, single spaces), numeric arguments, and the
/// words after the arguments (`unsigned`, `with time zone`).
struct ParsedType {
    base: String,
    args: Vec<u64>,
    suffix: String,
}

fn parse_type(t: &str) -> ParsedType {
    let t = t.trim().to_ascii_lowercase();
    let (head, args, tail) = match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if close > open => (
            t[..open].to_string(),
            t[open + 1..close]
                .split(',')
                .filter_map(|a| a.trim().parse::<u64>().ok())
                .collect(),
            t[close + 1..].to_string(),
        ),
        _ => (t.clone(), Vec::new(), String::new()),
    };
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut base = words(&head);
    let mut suffix = words(&tail);
    // `int unsigned` (MySQL without display width) keeps `unsigned` in the suffix.
    for w in ["unsigned zerofill", "unsigned", "zerofill"] {
        if let Some(b) = base.strip_suffix(&format!(" {w}")) {
            base = b.to_string();
            suffix = if suffix.is_empty() {
                w.to_string()
            } else {
                format!("{w} {suffix}")
            };
            break;
        }
    }
    ParsedType { base, args, suffix }
}

/// Integer width in bytes, for the integer types of the three databases.
fn integer_bytes(base: &str) -> Option<u32> {
    Some(match base {
        "tinyint" => 1,
        "smallint" | "int2" | "smallserial" => 2,
        "mediumint" => 3,
        "integer" | "int" | "int4" | "serial" => 4,
        "bigint" | "int8" | "bigserial" => 8,
        _ => return None,
    })
}

/// Decimal digits an integer of that width (signed) can need.
fn integer_digits(bytes: u32, unsigned: bool) -> u64 {
    match (bytes, unsigned) {
        (1, _) => 3,
        (2, _) => 5,
        (3, false) => 7,
        (3, true) => 8,
        (4, _) => 10,
        (_, false) => 19,
        (_, true) => 20,
    }
}

fn is_varchar(base: &str) -> bool {
    matches!(
        base,
        "character varying" | "varchar" | "nvarchar" | "varchar2"
    )
}

fn is_char(base: &str) -> bool {
    matches!(base, "character" | "char" | "bpchar" | "nchar")
}

/// Capacity of a text type in bytes (MySQL's text family), `u64::MAX` for unbounded.
fn text_bytes(base: &str) -> Option<u64> {
    Some(match base {
        "tinytext" => 255,
        "text" | "clob" => 65_535,
        "mediumtext" => 16_777_215,
        "longtext" => u64::MAX,
        _ => return None,
    })
}

fn is_numeric(base: &str) -> bool {
    matches!(base, "numeric" | "decimal" | "dec")
}

fn float_rank(base: &str, args: &[u64]) -> Option<u32> {
    match base {
        "real" | "float4" => Some(4),
        "double precision" | "double" | "float8" => Some(8),
        // `float(p)`: single up to 24 bits of precision (both PostgreSQL and MySQL).
        "float" => Some(if args.first().is_some_and(|p| *p > 24) {
            8
        } else {
            4
        }),
        _ => None,
    }
}

/// Whether every value of type `from` fits type `to` unchanged. `false` when it cannot
/// be shown, which makes the change destructive.
pub fn type_widens(from: &str, to: &str) -> bool {
    if from.trim().eq_ignore_ascii_case(to.trim()) {
        return true;
    }
    let f = parse_type(from);
    let t = parse_type(to);
    let unsigned = |p: &ParsedType| p.suffix.contains("unsigned");
    // Integers: a wider one, signed to signed, unsigned to wider signed or unsigned.
    if let (Some(fb), Some(tb)) = (integer_bytes(&f.base), integer_bytes(&t.base)) {
        // MySQL's `int(11)` display width is no limit, so arguments are ignored.
        return match (unsigned(&f), unsigned(&t)) {
            (false, false) | (true, true) => tb >= fb,
            (true, false) => tb > fb,
            (false, true) => false,
        } && f.suffix.replace("unsigned", "").trim()
            == t.suffix.replace("unsigned", "").trim();
    }
    // Integer to numeric with enough integer digits.
    if let (Some(fb), true) = (integer_bytes(&f.base), is_numeric(&t.base)) {
        return match t.args.as_slice() {
            [] => true,
            [p] => *p >= integer_digits(fb, unsigned(&f)),
            [p, s, ..] => p.saturating_sub(*s) >= integer_digits(fb, unsigned(&f)),
        };
    }
    if is_numeric(&f.base) && is_numeric(&t.base) {
        // Without arguments PostgreSQL's numeric is unbounded; MySQL reports its
        // `decimal` always with arguments.
        return match (f.args.as_slice(), t.args.as_slice()) {
            (_, []) => true,
            ([], _) => false,
            (fa, ta) => {
                let (fp, fs) = (fa[0], fa.get(1).copied().unwrap_or(0));
                let (tp, ts) = (ta[0], ta.get(1).copied().unwrap_or(0));
                ts >= fs && tp.saturating_sub(ts) >= fp.saturating_sub(fs)
            }
        };
    }
    if let (Some(fr), Some(tr)) = (float_rank(&f.base, &f.args), float_rank(&t.base, &t.args)) {
        return tr >= fr;
    }
    // Small integers fit a float exactly (24 and 53 bits of mantissa).
    if let (Some(fb), Some(tr)) = (integer_bytes(&f.base), float_rank(&t.base, &t.args)) {
        return (tr == 4 && fb <= 2) || (tr == 8 && fb <= 4);
    }
    // Strings.
    let f_len = f.args.first().copied();
    let t_len = t.args.first().copied();
    // PostgreSQL's varchar without a length takes any string; `text` is not proven
    // unbounded, as MySQL's holds 65,535 bytes (the rule below).
    let unbounded_text = |p: &ParsedType| is_varchar(&p.base) && p.args.is_empty();
    if (is_varchar(&f.base) || is_char(&f.base)) && (is_varchar(&t.base) || is_char(&t.base)) {
        // char to char/varchar, varchar to varchar: a length at least as long. A
        // varchar into a char would gain padding, so it is not proven.
        if is_varchar(&f.base) && is_char(&t.base) {
            return false;
        }
        return match (f_len, t_len) {
            (_, None) => is_varchar(&t.base),
            (None, Some(_)) => false,
            (Some(a), Some(b)) => b >= a,
        };
    }
    if (is_varchar(&f.base) || is_char(&f.base)) && unbounded_text(&t) {
        return true;
    }
    if let (true, Some(cap)) = (is_varchar(&f.base) || is_char(&f.base), text_bytes(&t.base)) {
        // Four bytes per character at most (utf8mb4).
        return f_len.is_some_and(|n| n.saturating_mul(4) <= cap);
    }
    if let (Some(a), Some(b)) = (text_bytes(&f.base), text_bytes(&t.base)) {
        return b >= a;
    }
    // Binary strings.
    let binary = |b: &str| matches!(b, "varbinary" | "binary" | "bit varying" | "varbit");
    if binary(&f.base) && f.base == t.base {
        return matches!((f_len, t_len), (Some(a), Some(b)) if b >= a) || t_len.is_none();
    }
    // Time types with fractional seconds: more digits.
    let timey = |b: &str| {
        matches!(
            b,
            "timestamp"
                | "time"
                | "datetime"
                | "timestamp without time zone"
                | "timestamp with time zone"
                | "time without time zone"
                | "time with time zone"
        )
    };
    if timey(&f.base) && f.base == t.base && f.suffix == t.suffix {
        // PostgreSQL's default precision is 6, MySQL's 0: no arguments is only proven
        // wider on PostgreSQL's spelling, so compare what is written.
        return matches!((f.args.first(), t.args.first()), (Some(a), Some(b)) if b >= a);
    }
    false
}
