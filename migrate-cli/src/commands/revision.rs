//! `migrate revision`: a new revision file from the template, and the sum updated.

use crate::cli::RevisionArgs;
use crate::error::CliError;
use crate::schema::{guarded_in, SchemaSource, Scratches, Sources};
use crate::target::{update_sum, Ctx, Target};
use crate::templates;
use migrate_core::{validate_revision_id, Dialect, Script, ScriptDirectory};
use migrate_runtime::schema::model::{diff, render, RenderOptions, Schema};
use migrate_runtime::schema::{SchemaError, Scratch, ScratchOn};
use migrate_runtime::testing::replay;
use migrate_runtime::Migrator;
use std::path::{Component, Path, PathBuf};

/// Creates a revision on `--head` (default `head`).
pub(crate) fn run(ctx: &mut Ctx<'_>, args: RevisionArgs) -> Result<(), CliError> {
    let (t, m) = ctx.file_target("revision")?;
    let t = &t;
    let map = &m.directory().map;
    let parents: Vec<String> = match args.head.as_deref() {
        None | Some("head") => {
            let heads = map.heads();
            if heads.len() > 1 {
                return Err(CliError::MultipleHeads(
                    heads.iter().map(|s| s.to_string()).collect(),
                ));
            }
            heads.iter().map(|s| s.to_string()).collect()
        }
        Some(h) => map.resolve(h)?.iter().map(|s| s.to_string()).collect(),
    };
    if !args.splice {
        for p in &parents {
            if map.get(p).is_some_and(|r| !r.is_head()) {
                return Err(CliError::NotAHead(p.clone()));
            }
        }
    }
    let mut depends_on = Vec::new();
    for d in &args.depends_on {
        for d in d.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            if map.branch_labels().iter().any(|(l, _)| *l == d) {
                depends_on.push(d.to_string());
            } else {
                match map.resolve_one(d)? {
                    Some(id) => depends_on.push(id.to_string()),
                    None => {
                        return Err(
                            migrate_core::RevisionError::NoSuchRevision(d.to_string()).into()
                        )
                    }
                }
            }
        }
    }
    let new = NewRevision {
        message: args.message,
        parents,
        branch_labels: args.branch_label,
        depends_on,
        rev_id: args.rev_id,
        version_path: args.version_path,
        fill: None,
        rust: args.rust,
    };
    if !args.autogenerate {
        return create(ctx, t, &m, new).map(|_| ());
    }
    autogenerate(
        ctx,
        t,
        &m,
        new,
        &Autogenerate {
            schema: args.schema.as_ref(),
            allow_destructive: args.allow_destructive,
            also: &args.also,
            verify: !args.no_verify,
        },
    )
}

/// The `--autogenerate` options.
#[derive(Clone, Copy)]
struct Autogenerate<'a> {
    schema: Option<&'a PathBuf>,
    allow_destructive: bool,
    also: &'a [String],
    verify: bool,
}

/// What verifying a revision on one kind of database needs: the scratch server, the
/// scratch database already at the revision's parents (the one the parents' schema was
/// read from, when it was), and the schemas its downgrade and upgrade should give.
struct Check {
    on: ScratchOn,
    at_parents: Option<Scratch>,
    want_down: Schema,
    want_up: Schema,
}

/// Another database's sections of a new revision: `(database, upgrade, downgrade)`.
pub(crate) type OtherSection = (Dialect, String, String);

/// `revision --autogenerate`: the DDL from the schema the migrations produce at the new
/// revision's parents to the declared schema, written into the new revision, which is
/// then verified on the scratch database the parents' schema was read from: its upgrade
/// must give the declared schema and its downgrade the parents' schema back. A revision
/// that fails verification is still written, with the failure in a comment block above
/// its upgrade section. The scratch databases are dropped on every path.
fn autogenerate(
    ctx: &mut Ctx<'_>,
    t: &Target,
    m: &Migrator,
    new: NewRevision,
    opts: &Autogenerate<'_>,
) -> Result<(), CliError> {
    let scratches = Scratches::default();
    let result = autogenerate_in(ctx, t, m, new, opts, &scratches);
    let dropped = ctx.block_on(scratches.drop_all());
    result?;
    dropped?
}

