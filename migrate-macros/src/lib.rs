//! `embed_migrations!`: the migrations of a versions folder, validated at build time and
//! compiled into the binary as static data.
//!
//! Use it through `migrate-runtime`, which re-exports it, so an application depends on one
//! crate:
//!
//! ```
//! static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
//!     migrate_runtime::embed_migrations!("migrations");
//!
//! assert_eq!(MIGRATIONS.migrations[0].revision, "a1b2c3d4e5f6");
//! ```
//!
//! The macro is thin, like `sqlx-macros`: it parses the path literal, loads the folder with
//! `migrate-core` (the same parser and graph validation the runtime and the CLI use),
//! checks `migrations.sum`, and emits a `::migrate_runtime::__private::EmbeddedMigrations`
//! value. Nothing is read from disk at run time. Every problem becomes a compile error
//! pointing at the path literal, and one build lists all of them.
//!
//! # Rebuilding when migrations change
//!
//! Each migration file and `migrations.sum` is passed to `include_bytes!`, so cargo
//! rebuilds the crate when one of them is edited or removed. Cargo cannot know about a
//! *new* file by itself; add a build script (`migrate init` writes this one):
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     migrate_runtime::build::rerun_if_migrations_changed("migrations");
//! }
//! ```
//!
//! with `migrate-runtime` under `[build-dependencies]`, or print
//! `cargo:rerun-if-changed=migrations` yourself.

// The examples show a whole `build.rs`, `fn main` included.
#![allow(clippy::needless_doctest_main)]

use migrate_core::directory::read_regular_file;
use migrate_core::{
    read_sum_file, scan, verify_sum_file, GraphError, LoadError, Origin, ParseError, Problem,
    Script, ScriptDirectory, Section, SumError, SumMismatch, SUM_FILE,
};
use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

/// The name the generated code gives `::migrate_runtime::__private` inside its block.
const P: &str = "__migrate";

/// Environment variable that, when set, replaces `CARGO_MANIFEST_DIR` as the folder the
/// path is resolved against.
///
/// Only for testing the macro under trybuild, whose scratch crate has its own manifest
/// folder (trybuild issue #202); normal builds never set it.
const MANIFEST_DIR_OVERRIDE: &str = "MIGRATE_MACROS_MANIFEST_DIR";

/// Embeds every migration of a versions folder in the binary, validated at build time.
///
/// ```
/// static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
///     migrate_runtime::embed_migrations!("migrations");
///
/// // Or accept several heads on purpose: `head` is then an error at run time, `heads` works.
/// static BRANCHED: migrate_runtime::EmbeddedMigrations =
///     migrate_runtime::embed_migrations!("migrations", allow_multiple_heads);
/// # assert!(!MIGRATIONS.allow_multiple_heads && BRANCHED.allow_multiple_heads);
/// ```
///
/// The path is resolved against the crate's `CARGO_MANIFEST_DIR`. Every `*.sql` and
/// `*.rs` file under it (subfolders included, hidden ones skipped) is parsed with
/// `migrate-core`, and the result is a `migrate_runtime::EmbeddedMigrations` holding each
/// revision's id, parents, branch labels, `depends_on`, message, `create_date`,
/// `transactional` flag, upgrade and downgrade SQL and checksum, in the loader's order (a
/// folder's files by name, then its subfolders by name, as Alembic walks a versions
/// folder).
///
/// A `*.rs` file is a Rust migration: it becomes a module of the crate
/// (`#[path = "<file>"] mod __migration_<n>;`), type-checked with it, and the embedded
/// data points at its `upgrade` and `downgrade` functions, which must be
/// `async fn(&mut migrate_runtime::MigrationContext<'_>) -> migrate_runtime::MigrationResult`
/// (any other signature is a type error at the macro call).
///
/// # Errors
///
/// The build fails, with one error per problem at the path literal, each naming the file
/// (relative to the crate) and line where there is one, when:
///
/// - the folder does not exist or cannot be read;
/// - a file does not parse (malformed header, no `-- migrate:upgrade` section, a `.rs`
///   file without `upgrade`, a `-- migrate:batch` directive in a migration that is not
///   `transactional: false`, ...);
/// - the revision graph is invalid: duplicate revision, missing parent (broken chain),
///   missing dependency, cycle, duplicate branch label;
/// - there is more than one head and `allow_multiple_heads` was not given (merge them
///   with `migrate merge heads -m "..."`);
/// - `migrations.sum` is missing, or a file is not listed in it, listed but absent, or
///   edited since it was written (`migrate hash` rewrites it when that is intended).
///
/// # Rebuilds
///
/// Edits and removals are tracked through `include_bytes!`. For new files to trigger a
/// rebuild, call `migrate_runtime::build::rerun_if_migrations_changed("migrations")` from
/// the crate's `build.rs`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    let result = syn::parse::<Input>(input).and_then(|input| expand(&input));
    match result {
        Ok(tokens) => tokens.into(),
        Err(e) => errors_with_placeholder(&e).into(),
    }
}

