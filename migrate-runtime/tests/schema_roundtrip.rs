//! Round trips of the schema diff through real databases: a schema A is created by SQL
//! and read back (A'), a schema B likewise in another fresh database (B'); the DDL that
//! `render(diff(A', B'))` writes is applied to A's database, which must then read back
//! as B' (`diff` empty), and its downgrade must bring back A'. The same DDL with its
//! destructive changes commented out must then run too, and its downgrade undo it.
//!
//! SQLite always; PostgreSQL and MariaDB/MySQL when `MIGRATE_TEST_POSTGRES_URL` /
//! `MIGRATE_TEST_MYSQL_URL` are set. Generated pairs (`MIGRATE_ROUNDTRIP_CASES` per
//! database, 16 by default, from `MIGRATE_ROUNDTRIP_SEED` to replay one) and a
//! hand-written case for each kind of change. SQLite's table rebuilds need
//! `PRAGMA foreign_keys` off, which the scripts check: it is turned off here, as a
//! migration that rebuilds tables must run. `MIGRATE_ROUNDTRIP_SHOW=1` prints each
//! case's changes and DDL.

use migrate_test_support as common;

use migrate_runtime::schema::model::diff::diff;
use migrate_runtime::schema::model::render::{render, RenderOptions};
use migrate_runtime::schema::model::{Change, Schema};
use migrate_runtime::schema::{self};
use migrate_runtime::{Database, Dialect};

// ---------------------------------------------------------------------------------
// Databases

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

impl Kind {
    fn dialect(self) -> Dialect {
        match self {
            Kind::Sqlite => Dialect::Sqlite,
            Kind::Postgres => Dialect::Postgres,
            Kind::Mysql => Dialect::Mysql,
        }
    }
}

/// The configured databases, with their admin URL.
fn kinds() -> Vec<(Kind, Option<String>)> {
    let mut out = vec![(Kind::Sqlite, None)];
    if let Ok(u) = std::env::var("MIGRATE_TEST_POSTGRES_URL") {
        out.push((Kind::Postgres, Some(u)));
    }
    if let Ok(u) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        out.push((Kind::Mysql, Some(u)));
    }
    out
}

/// A fresh empty database, dropped by [`Fresh::finish`].
struct Fresh {
    db: Database,
    _dir: Option<tempfile::TempDir>,
    server: Option<(String, String)>,
}

async fn fresh(kind: Kind, admin: Option<&str>) -> Fresh {
    match (kind, admin) {
        (Kind::Sqlite, _) | (_, None) => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/rt.db", dir.path().display());
            Fresh {
                db: Database::connect(&url).await.expect("sqlite connects"),
                _dir: Some(dir),
                server: None,
            }
        }
        (_, Some(admin)) => {
            let name = if kind == Kind::Postgres {
                "postgres"
            } else {
                "mysql"
            };
            let url = common::fresh_url(name, admin, "rt").await;
            let db_name = url
                .split('?')
                .next()
                .and_then(|u| u.rsplit('/').next())
                .unwrap_or_default()
                .to_string();
            Fresh {
                db: Database::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to fresh {name} database: {e}")),
                _dir: None,
                server: Some((admin.to_string(), db_name)),
            }
        }
    }
}

impl Fresh {
    async fn finish(self) {
        self.db.close().await;
        if let Some((admin, name)) = self.server {
            if let Ok(a) = Database::connect(&admin).await {
                let sql = match a.dialect() {
                    migrate_runtime::Dialect::Postgres => {
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    }
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                // Best effort: stale ones are dropped by later runs anyway.
                let _ = exec(&a, &sql).await;
                a.close().await;
            }
        }
    }
}

async fn exec(db: &Database, sql: &str) -> Result<(), String> {
    if sql.trim().is_empty() {
        return Ok(());
    }
    let r = if let Some(p) = db.as_sqlite() {
        // The rebuilds of SQLite need foreign keys off (the script checks it).
        sqlx::raw_sql(&format!("PRAGMA foreign_keys = OFF;\n{sql}"))
            .execute(p)
            .await
            .map(|_| ())
    } else if let Some(p) = db.as_postgres() {
        sqlx::raw_sql(sql).execute(p).await.map(|_| ())
    } else if let Some(p) = db.as_mysql() {
        sqlx::raw_sql(sql).execute(p).await.map(|_| ())
    } else {
        unreachable!("all drivers are enabled in tests")
    };
    r.map_err(|e| e.to_string())
}

async fn read(db: &Database) -> Result<Schema, String> {
    schema::introspect(db, &[])
        .await
        .map_err(|e| format!("introspect: {e}: {:?}", std::error::Error::source(&e)))
}

fn described(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("  {c}\n"))
        .collect::<String>()
}