fn autogenerate_in(
    ctx: &mut Ctx<'_>,
    t: &Target,
    m: &Migrator,
    mut new: NewRevision,
    opts: &Autogenerate<'_>,
    scratches: &Scratches,
) -> Result<(), CliError> {
    ctx.require_embedded_files(t, m)?;
    let dialect = t.dialect()?;
    let sources = Sources::of(ctx, t, opts.schema)?;
    let (own_section, also) =
        sections_to_write(sources.declared()?, m.directory(), dialect, opts.also)?;
    let (from, to, at_parents) = parents_and_declared(
        ctx,
        scratches,
        sources.clone(),
        new.parents.clone(),
        opts.verify,
    )?;
    let changes = diff(&from, &to).map_err(SchemaError::from)?;
    if changes.is_empty() {
        ctx.printer.info(
            "No changes in schema detected: the migrations already produce the declared schema; no revision written.",
        );
        return Ok(());
    }
    let options = RenderOptions {
        allow_destructive: opts.allow_destructive,
    };
    let rendered = render(&changes, &from, &to, dialect, &options)?;
    for w in changes.warnings.iter().chain(&rendered.warnings) {
        ctx.printer.info(format!("warning: {w}"));
    }
    for c in &changes.changes {
        ctx.printer.info(format!("Detected {}", c.describe()));
    }
    let (extra, mut checks) = other_sections(
        ctx,
        scratches,
        &sources,
        &also,
        dialect,
        &new.parents,
        &options,
        opts.verify,
    )?;
    checks.insert(
        0,
        Check {
            on: sources.scratch_on.clone(),
            at_parents,
            want_down: from,
            want_up: to,
        },
    );
    new.fill = Some(Fill {
        upgrade: rendered.upgrade,
        downgrade: rendered.downgrade,
        preamble: None,
        own_section,
        extra,
    });
    let path = create(ctx, t, m, new.clone())?;
    if let Some(own) = own_section {
        say_sections(ctx, own, &also);
    }
    if !opts.verify {
        return Ok(());
    }
    verify_written(ctx, scratches, &sources, t, &path, checks, &new.parents)
}

/// The schema the migrations produce at `parents` and the declared schema, each read on
/// a scratch database where `sources` makes them (or from the model cache). With
/// `keep`, the migrations are replayed whatever the cache holds, and the scratch
/// database at the parents is kept (in `scratches`) to verify the revision on.
fn parents_and_declared(
    ctx: &mut Ctx<'_>,
    scratches: &Scratches,
    sources: Sources,
    parents: Vec<String>,
    keep: bool,
) -> Result<(Schema, Schema, Option<Scratch>), CliError> {
    guarded_in(ctx, scratches, move |scratches| async move {
        let from = async {
            if keep {
                let (schema, scratch) = sources.replayed_kept(&parents, &scratches).await?;
                Ok::<_, CliError>((schema, Some(scratch)))
            } else {
                Ok((sources.migrations_at(&parents, &scratches).await?, None))
            }
        };
        // `join!`: a failure must not cancel the other halfway through creating
        // a scratch database, which would then never be dropped.
        let (from, to) = tokio::join!(from, sources.read(&SchemaSource::Declared, &scratches));
        let ((from, scratch), to) = (from?, to?);
        Ok((from, to, scratch))
    })
}

/// Sections for other databases, each computed on a scratch database of its own
/// kind (the server `--also URL` names), so that types and defaults are that
/// database's own; with what verifying each should find.
#[allow(clippy::too_many_arguments)]
fn other_sections(
    ctx: &mut Ctx<'_>,
    scratches: &Scratches,
    sources: &Sources,
    also: &[String],
    dialect: Dialect,
    parents: &[String],
    options: &RenderOptions,
    keep: bool,
) -> Result<(Vec<OtherSection>, Vec<Check>), CliError> {
    let mut extra = Vec::new();
    let mut checks = Vec::new();
    for url in also {
        let other = crate::target::dialect_of(url)?;
        if other == dialect || extra.iter().any(|(d, _, _)| *d == other) {
            continue;
        }
        // Named for scratch work, as a dev database is.
        let on = ScratchOn::dev(url.as_str());
        let theirs = sources.on(url, on.clone());
        let (from, to, at_parents) =
            parents_and_declared(ctx, scratches, theirs, parents.to_vec(), keep)?;
        let changes = diff(&from, &to).map_err(SchemaError::from)?;
        let r = render(&changes, &from, &to, other, options)?;
        extra.push((other, r.upgrade, r.downgrade));
        checks.push(Check {
            on,
            at_parents,
            want_down: from,
            want_up: to,
        });
    }
    Ok((extra, checks))
}