/// One `compile_error!` per problem, inside a block that still has the right type, so the
/// only errors a user sees are ours (not a type mismatch caused by them).
fn errors_with_placeholder(e: &syn::Error) -> TokenStream2 {
    let errors = e.to_compile_error();
    quote! {
        {
            #errors
            ::migrate_runtime::__private::EmbeddedMigrations {
                migrations: &[],
                rust: &[],
                allow_multiple_heads: false,
            }
        }
    }
}

/// Short name of [`embed_migrations!`]: `migrations!("migrations")` is the same macro.
///
/// ```
/// static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
///     migrate_runtime::migrations!("migrations");
/// # assert_eq!(MIGRATIONS.migrations.len(), 1);
/// ```
#[proc_macro]
pub fn migrations(input: TokenStream) -> TokenStream {
    embed_migrations(input)
}

/// `"path"` optionally followed by `, allow_multiple_heads`.
struct Input {
    path: LitStr,
    allow_multiple_heads: bool,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the versions folder as a string literal, e.g. `embed_migrations!(\"migrations\")`",
            )
        })?;
        let mut allow_multiple_heads = false;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let option: Ident = input.parse()?;
            if option == "allow_multiple_heads" {
                allow_multiple_heads = true;
            } else {
                return Err(syn::Error::new(
                    option.span(),
                    format!("unknown option `{option}`; the only option is `allow_multiple_heads`"),
                ));
            }
        }
        Ok(Input {
            path,
            allow_multiple_heads,
        })
    }
}

/// Collects every problem as a message; they become one compile error each.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, msg: impl Into<String>) {
        self.0.push(msg.into());
    }

    fn into_result(self, span: Span) -> syn::Result<()> {
        let mut out: Option<syn::Error> = None;
        for msg in self.0 {
            let e = syn::Error::new(span, msg);
            match &mut out {
                Some(all) => all.combine(e),
                None => out = Some(e),
            }
        }
        out.map_or(Ok(()), Err)
    }
}

/// How paths are shown in messages: relative to the crate, as the literal was written.
struct Shown {
    prefix: String,
}

impl Shown {
    fn new(lit: &str) -> Shown {
        let trimmed = lit.trim_end_matches(['/', '\\']);
        let prefix = match trimmed {
            "" | "." => String::new(),
            p => p.strip_prefix("./").unwrap_or(p).to_string(),
        };
        Shown { prefix }
    }

    /// The folder itself.
    fn dir(&self) -> &str {
        if self.prefix.is_empty() {
            "."
        } else {
            &self.prefix
        }
    }

    /// A file of the folder, from its path relative to the folder.
    fn file(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    fn origin(&self, origin: &mut Origin) {
        if let Some(p) = &mut origin.0 {
            *p = self.file(p);
        }
    }
}

fn manifest_dir() -> Result<PathBuf, String> {
    std::env::var_os(MANIFEST_DIR_OVERRIDE)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            "CARGO_MANIFEST_DIR is not set; embed_migrations! must be built by cargo".to_string()
        })
}

fn expand(input: &Input) -> syn::Result<TokenStream2> {
    let span = input.path.span();
    let lit = input.path.value();
    let shown = Shown::new(&lit);
    let mut problems = Problems::default();

    let root = match manifest_dir() {
        Ok(d) => d,
        Err(msg) => return Err(syn::Error::new(span, msg)),
    };
    let dir = root.join(&lit);

    let files = match read_folder(&dir, &shown) {
        Ok(files) => files,
        Err(msg) => return Err(syn::Error::new(span, msg)),
    };

    let directory = load(&files, &shown, &mut problems);
    if let Some(d) = &directory {
        let heads = d.map.heads();
        if heads.len() > 1 && !input.allow_multiple_heads {
            problems.push(multiple_heads_message(d, &heads, &shown));
        }
    }
    check_sum(&dir, directory.as_ref(), &files, &shown, &mut problems);

    problems.into_result(span)?;
    let Some(directory) = directory else {
        return Err(syn::Error::new(span, "the migrations could not be loaded"));
    };
    emit(input, &dir, &files, &directory, &shown)
}