/// One pair: A and B as SQL, and the rename annotations B's declared schema would have.
struct Case {
    name: String,
    a: String,
    b: String,
    renames: fn(&mut Schema),
    /// Statements run on A's database after creating it (rows to keep).
    rows: &'static str,
    /// A check on A's database after the upgrade (rows kept), as `(query, expected)`.
    kept: Option<(&'static str, i64)>,
}

fn no_renames(_: &mut Schema) {}

/// Runs one round trip; the error is a report of what happened.
async fn round_trip(kind: Kind, admin: Option<&str>, case: &Case) -> Result<(), String> {
    let fa = fresh(kind, admin).await;
    let fb = fresh(kind, admin).await;
    let result = run(kind, &fa.db, &fb.db, case).await;
    fa.finish().await;
    fb.finish().await;
    result.map_err(|e| {
        format!(
            "{kind:?}, case {}:\n{e}\n--- A ---\n{}\n--- B ---\n{}",
            case.name, case.a, case.b
        )
    })
}

async fn run(kind: Kind, a_db: &Database, b_db: &Database, case: &Case) -> Result<(), String> {
    exec(a_db, &case.a)
        .await
        .map_err(|e| format!("creating A: {e}"))?;
    exec(b_db, &case.b)
        .await
        .map_err(|e| format!("creating B: {e}"))?;
    exec(a_db, case.rows)
        .await
        .map_err(|e| format!("rows of A: {e}"))?;
    let a = read(a_db).await?;
    let mut b = read(b_db).await?;
    (case.renames)(&mut b);
    let d = diff(&a, &b).map_err(|e| format!("diff: {e}"))?;
    let dialect = kind.dialect();
    // Destructive changes commented out: what runs of the upgrade, the downgrade undoes.
    let safe = render(&d, &a, &b, dialect, &RenderOptions::default())
        .map_err(|e| format!("render: {e}"))?;
    let r = render(
        &d,
        &a,
        &b,
        dialect,
        &RenderOptions {
            allow_destructive: true,
        },
    )
    .map_err(|e| format!("render: {e}"))?;
    let context = || {
        format!(
            "--- changes ---\n{}--- upgrade ---\n{}--- downgrade ---\n{}",
            described(&d.changes),
            r.upgrade,
            r.downgrade
        )
    };
    if std::env::var_os("MIGRATE_ROUNDTRIP_SHOW").is_some() {
        eprintln!("===== {kind:?}, {}\n{}", case.name, context());
    }
    exec(a_db, &r.upgrade)
        .await
        .map_err(|e| format!("upgrade failed: {e}\n{}", context()))?;
    let up = read(a_db).await?;
    let rest = diff(&up, &b).map_err(|e| format!("diff after upgrade: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "after the upgrade, still to change:\n{}{}",
            described(&rest.changes),
            context()
        ));
    }
    if let Some((query, expected)) = case.kept {
        let n = common::scalar(a_db, query).await;
        if n != expected {
            return Err(format!(
                "{query} is {n} after the upgrade, not {expected}\n{}",
                context()
            ));
        }
    }
    exec(a_db, &r.downgrade)
        .await
        .map_err(|e| format!("downgrade failed: {e}\n{}", context()))?;
    let down = read(a_db).await?;
    let rest = diff(&down, &a).map_err(|e| format!("diff after downgrade: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "after the downgrade, still to change:\n{}{}",
            described(&rest.changes),
            context()
        ));
    }
    let safe_context = || {
        format!(
            "--- upgrade, destructive changes commented out ---\n{}--- downgrade ---\n{}",
            safe.upgrade, safe.downgrade
        )
    };
    exec(a_db, &safe.upgrade)
        .await
        .map_err(|e| format!("commented upgrade failed: {e}\n{}", safe_context()))?;
    if !d.is_destructive() {
        let rest = diff(&read(a_db).await?, &b).map_err(|e| format!("diff: {e}"))?;
        if !rest.is_empty() {
            return Err(format!(
                "nothing was destructive, yet after the upgrade, still to change:\n{}{}",
                described(&rest.changes),
                safe_context()
            ));
        }
    }
    exec(a_db, &safe.downgrade)
        .await
        .map_err(|e| format!("commented downgrade failed: {e}\n{}", safe_context()))?;
    let rest = diff(&read(a_db).await?, &a).map_err(|e| format!("diff: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "after the commented upgrade and downgrade, still to change:\n{}{}",
            described(&rest.changes),
            safe_context()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Generated pairs

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const TABLES: [&str; 5] = ["alpha", "beta", "gamma", "order", "Mixed"];
const COLUMNS: [&str; 6] = ["a", "b", "note", "score", "title", "Up"];
/// Types by kind: integer, bigint, varchar(10), varchar(20), text, numeric.
const INT: usize = 0;
const TEXT: usize = 4;

fn type_name(kind: Kind, ty: usize) -> &'static str {
    match (kind, ty) {
        (Kind::Mysql, 0) => "int",
        (_, 0) => "integer",
        (_, 1) => "bigint",
        (_, 2) => "varchar(10)",
        (_, 3) => "varchar(20)",
        (_, 4) => "text",
        (Kind::Mysql, _) => "decimal(10,2)",
        (_, _) => "numeric(10,2)",
    }
}

fn is_int(ty: usize) -> bool {
    ty <= 1
}

#[derive(Debug, Clone)]
struct Col {
    name: String,
    ty: usize,
    not_null: bool,
    default: bool,
}

#[derive(Debug, Clone)]
struct Fk {
    target: String,
    action: usize,
    named: bool,
}

#[derive(Debug, Clone)]
struct Tab {
    name: String,
    cols: Vec<Col>,
    fk: Option<Fk>,
    /// `(named, column)`.
    uniques: Vec<(bool, String)>,
    /// `(named, column, bound)`.
    checks: Vec<(bool, String, usize)>,
    /// `(column, descending, unique)`.
    indexes: Vec<(String, bool, bool)>,
}

#[derive(Debug, Clone, Default)]
struct Spec {
    tables: Vec<Tab>,
    /// `(table, column)`: `CREATE VIEW v_<table> AS SELECT id, column FROM table`.
    view: Option<(String, String)>,
}

fn gen_col(rng: &mut Rng, name: &str) -> Col {
    Col {
        name: name.into(),
        ty: rng.below(6),
        not_null: rng.chance(30),
        default: rng.chance(30),
    }
}

fn gen_table(rng: &mut Rng, name: &str, others: &[String]) -> Tab {
    let mut cols = Vec::new();
    for c in COLUMNS {
        if rng.chance(45) {
            cols.push(gen_col(rng, c));
        }
    }
    let mut t = Tab {
        name: name.into(),
        cols,
        fk: None,
        uniques: Vec::new(),
        checks: Vec::new(),
        indexes: Vec::new(),
    };
    if !others.is_empty() && rng.chance(50) {
        t.fk = Some(Fk {
            target: others[rng.below(others.len())].clone(),
            action: rng.below(3),
            named: rng.chance(40),
        });
    }
    for _ in 0..2 {
        add_key(rng, &mut t);
    }
    t
}

fn add_key(rng: &mut Rng, t: &mut Tab) {
    if t.cols.is_empty() {
        return;
    }
    let c = t.cols[rng.below(t.cols.len())].clone();
    match rng.below(3) {
        0 => t.uniques.push((rng.chance(40), c.name)),
        1 => t.checks.push((rng.chance(40), c.name, rng.below(3))),
        _ => t.indexes.push((c.name, rng.chance(30), rng.chance(20))),
    }
}

/// Drops what the spec's SQL could not create: keys over text or missing columns
/// (MySQL cannot index text whole), checks over non-integer columns, repeats, foreign
/// keys to missing tables, a view over a missing table or column.
fn fixup(s: &mut Spec) {
    let names: Vec<String> = s.tables.iter().map(|t| t.name.clone()).collect();
    for t in &mut s.tables {
        let ty = |c: &str, cols: &[Col]| cols.iter().find(|x| x.name == c).map(|x| x.ty);
        let cols = t.cols.clone();
        t.uniques
            .retain(|(_, c)| ty(c, &cols).is_some_and(|x| x != TEXT));
        t.indexes
            .retain(|(c, ..)| ty(c, &cols).is_some_and(|x| x != TEXT));
        t.checks
            .retain(|(_, c, _)| ty(c, &cols).is_some_and(is_int));
        let mut seen = Vec::new();
        t.uniques.retain(|(_, c)| {
            let fresh = !seen.contains(c);
            seen.push(c.clone());
            fresh
        });
        let mut seen = Vec::new();
        t.checks.retain(|(_, c, _)| {
            let fresh = !seen.contains(c);
            seen.push(c.clone());
            fresh
        });
        let mut seen = Vec::new();
        t.indexes.retain(|(c, ..)| {
            let fresh = !seen.contains(c);
            seen.push(c.clone());
            fresh
        });
        if t.fk.as_ref().is_some_and(|f| !names.contains(&f.target)) {
            t.fk = None;
        }
    }
    let keep = s.view.as_ref().is_some_and(|(t, c)| {
        s.tables
            .iter()
            .any(|x| x.name == *t && (c == "id" || x.cols.iter().any(|y| y.name == *c)))
    });
    if !keep {
        s.view = None;
    }
}

fn gen_spec(rng: &mut Rng) -> Spec {
    let mut s = Spec::default();
    let mut names: Vec<String> = Vec::new();
    for n in TABLES {
        if rng.chance(60) {
            let t = gen_table(rng, n, &names);
            names.push(n.to_string());
            s.tables.push(t);
        }
    }
    if !s.tables.is_empty() && rng.chance(50) {
        let t = &s.tables[rng.below(s.tables.len())];
        let c = t
            .cols
            .get(rng.below(t.cols.len() + 1))
            .map_or("id".to_string(), |c| c.name.clone());
        s.view = Some((t.name.clone(), c));
    }
    fixup(&mut s);
    s
}

fn mutate(spec: &Spec, rng: &mut Rng, ops: usize) -> Spec {
    let mut s = spec.clone();
    for _ in 0..ops {
        let n = s.tables.len();
        match rng.below(10) {
            0 if n > 0 => {
                let k = rng.below(n);
                s.tables.remove(k);
            }
            1 => {
                let free: Vec<&str> = TABLES
                    .iter()
                    .copied()
                    .filter(|x| !s.tables.iter().any(|t| t.name == *x))
                    .collect();
                if !free.is_empty() {
                    let name = free[rng.below(free.len())];
                    let others: Vec<String> = s.tables.iter().map(|t| t.name.clone()).collect();
                    let t = gen_table(rng, name, &others);
                    s.tables.push(t);
                }
            }
            2 if n > 0 => {
                let k = rng.below(n);
                let t = &mut s.tables[k];
                let free: Vec<&str> = COLUMNS
                    .iter()
                    .copied()
                    .filter(|x| !t.cols.iter().any(|c| c.name == *x))
                    .collect();
                if !free.is_empty() {
                    let pick = free[rng.below(free.len())];
                    let c = gen_col(rng, pick);
                    t.cols.push(c);
                }
            }
            3 if n > 0 => {
                let k = rng.below(n);
                let t = &mut s.tables[k];
                if !t.cols.is_empty() {
                    let j = rng.below(t.cols.len());
                    t.cols.remove(j);
                }
            }
            4..=6 if n > 0 => {
                let k = rng.below(n);
                let t = &mut s.tables[k];
                if !t.cols.is_empty() {
                    let j = rng.below(t.cols.len());
                    let c = &mut t.cols[j];
                    match rng.below(3) {
                        0 => c.ty = rng.below(6),
                        1 => c.not_null = !c.not_null,
                        _ => c.default = !c.default,
                    }
                }
            }
            7 if n > 0 => {
                let k = rng.below(n);
                let t = &mut s.tables[k];
                if rng.chance(50) {
                    add_key(rng, t);
                } else {
                    match rng.below(3) {
                        0 if !t.uniques.is_empty() => {
                            t.uniques.remove(0);
                        }
                        1 if !t.checks.is_empty() => {
                            t.checks.remove(0);
                        }
                        _ if !t.indexes.is_empty() => {
                            t.indexes.remove(0);
                        }
                        _ => {}
                    }
                }
            }
            8 if n > 0 => {
                let k = rng.below(n);
                let target = s.tables[rng.below(n)].name.clone();
                let t = &mut s.tables[k];
                t.fk = match &t.fk {
                    None => Some(Fk {
                        target,
                        action: rng.below(3),
                        named: rng.chance(40),
                    }),
                    Some(_) if rng.chance(50) => None,
                    Some(f) => Some(Fk {
                        action: (f.action + 1) % 3,
                        ..f.clone()
                    }),
                };
            }
            9 if n > 0 => {
                let t = &s.tables[rng.below(n)];
                let c = t
                    .cols
                    .get(rng.below(t.cols.len() + 1))
                    .map_or("id".to_string(), |c| c.name.clone());
                s.view = if rng.chance(30) {
                    None
                } else {
                    Some((t.name.clone(), c))
                };
            }
            _ => {}
        }
        fixup(&mut s);
    }
    s
}

fn q(kind: Kind, name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name != "order";
    match (plain, kind) {
        (true, _) => name.to_string(),
        (false, Kind::Mysql) => format!("`{name}`"),
        (false, _) => format!("\"{name}\""),
    }
}

fn default_sql(ty: usize) -> &'static str {
    match ty {
        0 | 1 => "7",
        5 => "1.50",
        _ => "'x'",
    }
}