/// Says which databases' sections a project with per-database sections got.
fn say_sections(ctx: &mut Ctx<'_>, own: Dialect, also: &[String]) {
    let mut written = vec![own];
    for d in also
        .iter()
        .filter_map(|u| crate::target::dialect_of(u).ok())
    {
        if !written.contains(&d) {
            written.push(d);
        }
    }
    let written: Vec<String> = written.iter().map(|d| d.to_string()).collect();
    ctx.printer.info(format!(
        "The project has per-database sections: the revision has sections for {} and none shared (a database without its own cannot run it; `--also URL` adds one).",
        written.join(", ")
    ));
}

/// Verifies the revision written at `path`: applied after its parents it gives the
/// declared schema, and its downgrade gives the parents' schema back, on the scratch
/// database of each kind in `checks` already at the parents (else on a new one, the
/// parents replayed first).
fn verify_written(
    ctx: &mut Ctx<'_>,
    scratches: &Scratches,
    sources: &Sources,
    t: &Target,
    path: &Path,
    checks: Vec<Check>,
    parents: &[String],
) -> Result<(), CliError> {
    let verifier = ctx.migrator(t)?;
    let rel = path
        .strip_prefix(t.location())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let Some(rev) = verifier
        .directory()
        .scripts
        .iter()
        .find(|s| s.path == rel)
        .map(|s| s.revision.clone())
    else {
        return Ok(());
    };
    let mut problem = Vec::new();
    for check in checks {
        let (verifier, rev, parents) = (verifier.clone(), rev.clone(), parents.to_vec());
        let kind = crate::target::dialect_of(check.on.server_url())?;
        let progress = sources.progress.clone();
        let found = guarded_in(ctx, scratches, move |scratches| async move {
            let _phase = progress.phase(format!("Verifying the revision on {kind}"));
            let scratch = match check.at_parents {
                Some(s) => s,
                None => {
                    let s = scratches.create(&check.on).await?;
                    if let Err(e) = replay(&verifier, s.database(), &parents).await {
                        s.drop().await?;
                        return Err(e.into());
                    }
                    s
                }
            };
            let found = verify_revision(
                &verifier,
                scratch.database(),
                &rev,
                &check.want_up,
                &check.want_down,
            )
            .await;
            scratch.drop().await?;
            found
        })?;
        problem.extend(found.into_iter().map(|p| format!("on {kind}, {p}")));
    }
    if problem.is_empty() {
        ctx.printer.info("Verified on a scratch database of each kind: the upgrade gives the declared schema and the downgrade gives the previous one back.");
        return Ok(());
    }
    Err(mark_unverified(ctx, t, path, &rel, problem.join("; "))?)
}