/// Parses every file with the core parser, then validates the graph: exactly what
/// `ScriptDirectory::load` does, keeping the scripts so messages can name files. With a
/// file that does not parse, the graph is missing it, so its heads and sums would be
/// wrong: no directory is returned, and those are checked against the raw files only.
fn load(files: &[File], shown: &Shown, problems: &mut Problems) -> Option<ScriptDirectory> {
    let mut scripts = Vec::new();
    let mut parse_failed = false;
    for file in files {
        match Script::parse(&file.rel, &file.bytes) {
            Ok(s) => scripts.push(s),
            Err(errs) => {
                parse_failed = true;
                for e in errs {
                    problems.push(parse_message(e, shown));
                }
            }
        }
    }
    let files_of: HashMap<String, String> = scripts
        .iter()
        .map(|s| (s.revision.to_string(), shown.file(&s.path)))
        .collect();
    let directory = match ScriptDirectory::from_scripts(scripts) {
        Ok(d) => Some(d),
        Err(LoadError::Invalid(graph_problems)) => {
            for p in graph_problems {
                let msg = match p {
                    Problem::Graph(g) => {
                        // A file that does not parse is missing from the graph, so its
                        // children look like broken chains: report the parse error only.
                        if parse_failed
                            && matches!(
                                g,
                                GraphError::MissingParent { .. }
                                    | GraphError::MissingDependency { .. }
                            )
                        {
                            continue;
                        }
                        graph_message(g, shown, &files_of)
                    }
                    Problem::Parse(e) => parse_message(e, shown),
                    other => other.to_string(),
                };
                problems.push(msg);
            }
            None
        }
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    directory.filter(|_| !parse_failed)
}

/// Checks `migrations.sum` against the parsed scripts or, when some file does not
/// parse, against the raw files, so sum problems are listed in the same build.
fn check_sum(
    dir: &Path,
    directory: Option<&ScriptDirectory>,
    files: &[File],
    shown: &Shown,
    problems: &mut Problems,
) {
    let sum_path = dir.join(SUM_FILE);
    let sum_text = match read_sum_file(dir) {
        Ok(t) => t,
        Err(e) => {
            problems.push(load_error_message(e, dir, shown));
            None
        }
    };
    let sum_result = verify_sum_file(
        sum_text.as_deref(),
        directory,
        files.iter().map(|f| (f.rel.as_str(), f.bytes.as_slice())),
    );
    if let Err(e) = sum_result {
        sum_messages(e, shown, sum_text.is_none() && sum_path.exists(), problems);
    }
}

/// The macro's output: the files included (so that cargo rebuilds when one changes),
/// the Rust migrations' modules, and the migrations as static data.
fn emit(
    input: &Input,
    dir: &Path,
    files: &[File],
    directory: &ScriptDirectory,
    shown: &Shown,
) -> syn::Result<TokenStream2> {
    let span = input.path.span();
    let sum_path = dir.join(SUM_FILE);
    // The output is written as Rust source and lexed once: for 10,000 migrations this
    // is several times faster than building it token by token.
    let mut out = String::with_capacity(files.iter().map(|f| f.bytes.len() + 512).sum());
    out.push('{');
    for file in files {
        push_include(&mut out, &file.abs, &shown.file(&file.rel), span)?;
    }
    if sum_path.exists() {
        push_include(&mut out, &sum_path, &shown.file(SUM_FILE), span)?;
    }
    // Rust migrations: each file a module of the application, type-checked with it,
    // and its functions behind plain function pointers.
    let abs_of: HashMap<&str, &Path> = files
        .iter()
        .map(|f| (f.rel.as_str(), f.abs.as_path()))
        .collect();
    for (i, script) in directory.scripts.iter().enumerate() {
        if script.is_rust() {
            let abs = abs_of.get(&*script.path).copied().unwrap_or(Path::new(""));
            push_rust_module(&mut out, i, script, abs, &shown.file(&script.path), span)?;
        }
    }
    // Short paths for what the data names, inside the block only.
    let _ = write!(out, "use ::migrate_runtime::__private as {P};");
    // One `const` per migration: each is type-checked on its own. A single expression
    // holding every migration makes rustc's type checking grow faster than linearly
    // (about a minute for 10,000 migrations).
    for (i, script) in directory.scripts.iter().enumerate() {
        let _ = write!(out, "const __MIGRATION_{i}: {P}::Script = ");
        push_script(&mut out, script);
        out.push(';');
    }
    // Statics rather than borrowed temporaries: a script owns its text when it is not
    // static data, so a temporary of it would not be promoted to `'static`.
    let n = directory.scripts.len();
    let _ = write!(out, "static __MIGRATIONS: [{P}::Script; {n}] = [");
    for i in 0..n {
        let _ = write!(out, "__MIGRATION_{i},");
    }
    out.push_str("];");
    push_rust_table(&mut out, directory);
    let _ = write!(
        out,
        "{P}::EmbeddedMigrations {{ migrations: &__MIGRATIONS, rust: &__RUST, allow_multiple_heads: {} }} }}",
        input.allow_multiple_heads
    );
    out.parse().map_err(|e| {
        syn::Error::new(
            span,
            format!("embed_migrations! produced invalid code, please report it: {e}"),
        )
    })
}

/// `static __RUST`: each Rust migration's revision and its functions.
fn push_rust_table(out: &mut String, directory: &ScriptDirectory) {
    let rust: Vec<(usize, &Script)> = directory
        .scripts
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_rust())
        .collect();
    let _ = write!(
        out,
        "static __RUST: [(&str, {P}::RustMigration); {}] = [",
        rust.len()
    );
    for (i, script) in rust {
        out.push('(');
        push_str_lit(out, &script.revision);
        let _ = write!(
            out,
            ", {P}::RustMigration {{ upgrade: __migration_{i}_upgrade, downgrade: "
        );
        if script.is_reversible() {
            let _ = write!(
                out,
                "::core::option::Option::Some(__migration_{i}_downgrade)"
            );
        } else {
            out.push_str("::core::option::Option::None");
        }
        out.push_str(" }),");
    }
    out.push_str("];");
}