/// The SQL that creates a spec (foreign keys after the tables on the servers, inside
/// `CREATE TABLE` on SQLite).
fn spec_sql(s: &Spec, kind: Kind) -> String {
    let mut out = String::new();
    let mut fks = String::new();
    for t in &s.tables {
        let tq = q(kind, &t.name);
        let low = t.name.to_lowercase();
        let mut lines = vec![format!(
            "{} {} NOT NULL",
            q(kind, "id"),
            type_name(kind, INT)
        )];
        for c in &t.cols {
            let mut l = format!("{} {}", q(kind, &c.name), type_name(kind, c.ty));
            if c.not_null {
                l.push_str(" NOT NULL");
            }
            if c.default {
                l.push_str(&format!(" DEFAULT {}", default_sql(c.ty)));
            }
            lines.push(l);
        }
        if t.fk.is_some() {
            lines.push(format!("parent_id {}", type_name(kind, INT)));
        }
        lines.push("PRIMARY KEY (id)".into());
        for (named, c) in &t.uniques {
            let name = if *named {
                format!("CONSTRAINT uq_{low}_{} ", c.to_lowercase())
            } else {
                String::new()
            };
            lines.push(format!("{name}UNIQUE ({})", q(kind, c)));
        }
        for (named, c, bound) in &t.checks {
            let name = if *named {
                format!("CONSTRAINT ck_{low}_{} ", c.to_lowercase())
            } else {
                String::new()
            };
            lines.push(format!("{name}CHECK ({} > {bound})", q(kind, c)));
        }
        if let Some(f) = &t.fk {
            let name = if f.named {
                format!("CONSTRAINT fk_{low} ")
            } else {
                String::new()
            };
            let action = ["", " ON DELETE CASCADE", " ON DELETE SET NULL"][f.action];
            let clause = format!(
                "{name}FOREIGN KEY (parent_id) REFERENCES {} (id){action}",
                q(kind, &f.target)
            );
            if kind == Kind::Sqlite {
                lines.push(clause);
            } else {
                fks.push_str(&format!("ALTER TABLE {tq} ADD {clause};\n"));
            }
        }
        out.push_str(&format!(
            "CREATE TABLE {tq} (\n  {}\n);\n",
            lines.join(",\n  ")
        ));
        for (c, desc, unique) in &t.indexes {
            out.push_str(&format!(
                "CREATE {}INDEX ix_{low}_{} ON {tq} ({}{});\n",
                if *unique { "UNIQUE " } else { "" },
                c.to_lowercase(),
                q(kind, c),
                if *desc { " DESC" } else { "" }
            ));
        }
    }
    out.push_str(&fks);
    if let Some((t, c)) = &s.view {
        let cols = if c == "id" {
            "id".to_string()
        } else {
            format!("id, {}", q(kind, c))
        };
        out.push_str(&format!(
            "CREATE VIEW v_{} AS SELECT {cols} FROM {};\n",
            t.to_lowercase(),
            q(kind, t)
        ));
    }
    out
}

