//! Output: listings on stdout, informational messages on stderr (silenced by `-q`),
//! and Alembic's line and block shapes for revisions.

use migrate_core::{RevisionMap, ScriptDirectory};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Where commands write. Write errors (a closed pipe) are ignored, as `head` users expect.
pub struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    quiet: bool,
    /// The program the user runs, when not `migrate` (an application's `myapp
    /// migrate`): the commands messages name are renamed to it.
    program: Option<String>,
}

impl Printer {
    /// A printer on the process's stdout and stderr.
    pub fn new(quiet: bool) -> Printer {
        Printer {
            out: std::io::BufWriter::new(std::io::stdout()),
            quiet,
            program: None,
        }
    }

    /// Names `program` instead of `migrate` in the commands informational messages
    /// suggest (`myapp migrate upgrade head`).
    pub fn set_program(&mut self, program: &str) {
        self.program = (program != "migrate").then(|| program.to_string());
    }

    /// `s` with its suggested commands naming the program the user runs.
    fn named<'s>(&self, s: &'s str) -> std::borrow::Cow<'s, str> {
        match &self.program {
            Some(p) => std::borrow::Cow::Owned(crate::name_commands(s, p)),
            None => std::borrow::Cow::Borrowed(s),
        }
    }

    /// Whether `-q` was given.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// One line of a listing (stdout).
    pub fn line(&mut self, s: impl AsRef<str>) {
        let _ = self.out.write_all(s.as_ref().as_bytes());
        let _ = self.out.write_all(b"\n");
    }

    /// A status message such as `Generating x ...  done` (stdout), unless quiet.
    pub fn status(&mut self, s: impl AsRef<str>) {
        if !self.quiet {
            self.line(s);
        }
    }

    /// Text as is (stdout).
    pub fn raw(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
    }

    /// A value as one pretty-printed JSON document and a newline (stdout).
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        match &self.program {
            // Messages in the document suggest commands too: name the program there as
            // on stderr. The name goes in escaped, as the text around it is JSON.
            Some(p) => {
                let escaped = serde_json::to_string(p).unwrap_or_default();
                let program = escaped.trim_matches('"');
                // The derived documents always serialize; only the write can fail.
                let text = serde_json::to_string_pretty(value).unwrap_or_default();
                let _ = self
                    .out
                    .write_all(crate::name_commands(&text, program).as_bytes());
            }
            None => {
                let _ = serde_json::to_writer_pretty(&mut self.out, value);
            }
        }
        let _ = self.out.write_all(b"\n");
    }

    /// An informational message (stderr), unless quiet.
    pub fn info(&mut self, s: impl AsRef<str>) {
        if !self.quiet {
            self.flush();
            let _ = writeln!(std::io::stderr(), "{}", self.named(s.as_ref()));
        }
    }

    /// Several informational lines (stderr) in one write, unless quiet: stderr is
    /// unbuffered, and a run of ten thousand migrations has as many lines.
    pub fn info_lines<S: AsRef<str>>(&mut self, lines: impl IntoIterator<Item = S>) {
        if self.quiet {
            return;
        }
        let mut text = String::new();
        for l in lines {
            text.push_str(l.as_ref());
            text.push('\n');
        }
        if !text.is_empty() {
            self.flush();
            let text = self.named(&text);
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }

    /// Whether a progress display makes sense: stderr is a terminal and not quiet.
    pub fn progress_enabled(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Flushes stdout.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Formats revisions the way Alembic's `Script.cmd_format` does.
pub struct Formatter<'a> {
    /// The scripts.
    pub dir: &'a ScriptDirectory,
    /// The versions folder as shown in `Path:` lines.
    pub location: &'a Path,
    /// Revisions to mark `(current)`.
    pub current: &'a [String],
}

/// What `_head_only` includes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Include {
    /// `(label, ...)` after the id.
    pub branches: bool,
    /// `, message` at the end.
    pub doc: bool,
    /// `<down> -> ` before the id.
    pub parents: bool,
    /// `(branchpoint)` / `(mergepoint)`.
    pub tree: bool,
    /// `(current)` for current revisions.
    pub current: bool,
}