struct File {
    rel: String,
    abs: PathBuf,
    bytes: Vec<u8>,
}

fn read_folder(dir: &Path, shown: &Shown) -> Result<Vec<File>, String> {
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a folder"
        } else {
            "does not exist"
        };
        return Err(format!(
            "versions folder `{}` {what} (the path is resolved against the crate's CARGO_MANIFEST_DIR); create it with `migrate init` or fix the path",
            shown.dir()
        ));
    }
    // The loader's own refusals (named pipes, names that are not UTF-8 or hold control
    // characters, folder loops), so the macro accepts exactly what the CLI accepts.
    let listed = scan(dir).map_err(|e| load_error_message(e, dir, shown))?;
    let mut files = Vec::with_capacity(listed.len());
    for (rel, abs) in listed {
        let bytes = read_regular_file(&abs).map_err(|e| load_error_message(e, dir, shown))?;
        files.push(File { rel, abs, bytes });
    }
    Ok(files)
}

fn load_error_message(e: LoadError, dir: &Path, shown: &Shown) -> String {
    match e {
        LoadError::Io { path, source } => {
            let rel = path
                .strip_prefix(dir)
                .ok()
                .and_then(|p| p.to_str())
                .filter(|p| !p.is_empty());
            let name = match rel {
                Some(r) => shown.file(&r.replace('\\', "/")),
                None => shown.dir().to_string(),
            };
            format!("cannot read `{name}`: {source}")
        }
        // Paths as the literal names them, not the absolute ones the loader walked.
        other => other
            .map_paths(|p| match p.strip_prefix(dir) {
                Ok(r) if r.as_os_str().is_empty() => PathBuf::from(shown.dir()),
                Ok(r) => PathBuf::from(shown.file(&r.to_string_lossy().replace('\\', "/"))),
                Err(_) => p,
            })
            .to_string(),
    }
}

fn parse_message(mut e: ParseError, shown: &Shown) -> String {
    e.path = shown.file(&e.path);
    e.to_string()
}