#[tokio::test]
async fn generated_pairs_round_trip() {
    let cases: u64 = std::env::var("MIGRATE_ROUNDTRIP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let start: u64 = std::env::var("MIGRATE_ROUNDTRIP_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed);
    let mut failures = Vec::new();
    for (kind, admin) in kinds() {
        for i in 0..cases {
            let seed = start.wrapping_add(i);
            let mut rng = Rng(seed);
            let a = gen_spec(&mut rng);
            let ops = 1 + rng.below(5);
            let b = mutate(&a, &mut rng, ops);
            let case = Case {
                name: format!(
                    "seed {seed} (MIGRATE_ROUNDTRIP_SEED={seed} MIGRATE_ROUNDTRIP_CASES=1)"
                ),
                a: spec_sql(&a, kind),
                b: spec_sql(&b, kind),
                renames: no_renames,
                rows: "",
                kept: None,
            };
            if let Err(e) = round_trip(kind, admin.as_deref(), &case).await {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed round trips:\n\n{}",
        failures.len(),
        failures.join("\n\n========\n\n")
    );
}

// ---------------------------------------------------------------------------------
// Hand-written cases

/// Runs each case on every configured database it is written for.
async fn hand(cases: Vec<(Kind, Case)>) {
    let configured = kinds();
    let mut failures = Vec::new();
    for (kind, case) in cases {
        let Some((_, admin)) = configured.iter().find(|(k, _)| *k == kind) else {
            continue;
        };
        if let Err(e) = round_trip(kind, admin.as_deref(), &case).await {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed round trips:\n\n{}",
        failures.len(),
        failures.join("\n\n========\n\n")
    );
}

fn case(name: &str, a: String, b: String) -> Case {
    Case {
        name: name.into(),
        a,
        b,
        renames: no_renames,
        rows: "",
        kept: None,
    }
}

fn all_kinds(name: &str, a: &str, b: &str) -> Vec<(Kind, Case)> {
    [Kind::Sqlite, Kind::Postgres, Kind::Mysql]
        .into_iter()
        .map(|k| (k, case(name, a.into(), b.into())))
        .collect()
}

#[tokio::test]
async fn columns_added_dropped_and_altered() {
    let a = "CREATE TABLE tickets (
  id INTEGER NOT NULL PRIMARY KEY,
  title VARCHAR(10),
  priority INTEGER NOT NULL DEFAULT 0,
  amount NUMERIC(10,2),
  body TEXT,
  rating INTEGER,
  legacy VARCHAR(20) DEFAULT 'old'
);";
    let b = "CREATE TABLE tickets (
  id INTEGER NOT NULL PRIMARY KEY,
  title VARCHAR(40) NOT NULL DEFAULT 'untitled',
  priority BIGINT,
  amount NUMERIC(12,2) DEFAULT 1.50,
  body VARCHAR(30),
  rating INTEGER NOT NULL DEFAULT 3,
  status VARCHAR(20) NOT NULL DEFAULT 'new',
  closed_at INTEGER
);";
    hand(all_kinds("columns", a, b)).await;
}

#[tokio::test]
async fn keys_indexes_checks_and_foreign_keys() {
    let a = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, code INTEGER NOT NULL);
CREATE TABLE tickets (
  id INTEGER NOT NULL,
  user_id INTEGER,
  owner_id INTEGER,
  score INTEGER,
  title VARCHAR(50),
  PRIMARY KEY (id),
  UNIQUE (title),
  CONSTRAINT uq_score UNIQUE (score),
  CHECK (score > 0),
  CONSTRAINT ck_title CHECK (title <> ''),
  FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT fk_owner FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_tickets_score ON tickets (score);
CREATE INDEX ix_tickets_title_score ON tickets (title, score DESC);";
    let b = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, code INTEGER NOT NULL, UNIQUE (email));
CREATE TABLE tickets (
  id INTEGER NOT NULL,
  user_id INTEGER,
  owner_id INTEGER,
  score INTEGER,
  title VARCHAR(50),
  PRIMARY KEY (id, user_id),
  UNIQUE (title, score),
  CHECK (score < 100),
  CONSTRAINT ck_title CHECK (title <> 'none'),
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL,
  FOREIGN KEY (owner_id) REFERENCES users (id)
);
CREATE INDEX ix_tickets_score ON tickets (score DESC);
CREATE UNIQUE INDEX ix_tickets_owner ON tickets (owner_id, title);";
    // `PRIMARY KEY (id, user_id)` with ON DELETE SET NULL on user_id is refused by
    // PostgreSQL and MySQL (a key column cannot be NULL): keep SET NULL off there.
    let b_servers = b.replace(" ON DELETE SET NULL", " ON DELETE CASCADE");
    let mut cases = vec![(Kind::Sqlite, case("keys", a.into(), b.into()))];
    for k in [Kind::Postgres, Kind::Mysql] {
        cases.push((k, case("keys", a.into(), b_servers.clone())));
    }
    hand(cases).await;
}