impl Formatter<'_> {
    fn map(&self) -> &RevisionMap {
        &self.dir.map
    }

    fn down(&self, id: &str) -> String {
        match self.map().get(id) {
            Some(r) if !r.down_revisions().is_empty() => r.down_revisions().join(", "),
            _ => "<base>".to_string(),
        }
    }

    fn message(&self, id: &str) -> &str {
        self.dir.script(id).map(|s| &*s.message).unwrap_or("")
    }

    /// Alembic's one-line form: `<down> -> <rev> (labels) (head) (current) (branchpoint), doc`.
    pub fn line(&self, id: &str, inc: Include) -> String {
        let Some(rev) = self.map().get(id) else {
            return id.to_string();
        };
        let mut text = id.to_string();
        if inc.parents {
            // As written (labels stay labels), as Alembic prints them.
            let deps = rev.depends_on();
            text = if deps.is_empty() {
                format!("{} -> {text}", self.down(id))
            } else {
                format!("{} ({}) -> {text}", self.down(id), deps.join(", "))
            };
        }
        let labels = rev.branch_labels();
        if inc.branches && !labels.is_empty() {
            text.push_str(&format!(" ({})", labels.join(", ")));
        }
        let real_head = rev.dependents().is_empty();
        if real_head {
            text.push_str(" (head)");
        } else if rev.is_head() {
            text.push_str(" (effective head)");
        }
        if inc.current && self.current.iter().any(|c| c == id) {
            text.push_str(" (current)");
        }
        if inc.tree {
            if rev.is_branch_point() {
                text.push_str(" (branchpoint)");
            }
            if rev.is_merge_point() {
                text.push_str(" (mergepoint)");
            }
        }
        if inc.doc {
            text.push_str(", ");
            text.push_str(self.message(id));
        }
        text
    }

    /// Alembic's `log_entry`: the `-v` block, ending with an empty line.
    pub fn entry(&self, id: &str, mark_current: bool) -> String {
        let Some(rev) = self.map().get(id) else {
            return format!("Rev: {id}\n");
        };
        let mut s = format!("Rev: {id}");
        if rev.is_head() {
            s.push_str(" (head)");
        }
        if rev.is_branch_point() {
            s.push_str(" (branchpoint)");
        }
        if rev.is_merge_point() {
            s.push_str(" (mergepoint)");
        }
        if mark_current && self.current.iter().any(|c| c == id) {
            s.push_str(" (current)");
        }
        s.push('\n');
        if rev.is_merge_point() {
            s.push_str(&format!("Merges: {}\n", self.down(id)));
        } else {
            s.push_str(&format!("Parent: {}\n", self.down(id)));
        }
        let deps = rev.depends_on();
        if !deps.is_empty() {
            s.push_str(&format!("Also depends on: {}\n", deps.join(", ")));
        }
        if rev.is_branch_point() {
            s.push_str(&format!("Branches into: {}\n", rev.children().join(", ")));
        }
        let labels = rev.branch_labels();
        if !labels.is_empty() {
            s.push_str(&format!("Branch names: {}\n", labels.join(", ")));
        }
        if let Some(script) = self.dir.script(id) {
            s.push_str(&format!(
                "Path: {}\n",
                self.location.join(&*script.path).display()
            ));
        }
        s.push('\n');
        for line in self.message(id).lines() {
            s.push_str("    ");
            s.push_str(line);
            s.push('\n');
        }
        if self.message(id).is_empty() {
            s.push('\n');
        }
        // The rest of what Alembic's docstring holds: the creation date and the
        // template's own header fields (author, ticket...).
        if let Some(script) = self.dir.script(id) {
            let fields: Vec<(&str, &str)> = script
                .create_date
                .as_deref()
                .map(|d| ("Create Date", d))
                .into_iter()
                .chain(script.extra_fields.iter().map(|(k, v)| (&**k, &**v)))
                .filter(|(_, v)| !v.trim().is_empty())
                .collect();
            if !fields.is_empty() {
                if !self.message(id).is_empty() {
                    s.push('\n');
                }
                for (k, v) in fields {
                    s.push_str(&format!("    {k}: {v}\n"));
                }
            }
        }
        s
    }
}
