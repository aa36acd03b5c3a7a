//! SHA-256 checksums of migration files and the `migrations.sum` file.

use crate::directory::ScriptDirectory;
use crate::error::{SumError, SumMismatch};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// Name of the sum file inside the versions folder.
pub const SUM_FILE: &str = "migrations.sum";

/// The SHA-256 of a migration file, with CRLF turned into LF first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Checksum(pub [u8; 32]);

impl Checksum {
    /// Hashes file bytes; `\r\n` hashes as `\n` so checkouts on Windows agree.
    pub fn of(bytes: &[u8]) -> Checksum {
        let mut h = Sha256::new();
        let mut start = 0;
        let mut i = 0;
        while i + 1 < bytes.len() {
            if bytes[i] == b'\r' && bytes[i + 1] == b'\n' {
                h.update(&bytes[start..i]);
                start = i + 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        h.update(&bytes[start..]);
        Checksum(h.finalize().into())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            s.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
        }
        s
    }

    /// Whether `hex` is this checksum in hex (either case), without allocating.
    pub fn matches_hex(&self, hex: &str) -> bool {
        let h = hex.as_bytes();
        h.len() == 64
            && self.0.iter().enumerate().all(|(i, b)| {
                let digit = |c: u8| char::from(c).to_digit(16);
                digit(h[2 * i]) == Some(u32::from(b >> 4))
                    && digit(h[2 * i + 1]) == Some(u32::from(b & 15))
            })
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Checksum> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hi = char::from(chunk[0]).to_digit(16)?;
            let lo = char::from(chunk[1]).to_digit(16)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Some(Checksum(out))
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({})", self.to_hex())
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The contents of `migrations.sum`: path (relative, `/`-separated) to checksum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SumFile {
    /// Entries sorted by path.
    pub entries: BTreeMap<String, Checksum>,
}

impl SumFile {
    /// Builds a sum file from `(path, checksum)` pairs.
    pub fn from_entries<I, P>(entries: I) -> SumFile
    where
        I: IntoIterator<Item = (P, Checksum)>,
        P: Into<String>,
    {
        SumFile {
            entries: entries.into_iter().map(|(p, c)| (p.into(), c)).collect(),
        }
    }

    /// Parses the text of a sum file. Blank lines are ignored.
    ///
    /// # Errors
    /// [`SumError::Malformed`] naming the first bad line.
    pub fn parse(text: &str) -> Result<SumFile, SumError> {
        let (sum, malformed) = SumFile::parse_lenient(text);
        match malformed.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(sum),
        }
    }

    /// [`SumFile::parse`] past malformed lines, for a check that lists every problem
    /// (`migrate verify`): the entries of the lines that parse, and a
    /// [`SumError::Malformed`] for each line that does not, in line order.
    pub fn parse_lenient(text: &str) -> (SumFile, Vec<SumError>) {
        let mut entries = BTreeMap::new();
        let mut malformed = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let entry = line
                .split_once("  ")
                .and_then(|(hex, path)| Some((Checksum::from_hex(hex)?, path)))
                .filter(|(_, path)| !path.is_empty());
            match entry {
                Some((sum, path)) => {
                    entries.insert(path.to_string(), sum);
                }
                None => malformed.push(SumError::Malformed {
                    line: i + 1,
                    found: line.to_string(),
                }),
            }
        }
        (SumFile { entries }, malformed)
    }

    /// The text to write: `<hex>  <path>` per line, sorted by path.
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(self.entries.len() * 100);
        for (path, sum) in &self.entries {
            s.push_str(&sum.to_hex());
            s.push_str("  ");
            s.push_str(path);
            s.push('\n');
        }
        s
    }