fn rename_users_and_rating(b: &mut Schema) {
    if let Some(t) = b.tables.get_mut("accounts") {
        t.renamed_from = Some("users".into());
    }
    if let Some(c) = b
        .tables
        .get_mut("tickets")
        .and_then(|t| t.columns.iter_mut().find(|c| c.name == "score"))
    {
        c.renamed_from = Some("rating".into());
    }
}

#[tokio::test]
async fn primary_keys_added_and_dropped() {
    let a = "CREATE TABLE plain (id INTEGER NOT NULL, code VARCHAR(10) NOT NULL);
CREATE TABLE keyed (id INTEGER NOT NULL PRIMARY KEY, code VARCHAR(10));
CREATE TABLE gone (id INTEGER NOT NULL PRIMARY KEY);";
    let b = "CREATE TABLE plain (id INTEGER NOT NULL, code VARCHAR(10) NOT NULL, CONSTRAINT plain_pk PRIMARY KEY (code, id));
CREATE TABLE keyed (id INTEGER NOT NULL, code VARCHAR(10));
CREATE TABLE created (id INTEGER NOT NULL PRIMARY KEY, name TEXT);";
    hand(all_kinds("primary keys", a, b)).await;
}

#[tokio::test]
async fn renames_through_annotations_keep_rows() {
    let a = "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL);
CREATE TABLE tickets (
  id INTEGER NOT NULL PRIMARY KEY,
  user_id INTEGER,
  rating INTEGER,
  FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX ix_rating ON tickets (rating);";
    let b = "CREATE TABLE accounts (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL);
CREATE TABLE tickets (
  id INTEGER NOT NULL PRIMARY KEY,
  user_id INTEGER,
  score INTEGER,
  FOREIGN KEY (user_id) REFERENCES accounts (id)
);
CREATE INDEX ix_rating ON tickets (score);";
    let cases = [Kind::Sqlite, Kind::Postgres, Kind::Mysql]
        .into_iter()
        .map(|k| {
            (
                k,
                Case {
                    renames: rename_users_and_rating,
                    rows: "INSERT INTO users (id, email) VALUES (1, 'a@b'); INSERT INTO tickets (id, user_id, rating) VALUES (1, 1, 5);",
                    kept: Some(("SELECT COUNT(*) FROM tickets t JOIN accounts a ON a.id = t.user_id WHERE t.score = 5", 1)),
                    ..case("renames", a.into(), b.into())
                },
            )
        })
        .collect();
    hand(cases).await;
}

#[tokio::test]
async fn views_around_changed_tables() {
    let a =
        "CREATE TABLE tickets (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(20), old INTEGER);
CREATE VIEW titles AS SELECT id, title FROM tickets;
CREATE VIEW counted AS SELECT COUNT(*) AS n FROM titles;
CREATE VIEW gone AS SELECT id FROM tickets;";
    let b = "CREATE TABLE tickets (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(50));
CREATE VIEW titles AS SELECT id, title FROM tickets;
CREATE VIEW counted AS SELECT COUNT(*) AS n FROM titles;
CREATE VIEW fresh AS SELECT title FROM tickets WHERE id > 1;";
    hand(all_kinds("views", a, b)).await;
}

#[tokio::test]
async fn sqlite_rebuild_keeps_rows_and_references() {
    let a = "CREATE TABLE parent (id INTEGER NOT NULL PRIMARY KEY, name TEXT);
CREATE TABLE child (id INTEGER NOT NULL PRIMARY KEY, parent_id INTEGER, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);
CREATE INDEX ix_child_parent ON child (parent_id);";
    let b = "CREATE TABLE parent (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL DEFAULT 'n', CHECK (length(name) > 0));
CREATE TABLE child (id INTEGER NOT NULL PRIMARY KEY, parent_id INTEGER, note TEXT, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);
CREATE INDEX ix_child_parent ON child (parent_id);";
    let c = Case {
        rows: "INSERT INTO parent (id, name) VALUES (1, 'p'), (2, 'q'); INSERT INTO child (id, parent_id) VALUES (1, 1), (2, 2), (3, 1);",
        kept: Some(("SELECT COUNT(*) FROM child JOIN parent ON parent.id = child.parent_id", 3)),
        ..case("sqlite rebuild", a.into(), b.into())
    };
    hand(vec![(Kind::Sqlite, c)]).await;

    // With foreign keys on, the script refuses to rebuild a referenced table.
    let fa = fresh(Kind::Sqlite, None).await;
    let fb = fresh(Kind::Sqlite, None).await;
    exec(&fa.db, a).await.unwrap();
    exec(&fb.db, b).await.unwrap();
    let (sa, sb) = (read(&fa.db).await.unwrap(), read(&fb.db).await.unwrap());
    let r = render(
        &diff(&sa, &sb).unwrap(),
        &sa,
        &sb,
        Dialect::Sqlite,
        &RenderOptions::default(),
    )
    .unwrap();
    let Some(p) = fa.db.as_sqlite() else {
        unreachable!()
    };
    let err = sqlx::raw_sql(&format!("PRAGMA foreign_keys = ON;\n{}", r.upgrade))
        .execute(p)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("PRAGMA foreign_keys must be OFF for this migration"),
        "{err}\n{}",
        r.upgrade
    );
    fa.finish().await;
    fb.finish().await;
}