/// Writes `problem` in a comment block above the revision's upgrade section, where a
/// reviewer sees it first, and updates the sum; returns the error that reports it.
fn mark_unverified(
    ctx: &mut Ctx<'_>,
    t: &Target,
    path: &Path,
    rel: &str,
    problem: String,
) -> Result<CliError, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io("read", path, e))?;
    let preamble = format!(
        "-- autogenerate: could not verify this revision on a scratch database:\n{}\n-- Review and fix it before applying it.\n",
        problem
            .lines()
            .map(|l| format!("--   {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let text = insert_preamble(&text, &preamble);
    std::fs::write(path, &text).map_err(|e| CliError::io("write", path, e))?;
    let checksum = migrate_core::Checksum::of(text.as_bytes());
    let reloaded = ctx.migrator(t)?;
    let checksum = reloaded
        .directory()
        .scripts
        .iter()
        .find(|s| s.path == rel)
        .map_or(checksum, |s| s.checksum);
    update_sum(t.location(), reloaded.directory(), |sum| {
        sum.entries.insert(rel.to_string(), checksum);
    })?;
    Ok(CliError::AutogenerateUnverified {
        path: path.to_path_buf(),
        problem,
    })
}

/// Where autogenerate writes each database's DDL. A project on several databases (a
/// declared schema with per-database sections, `-- migrate:schema postgres`, or
/// migrations with them, `-- migrate:upgrade postgres`) is written the same way: the
/// target's DDL goes into the target's own section (returned: `Some(dialect)`), never
/// the shared one another database would run, and every other database with a section
/// gets one too, computed on a scratch database of its kind: the server an `--also` URL
/// names, or an in-memory one for SQLite (added to the returned `--also` URLs). A
/// single-database project keeps the shared sections as before (`None`).
///
/// # Errors
/// [`CliError::AlsoNeeded`], naming every server with a section and no `--also` URL,
/// before anything is computed or written.
fn sections_to_write(
    declared: &migrate_runtime::schema::model::DeclaredSchema,
    migrations: &migrate_core::ScriptDirectory,
    dialect: Dialect,
    also: &[String],
) -> Result<(Option<Dialect>, Vec<String>), CliError> {
    let in_schema = declared.files.iter().flat_map(|f| {
        f.sections
            .iter()
            .filter_map(|s| s.dialect)
            .map(|d| (d, format!("the declared schema's `{}`", f.path)))
    });
    let in_migrations = migrations.scripts.iter().flat_map(|s| {
        s.upgrade
            .iter()
            .chain(s.downgrade.iter())
            .filter_map(|sec| sec.dialect)
            .map(|d| (d, format!("migration `{}`", s.path)))
    });
    let mut also = also.to_vec();
    let mut sectioned = false;
    let mut needed: Vec<(Dialect, String)> = Vec::new();
    for (other, place) in in_schema.chain(in_migrations) {
        sectioned = true;
        let given = also
            .iter()
            .any(|u| crate::target::dialect_of(u).is_ok_and(|d| d == other));
        if other == dialect || given || needed.iter().any(|(d, _)| *d == other) {
            continue;
        }
        match other {
            Dialect::Sqlite => also.push("sqlite::memory:".to_string()),
            Dialect::Postgres | Dialect::Mysql => needed.push((other, place)),
        }
    }
    if !needed.is_empty() {
        return Err(CliError::AlsoNeeded { needed });
    }
    Ok((sectioned.then_some(dialect), also))
}

/// Applies `rev` on `db` (a scratch database at its parents) and takes it back down,
/// comparing each side with what it should give; returns what differs.
async fn verify_revision(
    verifier: &Migrator,
    db: &migrate_runtime::Database,
    rev: &str,
    want_up: &migrate_runtime::schema::model::Schema,
    want_down: &migrate_runtime::schema::model::Schema,
) -> Result<Vec<String>, CliError> {
    use migrate_core::Direction;
    use migrate_runtime::testing::live_schema;
    let mut problems = Vec::new();
    let sides = [
        (
            Direction::Upgrade,
            want_up,
            "after its upgrade the schema still differs from the declared one",
        ),
        (
            Direction::Downgrade,
            want_down,
            "its downgrade does not give back the previous schema",
        ),
    ];
    for (direction, want, differs) in sides {
        let ran = if direction == Direction::Upgrade {
            verifier.upgrade(db, rev).await
        } else {
            verifier.revert(db, rev).await
        };
        if let Err(e) = ran {
            problems.push(format!("its {direction} fails: {e}"));
            return Ok(problems);
        }
        let left = diff(&live_schema(verifier, db).await?, want).map_err(SchemaError::from)?;
        if !left.is_empty() {
            problems.push(format!("{differs}: {}", described(&left)));
        }
    }
    Ok(problems)
}

fn described(d: &migrate_runtime::schema::model::Diff) -> String {
    d.changes
        .iter()
        .map(|c| c.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

/// SQL to put into a new revision's sections.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fill {
    /// The upgrade section's SQL.
    pub upgrade: String,
    /// The downgrade section's SQL.
    pub downgrade: String,
    /// Comment lines above the upgrade section.
    pub preamble: Option<String>,
    /// The database `upgrade` and `downgrade` are for, when they go into its own
    /// sections (`-- migrate:upgrade postgres`) rather than the shared ones.
    pub own_section: Option<migrate_core::Dialect>,
    /// Sections for other databases.
    pub extra: Vec<OtherSection>,
}

/// Puts `fill`'s SQL under the template's `-- migrate:upgrade` and
/// `-- migrate:downgrade` lines (adding the downgrade section if the template has
/// none); with `own_section`, those lines become that database's
/// (`-- migrate:upgrade postgres`), so that no database runs another's DDL.
fn fill_sections(text: &str, fill: &Fill) -> String {
    let mut out = String::with_capacity(text.len() + fill.upgrade.len() + fill.downgrade.len());
    let (mut up_done, mut down_done) = (false, false);
    let own = fill.own_section.map_or(String::new(), |d| format!(" {d}"));
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        // The section's line, then its statements.
        let section = |out: &mut String, body: &str| {
            out.push_str(bare);
            out.push_str(&own);
            out.push_str(match &line[bare.len()..] {
                "" => "\n",
                ending => ending,
            });
            out.push_str(body.trim_end());
            out.push('\n');
        };
        if !up_done && bare == "-- migrate:upgrade" {
            if let Some(p) = &fill.preamble {
                out.push_str(p);
                out.push('\n');
            }
            section(&mut out, &fill.upgrade);
            up_done = true;
            continue;
        }
        if !down_done && bare == "-- migrate:downgrade" {
            section(&mut out, &fill.downgrade);
            down_done = true;
            continue;
        }
        out.push_str(line);
    }
    if !up_done {
        out.push_str(&format!(
            "\n-- migrate:upgrade{own}\n{}\n",
            fill.upgrade.trim_end()
        ));
    }
    if !down_done {
        out.push_str(&format!(
            "\n-- migrate:downgrade{own}\n{}\n",
            fill.downgrade.trim_end()
        ));
    }
    for (dialect, up, down) in &fill.extra {
        out.push_str(&format!(
            "\n-- migrate:upgrade {dialect}\n{}\n\n-- migrate:downgrade {dialect}\n{}\n",
            up.trim_end(),
            down.trim_end()
        ));
    }
    out
}

/// Puts comment lines just above the `-- migrate:upgrade` line.
fn insert_preamble(text: &str, preamble: &str) -> String {
    match text.find("\n-- migrate:upgrade") {
        Some(i) => format!("{}\n{preamble}{}", &text[..i], &text[i..]),
        None => format!("{preamble}{text}"),
    }
}

/// What to write.
#[derive(Clone)]
pub(crate) struct NewRevision {
    pub message: Option<String>,
    pub parents: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub rev_id: Option<String>,
    pub version_path: Option<PathBuf>,
    /// SQL for the sections (autogenerate); `None` leaves the template's empty ones.
    pub fill: Option<Fill>,
    /// A Rust migration (`.rs`, from the built-in Rust template).
    pub rust: bool,
}

/// Renders, validates and writes a new revision; updates `migrations.sum`.
pub(crate) fn create(
    ctx: &mut Ctx<'_>,
    t: &Target,
    m: &Migrator,
    new: NewRevision,
) -> Result<PathBuf, CliError> {
    let dir = m.directory();
    let rev = new_revision_id(dir, new.rev_id.clone())?;
    let labels = new_labels(dir, &new.branch_labels)?;
    let now = Utc::now();
    let message = new.message.clone().unwrap_or_default();
    let shown_message = if message.trim().is_empty() {
        "empty message".to_string()
    } else {
        message.replace(['\r', '\n'], " ")
    };
    let mut vars: Vec<(String, String)> = vec![
        ("message".into(), shown_message),
        ("up_revision".into(), rev.clone()),
        ("down_revision".into(), new.parents.join(", ")),
        ("branch_labels".into(), labels.join(", ")),
        ("depends_on".into(), new.depends_on.join(", ")),
        ("create_date".into(), now.datetime()),
    ];
    vars.extend(ctx.x.iter().cloned());
    let (template_name, template_text) = revision_template(t, new.rust)?;
    let text: String = render_template(&template_text, &vars, &template_name)?
        .split_inclusive('\n')
        .map(|l| {
            let body = l.trim_end_matches(['\n', '\r']);
            format!("{}{}", body.trim_end(), &l[body.len()..])
        })
        .collect();
    let text = match &new.fill {
        Some(fill) => fill_sections(&text, fill),
        None => text,
    };
    let location = t.location();
    let subdir = version_subdir(&new, dir, location)?;
    let file_name = new_file_name(ctx, t, &rev, &message, &now, new.rust)?;
    let rel = if subdir.is_empty() {
        file_name
    } else {
        format!("{subdir}/{file_name}")
    };
    let checksum = check_new_script(dir, &rel, &text, &rev, &new.parents, template_name)?;
    let path = location.join(&rel);
    if !normalize(&path).starts_with(normalize(location)) {
        return Err(CliError::VersionPath {
            path,
            versions: location.to_path_buf(),
        });
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CliError::io("create", parent, e))?;
    }
    write_new(&path, &text)?;
    update_sum(location, dir, |sum| {
        sum.entries.insert(rel.clone(), checksum);
    })?;
    ctx.printer
        .status(format!("Generating {} ...  done", path.display()));
    ctx.files_changed();
    Ok(path)
}

/// The new revision's id: `--rev-id`, which must be valid and new, else a random one.
fn new_revision_id(dir: &ScriptDirectory, rev_id: Option<String>) -> Result<String, CliError> {
    let map = &dir.map;
    match rev_id {
        Some(id) => {
            validate_revision_id(&id)?;
            if map.get(&id).is_some() {
                return Err(CliError::RevisionExists(id));
            }
            Ok(id)
        }
        None => loop {
            let id = random_id();
            if map.get(&id).is_none() {
                break Ok(id);
            }
        },
    }
}

/// The `--branch-label` values (each may list several, comma-separated), none of them
/// already some revision's.
fn new_labels(dir: &ScriptDirectory, branch_labels: &[String]) -> Result<Vec<String>, CliError> {
    let labels: Vec<String> = branch_labels
        .iter()
        .flat_map(|l| l.split(','))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    for l in &labels {
        if let Some((_, owner)) = dir.map.branch_labels().into_iter().find(|(x, _)| x == l) {
            return Err(CliError::LabelExists {
                label: l.clone(),
                revision: owner.to_string(),
            });
        }
    }
    Ok(labels)
}

/// The revision template's name (for messages) and text: the built-in Rust one for a
/// Rust migration, else the section's `revision_template`, else the built-in SQL one.
fn revision_template(t: &Target, rust: bool) -> Result<(String, String), CliError> {
    Ok(match &t.section.revision_template {
        _ if rust => (
            "<built-in Rust template>".to_string(),
            templates::RUST_REVISION_TEMPLATE.to_string(),
        ),
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p).map_err(|e| CliError::io("read", p, e))?,
        ),
        None => (
            "<built-in>".to_string(),
            templates::default_revision_template().to_string(),
        ),
    })
}