    /// Compares the recorded sums with the files' actual ones.
    ///
    /// # Errors
    /// [`SumError::Mismatch`] listing every file missing from the sum, listed but absent,
    /// or changed, in path order.
    pub fn verify<'a, I>(&self, actual: I) -> Result<(), SumError>
    where
        I: IntoIterator<Item = (&'a str, Checksum)>,
    {
        let actual: BTreeMap<&str, Checksum> = actual.into_iter().collect();
        let mut problems = Vec::new();
        for (path, sum) in &actual {
            match self.entries.get(*path) {
                None => problems.push((path.to_string(), SumMismatch::NotListed(path.to_string()))),
                Some(rec) if rec != sum => {
                    problems.push((path.to_string(), SumMismatch::Changed(path.to_string())))
                }
                Some(_) => {}
            }
        }
        for path in self.entries.keys() {
            if !actual.contains_key(path.as_str()) {
                problems.push((path.clone(), SumMismatch::Absent(path.clone())));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        problems.sort_by(|a, b| a.0.cmp(&b.0));
        Err(SumError::Mismatch(
            problems.into_iter().map(|(_, m)| m).collect(),
        ))
    }
}

/// Checks the text of a versions folder's `migrations.sum` (`None` when it has none)
/// against the folder: against its scripts when it loaded, else against the raw bytes of
/// its files, so a folder with a file that does not parse still has every sum problem
/// listed with its parse errors. The macro and `migrate verify` both check this way.
///
/// # Errors
/// [`SumError::MissingSumFile`] without a sum file, [`SumError::Malformed`] for a line
/// that is not `<sha256 hex>  <path>`, [`SumError::Mismatch`] naming every file that is
/// unlisted, absent or changed.
pub fn verify_sum_file<'a>(
    sum_text: Option<&str>,
    loaded: Option<&ScriptDirectory>,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<(), SumError> {
    let text = sum_text.ok_or(SumError::MissingSumFile)?;
    match loaded {
        Some(directory) => directory.verify_sum(Some(text)),
        None => SumFile::parse(text)?.verify(
            files
                .into_iter()
                .map(|(path, bytes)| (path, Checksum::of(bytes))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_hex_agrees_with_to_hex() {
        let c = Checksum::of(b"abc");
        assert!(c.matches_hex(&c.to_hex()));
        assert!(c.matches_hex(&c.to_hex().to_uppercase()));
        assert!(!c.matches_hex(&Checksum::of(b"abd").to_hex()));
        assert!(!c.matches_hex("ba78"));
    }

    #[test]
    fn known_digest() {
        assert_eq!(
            Checksum::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Checksum::of(b"a\r\nb"), Checksum::of(b"a\nb"));
        assert_ne!(Checksum::of(b"a\rb"), Checksum::of(b"a\nb"));
    }

    #[test]
    fn sum_file_round_trip_and_verify() {
        let a = Checksum::of(b"a");
        let b = Checksum::of(b"b");
        let sum = SumFile::from_entries([("z/b.sql", b), ("a.sql", a)]);
        let text = sum.render();
        assert!(text.starts_with(&format!("{}  a.sql\n", a.to_hex())));
        assert_eq!(SumFile::parse(&text).unwrap(), sum);
        assert!(sum.verify([("a.sql", a), ("z/b.sql", b)]).is_ok());

        let err = sum.verify([("a.sql", b), ("c.sql", a)]).unwrap_err();
        assert_eq!(
            err,
            SumError::Mismatch(vec![
                SumMismatch::Changed("a.sql".into()),
                SumMismatch::NotListed("c.sql".into()),
                SumMismatch::Absent("z/b.sql".into()),
            ])
        );
        assert!(err.to_string().contains("run `migrate hash`"));
    }

    #[test]
    fn malformed_line() {
        let err = SumFile::parse("\nnot a sum\n").unwrap_err();
        assert_eq!(
            err,
            SumError::Malformed {
                line: 2,
                found: "not a sum".into()
            }
        );
    }

    #[test]
    fn a_lenient_parse_names_every_malformed_line_and_keeps_the_others() {
        let a = Checksum::of(b"a");
        let text = format!(
            "<<<<<<< HEAD\n{}  a.sql\n=======\n\n{}\n>>>>>>> theirs\n",
            a.to_hex(),
            a.to_hex()
        );
        let (sum, malformed) = SumFile::parse_lenient(&text);
        let lines: Vec<usize> = malformed
            .iter()
            .map(|e| match e {
                SumError::Malformed { line, .. } => *line,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lines, [1, 3, 5, 6]);
        assert_eq!(sum.render(), format!("{}  a.sql\n", a.to_hex()));
        assert_eq!(SumFile::parse(&text).unwrap_err(), malformed[0]);
    }

    #[test]
    fn the_sum_is_checked_against_the_scripts_else_the_raw_files() {
        let good: &[u8] =
            b"-- a\n-- revision: a1\n-- down_revision:\n\n-- migrate:upgrade\nSELECT 1;\n";
        let broken: &[u8] = b"-- b\n-- revision: b2\n";
        let sum = SumFile::from_entries([("a.sql", Checksum::of(good))]).render();
        let loaded = ScriptDirectory::from_files([("a.sql", good)]).unwrap();
        assert_eq!(verify_sum_file(Some(&sum), Some(&loaded), []), Ok(()));
        assert_eq!(
            verify_sum_file(None, Some(&loaded), []),
            Err(SumError::MissingSumFile)
        );
        // Without the scripts, the raw files: the broken one is still named.
        let files = [("a.sql", good), ("b.sql", broken)];
        assert_eq!(
            verify_sum_file(Some(&sum), None, files),
            Err(SumError::Mismatch(vec![SumMismatch::NotListed(
                "b.sql".into()
            )]))
        );
        let both = SumFile::from_entries(files.map(|(p, b)| (p, Checksum::of(b)))).render();
        assert_eq!(verify_sum_file(Some(&both), None, files), Ok(()));
        assert!(matches!(
            verify_sum_file(Some("nonsense\n"), None, files),
            Err(SumError::Malformed { line: 1, .. })
        ));
    }

    proptest! {
        #[test]
        fn crlf_invariant(lines in proptest::collection::vec("[ -~]{0,20}", 0..10)) {
            let lf = lines.join("\n");
            let crlf = lines.join("\r\n");
            prop_assert_eq!(Checksum::of(lf.as_bytes()), Checksum::of(crlf.as_bytes()));
        }

        #[test]
        fn hex_round_trip(bytes in proptest::array::uniform32(any::<u8>())) {
            let c = Checksum(bytes);
            prop_assert_eq!(Checksum::from_hex(&c.to_hex()), Some(c));
        }
    }
}