#[tokio::test]
async fn postgres_enums_sequences_identity_generated() {
    let a = "CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TYPE shape AS ENUM ('round', 'square');
CREATE TYPE old_kind AS ENUM ('x');
CREATE SEQUENCE ticket_no START 100;
CREATE SEQUENCE gone_no;
CREATE TABLE tickets (
  id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  feeling mood DEFAULT 'ok',
  form shape DEFAULT 'round',
  n INTEGER,
  doubled INTEGER GENERATED ALWAYS AS (n * 2) STORED,
  kind old_kind,
  plain INTEGER NOT NULL,
  serial_no SERIAL
);
CREATE INDEX ix_partial ON tickets (n) WHERE n > 10;";
    let b = "CREATE TYPE mood AS ENUM ('sad', 'meh', 'ok', 'happy');
CREATE TYPE shape AS ENUM ('square', 'round');
CREATE TYPE colour AS ENUM ('red');
CREATE SEQUENCE ticket_no START 100 INCREMENT 5;
CREATE SEQUENCE new_no AS integer MAXVALUE 1000 CYCLE;
CREATE TABLE tickets (
  id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  feeling mood DEFAULT 'ok',
  form shape DEFAULT 'round',
  n INTEGER,
  doubled INTEGER GENERATED ALWAYS AS (n * 3) STORED,
  plain INTEGER GENERATED BY DEFAULT AS IDENTITY,
  paint colour,
  serial_no SERIAL
);
CREATE INDEX ix_partial ON tickets USING hash (n);
CREATE INDEX ix_lower ON tickets ((n + 1) DESC) WHERE n IS NOT NULL;";
    hand(vec![(
        Kind::Postgres,
        case("postgres types", a.into(), b.into()),
    )])
    .await;
}