fn graph_message(mut g: GraphError, shown: &Shown, files_of: &HashMap<String, String>) -> String {
    match &mut g {
        GraphError::DuplicateRevision { first, second, .. } => {
            shown.origin(first);
            shown.origin(second);
        }
        GraphError::MissingParent { origin, .. }
        | GraphError::MissingDependency { origin, .. }
        | GraphError::DuplicateBranchLabel { origin, .. }
        | GraphError::BadBranchLabel { origin, .. }
        | GraphError::InvalidId { origin, .. } => shown.origin(origin),
        _ => {}
    }
    let members = match &g {
        GraphError::Cycle(ids) | GraphError::DependencyCycle(ids) => Some(ids.clone()),
        GraphError::SelfReference(id) => Some(vec![id.clone()]),
        _ => None,
    };
    let mut msg = g.to_string();
    if let Some(ids) = members {
        let files: Vec<String> = ids
            .iter()
            .filter_map(|id| files_of.get(id).map(|f| format!("`{f}`")))
            .collect();
        if !files.is_empty() {
            msg.push_str(&format!(" (in {})", files.join(", ")));
        }
    }
    msg
}

fn multiple_heads_message(d: &ScriptDirectory, heads: &[&str], shown: &Shown) -> String {
    let listed: Vec<String> = heads
        .iter()
        .map(|h| match d.script(h) {
            Some(s) => format!("`{h}` (`{}`)", shown.file(&s.path)),
            None => format!("`{h}`"),
        })
        .collect();
    format!(
        "multiple heads in `{}`: {}; a binary must know what `head` means: run `migrate merge heads -m \"...\"` to merge them, or write `embed_migrations!(\"{}\", allow_multiple_heads)` to accept several heads",
        shown.dir(),
        listed.join(", "),
        shown.dir(),
    )
}

fn sum_messages(e: SumError, shown: &Shown, unreadable: bool, problems: &mut Problems) {
    let sum = shown.file(SUM_FILE);
    match e {
        SumError::MissingSumFile => {
            if !unreadable {
                problems.push(format!(
                    "no `{sum}`: the macro checks every migration against it; run `migrate hash` to create it"
                ));
            }
        }
        SumError::Malformed { line, found } => problems.push(format!(
            "{sum}:{line}: expected `<sha256 hex>  <path>`, found {found:?}; run `migrate hash` to rewrite it"
        )),
        SumError::Mismatch(all) => {
            for m in all {
                let m = match m {
                    SumMismatch::NotListed(p) => SumMismatch::NotListed(shown.file(&p)),
                    SumMismatch::Absent(p) => SumMismatch::Absent(shown.file(&p)),
                    SumMismatch::Changed(p) => SumMismatch::Changed(shown.file(&p)),
                    other => other,
                };
                problems.push(m.to_string());
            }
        }
        other => problems.push(format!("{sum}: {other}")),
    }
}

/// `const _: &[u8] = include_bytes!("<abs>");` so cargo rebuilds when the file changes.
fn push_include(out: &mut String, abs: &Path, shown: &str, span: Span) -> syn::Result<()> {
    let Some(path) = abs.to_str() else {
        return Err(syn::Error::new(
            span,
            format!(
                "the path of `{shown}` is not valid UTF-8, so it cannot be passed to include_bytes!"
            ),
        ));
    };
    out.push_str("const _: &[u8] = ::core::include_bytes!(");
    push_str_lit(out, path);
    out.push_str(");");
    Ok(())
}

/// A Rust string literal: `Debug` of `str` is valid literal syntax.
fn push_str_lit(out: &mut String, s: &str) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{s:?}");
}

/// `Cow::Borrowed(&[..])` of a list of a script, each item written by `item`.
fn push_list<T>(out: &mut String, items: &[T], mut item: impl FnMut(&mut String, &T)) {
    let _ = write!(out, "{P}::Cow::Borrowed(&[");
    for x in items {
        item(out, x);
        out.push(',');
    }
    out.push_str("])");
}

/// `Cow::Borrowed("..")`: text of a script.
fn push_text(out: &mut String, s: &str) {
    let _ = write!(out, "{P}::Cow::Borrowed(");
    push_str_lit(out, s);
    out.push(')');
}