/// The folder of the new revision inside the versions folder: `--version-path`, else the
/// folder of the first parent, else the top.
fn version_subdir(
    new: &NewRevision,
    dir: &ScriptDirectory,
    location: &Path,
) -> Result<String, CliError> {
    Ok(match &new.version_path {
        Some(p) => {
            let abs = normalize(&absolute(p)?);
            let root = normalize(&absolute(location)?);
            let rel = abs.strip_prefix(&root).map_err(|_| CliError::VersionPath {
                path: p.clone(),
                versions: location.to_path_buf(),
            })?;
            rel.to_string_lossy().replace('\\', "/")
        }
        None => new
            .parents
            .first()
            .and_then(|p| dir.script(p))
            .and_then(|s| s.path.rsplit_once('/').map(|(d, _)| d.to_string()))
            .unwrap_or_default(),
    })
}

/// The new file's name from the section's `file_template`, refused when it would leave
/// the versions folder.
fn new_file_name(
    ctx: &Ctx<'_>,
    t: &Target,
    rev: &str,
    message: &str,
    now: &Utc,
    rust: bool,
) -> Result<String, CliError> {
    let file_name = format!(
        "{}{}",
        file_name(&t.section.file_template, rev, &slug(message), now).map_err(|message| {
            CliError::Config {
                path: ctx.config_path(),
                line: None,
                message,
            }
        })?,
        if rust { ".rs" } else { ".sql" }
    );
    if let Some(problem) = file_name_problem(&file_name) {
        return Err(CliError::Config {
            path: ctx.config_path(),
            line: None,
            message: format!(
                "file_template {:?} gives `{}`, which {problem}; write a file name relative to the versions folder, such as \"%(rev)s_%(slug)s\"",
                t.section.file_template,
                file_name.escape_default()
            ),
        });
    }
    Ok(file_name)
}