#[tokio::test]
async fn postgres_check_validity_collations_functions_and_triggers() {
    let a = "CREATE TABLE accounts (
  id INTEGER NOT NULL PRIMARY KEY,
  name TEXT,
  code VARCHAR(10) COLLATE \"C\",
  balance INTEGER,
  CONSTRAINT balance_positive CHECK (balance >= 0)
);
ALTER TABLE accounts ADD CONSTRAINT id_positive CHECK (id > 0) NOT VALID;
CREATE VIEW names AS SELECT id, name FROM accounts;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION gone(n integer) RETURNS integer LANGUAGE sql RETURN n;
CREATE TRIGGER accounts_touch BEFORE UPDATE OF balance ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER names_insert INSTEAD OF INSERT ON names FOR EACH ROW EXECUTE FUNCTION touch();";
    let b = "CREATE TABLE accounts (
  id INTEGER NOT NULL PRIMARY KEY,
  name TEXT COLLATE \"C\",
  code VARCHAR(10),
  balance BIGINT,
  CONSTRAINT id_positive CHECK (id > 0)
);
ALTER TABLE accounts ADD CONSTRAINT balance_positive CHECK (balance >= 0) NOT VALID;
CREATE VIEW names AS SELECT id, name FROM accounts;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.balance := 0;
  RETURN NEW;