/// A Rust migration: `#[path = "<file>"] mod __migration_<i>;` and one wrapper per
/// function, boxing its future, whose signature is the one the runtime calls: a
/// function with another signature fails to compile here.
fn push_rust_module(
    out: &mut String,
    i: usize,
    s: &Script,
    abs: &Path,
    shown: &str,
    span: Span,
) -> syn::Result<()> {
    let Some(path) = abs.to_str() else {
        return Err(syn::Error::new(
            span,
            format!("the path of `{shown}` is not valid UTF-8, so it cannot be a module's #[path]"),
        ));
    };
    out.push_str("#[path = ");
    push_str_lit(out, path);
    let _ = write!(out, "] mod __migration_{i};");
    let mut functions = vec!["upgrade"];
    if s.is_reversible() {
        functions.push("downgrade");
    }
    for f in functions {
        let _ = write!(
            out,
            "fn __migration_{i}_{f}<'a, 'c>(ctx: &'a mut ::migrate_runtime::__private::MigrationContext<'c>) -> ::migrate_runtime::__private::MigrationFuture<'a> {{ ::std::boxed::Box::pin(__migration_{i}::{f}(ctx)) }}"
        );
    }
    Ok(())
}

/// A [`Script`] literal whose text is borrowed from the binary.
fn push_script(out: &mut String, s: &Script) {
    let _ = write!(out, "{P}::Script {{ path: ");
    push_text(out, &s.path);
    out.push_str(", revision: ");
    push_text(out, &s.revision);
    for (field, ids) in [
        ("down_revisions", &s.down_revisions),
        ("branch_labels", &s.branch_labels),
        ("depends_on", &s.depends_on),
    ] {
        let _ = write!(out, ", {field}: ");
        push_list(out, ids, |out, id| push_text(out, id));
    }
    out.push_str(", message: ");
    push_text(out, &s.message);
    out.push_str(", create_date: ");
    match &s.create_date {
        Some(d) => {
            out.push_str("::core::option::Option::Some(");
            push_text(out, d);
            out.push(')');
        }
        None => out.push_str("::core::option::Option::None"),
    }
    let _ = write!(out, ", transactional: {}, extra_fields: ", s.transactional);
    push_list(out, &s.extra_fields, |out, (k, v)| {
        out.push('(');
        push_text(out, k);
        out.push(',');
        push_text(out, v);
        out.push(')');
    });
    for (field, sections) in [("upgrade", &s.upgrade), ("downgrade", &s.downgrade)] {
        let _ = write!(out, ", {field}: ");
        push_list(out, sections, push_section);
    }
    // One byte-string token rather than 32 integer literals.
    let _ = write!(out, ", checksum: {P}::Checksum(*b\"");
    for b in s.checksum.0 {
        let _ = write!(out, "\\x{b:02x}");
    }
    // `Debug` of these enums is the variant's name.
    let _ = write!(out, "\"), kind: {P}::ScriptKind::{:?} }}", s.kind);
}

fn push_section(out: &mut String, s: &Section) {
    let _ = write!(out, "{P}::Section {{ dialect: ");
    match s.dialect {
        Some(d) => {
            let _ = write!(out, "::core::option::Option::Some({P}::Dialect::{d:?})");
        }
        None => out.push_str("::core::option::Option::None"),
    }
    out.push_str(", sql: ");
    push_text(out, &s.sql);
    // Suffixed: unsuffixed integers are inference variables, slow in large statics.
    let _ = write!(out, ", line: {}usize }}", s.line);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader's refusals reach the macro with paths as the literal names them.
    #[cfg(unix)]
    #[test]
    fn refused_entries_are_named_relative_to_the_crate() {
        let root =
            std::env::temp_dir().join(format!("migrate-macros-refused-{}", std::process::id()));
        let dir = root.join("migrations");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.sql"),
            "-- a\n-- revision: a\n-- down_revision:\n\n-- migrate:upgrade\nSELECT 1;\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(".", dir.join("self")).unwrap();
        let shown = Shown::new("migrations");
        let loop_error = read_folder(&dir, &shown).err();
        std::fs::remove_file(dir.join("self")).unwrap();
        std::fs::write(dir.join("b\n.sql"), "x").unwrap();
        let name_error = read_folder(&dir, &shown).err();
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(
            loop_error.as_deref(),
            Some("`migrations/self` leads back to `migrations`, a folder that contains it, so the folder walk would never end; remove the link")
        );
        assert_eq!(
            name_error.as_deref(),
            Some(
                "the name of `migrations/b\\n.sql` contains the control character '\\n'; rename it"
            )
        );
    }
}