/// Parses the rendered revision as the loader will and checks that it is `rev` on
/// `parents` and fits into the directory; returns its checksum.
fn check_new_script(
    dir: &ScriptDirectory,
    rel: &str,
    text: &str,
    rev: &str,
    parents: &[String],
    template_name: String,
) -> Result<migrate_core::Checksum, CliError> {
    let script = Script::parse(rel, text.as_bytes()).map_err(|errs| CliError::TemplateInvalid {
        template: template_name.clone(),
        problems: errs.iter().map(|e| e.to_string()).collect(),
    })?;
    if script.revision != rev || script.down_revisions != parents {
        return Err(CliError::TemplateInvalid {
            template: template_name,
            problems: vec!["the template must write `-- revision: ${up_revision}` and `-- down_revision: ${down_revision}`".into()],
        });
    }
    let checksum = script.checksum;
    let mut scripts = dir.scripts.clone();
    scripts.push(script);
    ScriptDirectory::from_scripts(scripts)?;
    Ok(checksum)
}

fn write_new(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => CliError::Exists(path.to_path_buf()),
            _ => CliError::io("create", path, e),
        })?;
    f.write_all(text.as_bytes())
        .map_err(|e| CliError::io("write", path, e))
}

/// `p` from the current directory. An empty path is the current directory itself, as
/// joining it to the current directory gives; `std::path::absolute` refuses it.
fn absolute(p: &Path) -> Result<PathBuf, CliError> {
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    std::path::absolute(p).map_err(|e| CliError::io("read", ".", e))
}