END
$$;
CREATE PROCEDURE fresh(IN n integer) LANGUAGE sql AS $$ SELECT n $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE OF balance ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER names_insert INSTEAD OF INSERT ON names FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER accounts_new BEFORE INSERT ON accounts FOR EACH ROW WHEN (NEW.balance IS NULL) EXECUTE FUNCTION touch();";
    let c = Case {
        rows: "INSERT INTO accounts (id, name, code, balance) VALUES (1, 'b', 'x', 5), (2, 'a', 'y', 7);",
        kept: Some(("SELECT COUNT(*) FROM accounts WHERE balance > 0", 2)),
        ..case("postgres checks, collations, routines", a.into(), b.into())
    };
    hand(vec![(Kind::Postgres, c)]).await;
}

#[tokio::test]
async fn sqlite_and_mysql_triggers_survive_changes_to_their_tables() {
    let sqlite_a = "CREATE TABLE counted (n INTEGER);
CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, qty INTEGER);
CREATE TRIGGER items_counted AFTER INSERT ON items BEGIN UPDATE counted SET n = n + 1; END;
CREATE TRIGGER items_gone AFTER DELETE ON items BEGIN UPDATE counted SET n = n - 1; END;";
    // A check added: SQLite rebuilds `items`, which drops its triggers.
    let sqlite_b = "CREATE TABLE counted (n INTEGER);
CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, qty INTEGER, CHECK (qty >= 0));
CREATE TRIGGER items_counted AFTER INSERT ON items BEGIN UPDATE counted SET n = n + 1; END;
CREATE TRIGGER items_fresh AFTER UPDATE ON items BEGIN UPDATE counted SET n = n; END;";
    let mysql_a = "CREATE TABLE counted (n INT);
CREATE TABLE items (id INT NOT NULL PRIMARY KEY, qty INT);
CREATE TRIGGER items_counted AFTER INSERT ON items FOR EACH ROW UPDATE counted SET n = n + 1;
CREATE TRIGGER items_gone AFTER DELETE ON items FOR EACH ROW UPDATE counted SET n = n - 1;";
    let mysql_b = "CREATE TABLE counted (n INT);
CREATE TABLE items (id INT NOT NULL PRIMARY KEY, qty BIGINT, CHECK (qty >= 0));
CREATE TRIGGER items_counted AFTER INSERT ON items FOR EACH ROW UPDATE counted SET n = n + 1;
CREATE TRIGGER items_fresh AFTER UPDATE ON items FOR EACH ROW UPDATE counted SET n = n;";
    let rows =
        "INSERT INTO counted (n) VALUES (0); INSERT INTO items (id, qty) VALUES (1, 1), (2, 2);";
    let with_rows = |c: Case| Case {
        rows,
        kept: Some(("SELECT COUNT(*) FROM items", 2)),
        ..c
    };
    hand(vec![
        (
            Kind::Sqlite,
            with_rows(case("sqlite triggers", sqlite_a.into(), sqlite_b.into())),
        ),
        (
            Kind::Mysql,
            with_rows(case("mysql triggers", mysql_a.into(), mysql_b.into())),
        ),
    ])
    .await;
}

#[tokio::test]
async fn mysql_auto_increment_and_generated() {
    let a = "CREATE TABLE tickets (
  id INT NOT NULL,
  n INT,
  doubled INT GENERATED ALWAYS AS (n * 2) VIRTUAL,
  PRIMARY KEY (id)
);
CREATE TABLE counters (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL);";
    let b = "CREATE TABLE tickets (
  id INT NOT NULL AUTO_INCREMENT,
  n INT,
  doubled INT GENERATED ALWAYS AS (n * 3) STORED,
  PRIMARY KEY (id)
);
CREATE TABLE counters (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL, PRIMARY KEY (id, k));";
    hand(vec![(
        Kind::Mysql,
        case("mysql auto_increment", a.into(), b.into()),
    )])
    .await;
}

#[tokio::test]
async fn sqlite_autoincrement_generated_and_partial_index() {
    let a = "CREATE TABLE tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  n INTEGER,
  doubled INTEGER GENERATED ALWAYS AS (n * 2) VIRTUAL,
  at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_n ON tickets (n) WHERE n > 1;";
    let b = "CREATE TABLE tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  n INTEGER,
  doubled INTEGER GENERATED ALWAYS AS (n * 3) STORED,
  at TEXT DEFAULT (datetime('now')),
  extra INTEGER AS (n + 1)
);
CREATE INDEX ix_n ON tickets (lower(n)) WHERE n > 2;";
    hand(vec![(
        Kind::Sqlite,
        case("sqlite specifics", a.into(), b.into()),
    )])
    .await;
}