/// Removes `.` and `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Why a file name made from `file_template` cannot be a migration of the versions
/// folder: it leaves the folder, or the loader would skip or refuse it.
fn file_name_problem(name: &str) -> Option<String> {
    if name.starts_with(['/', '\\']) || Path::new(name).is_absolute() {
        return Some("is an absolute path, outside the versions folder".into());
    }
    if let Some(ch) = name.chars().find(|c| c.is_control()) {
        return Some(format!("contains the control character {ch:?}"));
    }
    if name.contains('\\') {
        return Some("contains `\\`; separate folders with `/`".into());
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.contains(&"..") {
        return Some("leaves the versions folder through `..`".into());
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Some("has an empty folder name".into());
    }
    if parts.iter().any(|p| p.starts_with('.')) {
        return Some(
            "is hidden (a name starting with `.`), and the loader skips hidden files and folders"
                .into(),
        );
    }
    None
}

/// Expands `${name}` and `${name:-default}` in a revision template: the revision's own
/// fields and `-x` values first, then the environment, as `migrate.toml` does.
pub(crate) fn render_template(
    text: &str,
    vars: &[(String, String)],
    template: &str,
) -> Result<String, CliError> {
    crate::config::interpolate(text, vars, &crate::config::env_var).map_err(|e| match e {
        crate::config::InterpolateError::Unset(name) => CliError::TemplateVariable {
            template: template.to_string(),
            name,
        },
        other => CliError::Config {
            path: template.into(),
            line: None,
            message: other.to_string(),
        },
    })
}

/// Alembic's slug: the message's words joined by `_`, lowercased, at most 40 characters.
pub(crate) fn slug(message: &str) -> String {
    let words: Vec<&str> = message
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut s = words.join("_").to_lowercase();
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(40).collect();
        s = match cut.rsplit_once('_') {
            Some((head, _)) => format!("{head}_"),
            None => cut,
        };
    }
    s
}

/// Expands Alembic's `file_template` tokens.
pub(crate) fn file_name(
    template: &str,
    rev: &str,
    slug: &str,
    now: &Utc,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('%') {
            // `%%(year)d` is how `alembic.ini` spells `%(year)d` (configparser's
            // escape): read it as the token; any other `%%` is a literal `%`.
            if !r.starts_with('(') {
                out.push('%');
                rest = r;
                continue;
            }
            rest = &rest[i + 1..];
            continue;
        }
        let bad = || format!("file_template: cannot read the token at {:?}", &rest[i..]);
        let inner = after.strip_prefix('(').ok_or_else(bad)?;
        let close = inner.find(')').ok_or_else(bad)?;
        let name = &inner[..close];
        let spec_and_rest = &inner[close + 1..];
        let conv = spec_and_rest.find(['s', 'd']).ok_or_else(bad)?;
        let spec = &spec_and_rest[..conv];
        let width: usize = spec
            .trim_start_matches('.')
            .trim_start_matches('0')
            .parse()
            .unwrap_or(0);
        let num = |n: u64| format!("{n:0width$}");
        let value = match name {
            "rev" => rev.to_string(),
            "slug" => slug.to_string(),
            "year" => num(now.year),
            "month" => num(now.month),
            "day" => num(now.day),
            "hour" => num(now.hour),
            "minute" => num(now.minute),
            "second" => num(now.second),
            "epoch" => now.epoch.to_string(),
            other => return Err(format!("file_template: unknown token `%({other})`; use rev, slug, year, month, day, hour, minute, second or epoch")),
        };
        out.push_str(&value);
        rest = &spec_and_rest[conv + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// The current UTC time, broken down (no date crate needed).
pub(crate) struct Utc {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
    epoch: u64,
}

impl Utc {
    pub(crate) fn now() -> Utc {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Utc::at(epoch)
    }

    pub(crate) fn at(epoch: u64) -> Utc {
        let days = (epoch / 86_400) as i64;
        let secs = epoch % 86_400;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u64;
        Utc {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            epoch,
        }
    }

    fn datetime(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_section_names_the_database_and_keeps_line_endings() {
        let fill = Fill {
            upgrade: "CREATE TABLE t (id serial);".into(),
            downgrade: "DROP TABLE t;".into(),
            own_section: Some(migrate_core::Dialect::Postgres),
            extra: vec![(
                migrate_core::Dialect::Sqlite,
                "CREATE TABLE t (id integer);".into(),
                "DROP TABLE t;".into(),
            )],
            ..Fill::default()
        };
        let text = "-- revision: a\r\n-- migrate:upgrade\r\n\r\n-- migrate:downgrade\r\n";
        assert_eq!(
            fill_sections(text, &fill),
            "-- revision: a\r\n-- migrate:upgrade postgres\r\nCREATE TABLE t (id serial);\n\r\n\
             -- migrate:downgrade postgres\r\nDROP TABLE t;\n\n\
             -- migrate:upgrade sqlite\nCREATE TABLE t (id integer);\n\n\
             -- migrate:downgrade sqlite\nDROP TABLE t;\n"
        );
        // Without it, the shared sections as before.
        let shared = Fill {
            own_section: None,
            extra: Vec::new(),
            ..fill
        };
        assert_eq!(
            fill_sections("-- migrate:upgrade\n\n-- migrate:downgrade\n", &shared),
            "-- migrate:upgrade\nCREATE TABLE t (id serial);\n\n-- migrate:downgrade\nDROP TABLE t;\n"
        );
    }

    #[test]
    fn slugs_like_alembic() {
        assert_eq!(
            slug("Add ticket priority column!"),
            "add_ticket_priority_column"
        );
        assert_eq!(slug(""), "");
        assert_eq!(
            slug("a very long message that goes on and on past forty characters"),
            "a_very_long_message_that_goes_on_and_on_"
        );
    }

    #[test]
    fn dates_and_file_names() {
        let t = Utc::at(1_736_937_000); // 2025-01-15 10:30:00
        assert_eq!(t.datetime(), "2025-01-15 10:30:00");
        assert_eq!(
            file_name("%(rev)s_%(slug)s", "abc", "x_y", &t).unwrap(),
            "abc_x_y"
        );
        assert_eq!(
            file_name("%(year)d_%(month).2d_%(day).2d-%(rev)s", "abc", "", &t).unwrap(),
            "2025_01_15-abc"
        );
        assert!(file_name("%(nope)s", "a", "", &t).is_err());
        // alembic.ini's escaped spelling, and a literal percent.
        assert_eq!(
            file_name("%%(year)d_%%(month).2d_%%(rev)s_%%(slug)s", "abc", "x", &t).unwrap(),
            file_name("%(year)d_%(month).2d_%(rev)s_%(slug)s", "abc", "x", &t).unwrap()
        );
        assert_eq!(
            file_name("100%%_%(rev)s", "abc", "", &t).unwrap(),
            "100%_abc"
        );
    }

    #[test]
    fn file_names_outside_the_versions_folder_are_refused() {
        assert_eq!(file_name_problem("abc_x.sql"), None);
        assert_eq!(file_name_problem("2025/01/abc_x.sql"), None);
        assert_eq!(file_name_problem("a..b.sql"), None);
        for (name, problem) in [
            ("../../x_abc.sql", "leaves the versions folder through `..`"),
            ("sub/../../x.sql", "leaves the versions folder through `..`"),
            ("/tmp/x.sql", "is an absolute path, outside the versions folder"),
            ("\\tmp\\x.sql", "is an absolute path, outside the versions folder"),
            ("a\\..\\x.sql", "contains `\\`; separate folders with `/`"),
            ("a\nb.sql", "contains the control character '\\n'"),
            ("a//b.sql", "has an empty folder name"),
            (".abc.sql", "is hidden (a name starting with `.`), and the loader skips hidden files and folders"),
            ("./abc.sql", "is hidden (a name starting with `.`), and the loader skips hidden files and folders"),
        ] {
            assert_eq!(file_name_problem(name).as_deref(), Some(problem), "{name:?}");
        }
        // An empty slug must not turn `.%(slug)s.` into `..`.
        let t = Utc::at(0);
        let name = format!(
            "{}.sql",
            file_name(".%(slug)s./%(rev)s", "abc", "", &t).unwrap()
        );
        assert_eq!(name, "../abc.sql");
        assert!(file_name_problem(&name).is_some());
    }

    #[test]
    fn template_variables() {
        let vars = vec![("a".to_string(), "1".to_string())];
        assert_eq!(render_template("x ${a} y", &vars, "t").unwrap(), "x 1 y");
        assert!(matches!(
            render_template("${author_unset_in_tests}", &vars, "t"),
            Err(CliError::TemplateVariable { .. })
        ));
        assert_eq!(
            render_template("by ${author_unset_in_tests:-unknown}, ${a:-9}", &vars, "t").unwrap(),
            "by unknown, 1"
        );
        // The environment, as in migrate.toml.
        assert_eq!(
            render_template("${CARGO_PKG_NAME}", &vars, "t").unwrap(),
            env!("CARGO_PKG_NAME")
        );
        assert_eq!(random_id().len(), 12);
    }
}
