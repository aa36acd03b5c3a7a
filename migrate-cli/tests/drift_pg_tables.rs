//! PostgreSQL's index options and partitioned tables through the real binary, each
//! group the whole cycle: declared → `revision --autogenerate` → `upgrade head` →
//! `check` clean → a change by hand is drift (exit 10, naming it) → undone, clean again
//! → `downgrade base` leaves no table. Runs when `MIGRATE_TEST_POSTGRES_URL` is set (an
//! unreachable server fails it).

mod common;

use common::Project;

/// Index operator classes (`inet` has no default gist one: without it the upgrade
/// fails), key collations, NULLS LAST in descending order, `INCLUDE`, `NULLS NOT
/// DISTINCT`, storage parameters, and a unique constraint with `INCLUDE`.
const INDEXES: &str = "\
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY,
    creation_address INET,
    name TEXT,
    note TEXT,
    tenant INTEGER,
    code TEXT,
    CONSTRAINT hosts_code UNIQUE NULLS NOT DISTINCT (code) INCLUDE (note)
);
CREATE INDEX hosts_creation_address ON hosts USING gist (creation_address inet_ops);
CREATE INDEX hosts_name_pattern ON hosts (name text_pattern_ops);
CREATE INDEX hosts_name_c ON hosts (name COLLATE \"C\" DESC NULLS LAST);
CREATE UNIQUE INDEX hosts_tenant ON hosts (tenant) INCLUDE (name, note) NULLS NOT DISTINCT
    WITH (fillfactor = 70);
";

/// Partitioned tables (`PARTITION BY RANGE`, `PARTITION OF`), a sub-partitioned
/// partition, a default partition with a check of its own, an index on the parent
/// (which every partition gets), an unlogged table with storage parameters, and table
/// inheritance.
const PARTITIONS: &str = "\
CREATE TABLE measurements (
    id BIGINT NOT NULL,
    logdate DATE NOT NULL,
    region TEXT NOT NULL,
    reading INTEGER CHECK (reading >= 0)
) PARTITION BY RANGE (logdate);
CREATE INDEX measurements_region ON measurements (region);
CREATE TABLE measurements_2024 PARTITION OF measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measurements_2025 PARTITION OF measurements
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (region);
CREATE TABLE measurements_2025_eu PARTITION OF measurements_2025 FOR VALUES IN ('eu');
CREATE TABLE measurements_2025_us PARTITION OF measurements_2025 FOR VALUES IN ('us');
CREATE TABLE measurements_rest PARTITION OF measurements
    (CONSTRAINT rest_is_old CHECK (logdate < '2030-01-01')) DEFAULT;
CREATE UNLOGGED TABLE staging (id INTEGER, payload TEXT) WITH (fillfactor = 60);
CREATE TABLE cities (name TEXT NOT NULL, population INTEGER);
CREATE TABLE capitals (country TEXT) INHERITS (cities);
";

/// A project on a fresh PostgreSQL database declaring `schema`, `None` when PostgreSQL
/// is not configured.
fn project(tag: &str, schema: &str) -> Option<Project> {
    let admin = std::env::var("MIGRATE_TEST_POSTGRES_URL").ok()?;
    let p = Project::with_url(common::fresh_database("postgres", &admin, tag));
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("schema_location = \"schema\"\n{text}")).expect("write");
    std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
    std::fs::write(p.path().join("schema/schema.sql"), schema).expect("write");
    Some(p)
}

fn run(p: &Project, args: &[&str]) -> (i32, String) {
    let out = p.run(args);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs SQL on the project's database, outside the tool.
fn exec(url: &str, sql: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            let r = sqlx::raw_sql(sql).execute(&pool).await.map(|_| ());
            pool.close().await;
            r.unwrap_or_else(|e| panic!("{sql}: {e}"));
        });
}

/// One number from the project's database.
fn count(url: &str, sql: &str) -> i64 {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let pool = sqlx::PgPool::connect(url).await.expect("postgres");
            let n: i64 = sqlx::query_scalar(sql)
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            pool.close().await;
            n
        })
}

/// Autogenerates the first revision (which must contain each of `wanted`), upgrades,
/// and checks that `check` is clean.
fn upgraded(tag: &str, schema: &str, wanted: &[&str]) -> Option<Project> {
    let p = project(tag, schema)?;
    let (code, out) = run(
        &p,
        &[
            "revision",
            "--autogenerate",
            "-m",
            "initial",
            "--rev-id",
            "a1",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let file = common::find_file(&p.path().join("migrations"), "a1_").expect("a1");
    let text = std::fs::read_to_string(file).expect("read");
    for w in wanted {
        assert!(text.contains(w), "`{w}` missing:\n{text}");
    }
    p.ok(&["upgrade", "head"]);
    let (code, out) = run(&p, &["check"]);
    assert_eq!(code, 0, "{out}");
    Some(p)
}

/// `check` exits 10 naming each of `wanted`; after `undo` it exits 0 again.
fn drifts(p: &Project, by_hand: &str, wanted: &[&str], undo: &str) {
    exec(&p.url, by_hand);
    let (code, out) = run(p, &["check"]);
    assert_eq!(code, 10, "{by_hand}\n{out}");
    for w in wanted {
        assert!(out.contains(w), "`{w}` missing after {by_hand}:\n{out}");
    }
    exec(&p.url, undo);
    let (code, out) = run(p, &["check"]);
    assert_eq!(code, 0, "after {undo}:\n{out}");
}

/// `downgrade base` leaves no table but the tool's own.
fn downgraded_to_nothing(p: &Project) {
    p.ok(&["downgrade", "base"]);
    let left = count(
        &p.url,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i', 'I', 'S', 'v') \
         AND c.relname NOT LIKE 'alembic_version%'",
    );
    assert_eq!(left, 0, "relations left after downgrade base");
}

#[test]
fn index_options_are_created_checked_and_dropped() {
    let Some(p) = upgraded(
        "pgt_indexes",
        INDEXES,
        &[
            "CREATE INDEX hosts_creation_address ON hosts USING gist (creation_address inet_ops);",
            "CREATE INDEX hosts_name_pattern ON hosts (name text_pattern_ops);",
            "CREATE INDEX hosts_name_c ON hosts (name COLLATE \"C\" DESC NULLS LAST);",
            "CREATE UNIQUE INDEX hosts_tenant ON hosts (tenant) INCLUDE (name, note) NULLS NOT DISTINCT WITH (fillfactor=70);",
            "ALTER TABLE hosts ADD CONSTRAINT hosts_code UNIQUE NULLS NOT DISTINCT (code) INCLUDE (note);",
        ],
    ) else {
        return;
    };
    // The index re-created without its INCLUDE columns.
    drifts(
        &p,
        "DROP INDEX hosts_tenant;
         CREATE UNIQUE INDEX hosts_tenant ON hosts (tenant) NULLS NOT DISTINCT WITH (fillfactor = 70);",
        &[
            "drop index hosts_tenant on hosts",
            "create unique index hosts_tenant on hosts (tenant) nulls not distinct with (fillfactor=70)",
        ],
        "DROP INDEX hosts_tenant;
         CREATE UNIQUE INDEX hosts_tenant ON hosts (tenant) INCLUDE (name, note) NULLS NOT DISTINCT
             WITH (fillfactor = 70);",
    );
    // Its operator class and storage parameters.
    drifts(
        &p,
        "DROP INDEX hosts_name_pattern; CREATE INDEX hosts_name_pattern ON hosts (name);",
        &[
            "drop index hosts_name_pattern on hosts",
            "create index hosts_name_pattern on hosts (name)",
        ],
        "DROP INDEX hosts_name_pattern;
         CREATE INDEX hosts_name_pattern ON hosts (name text_pattern_ops);",
    );
    drifts(
        &p,
        "ALTER INDEX hosts_tenant SET (fillfactor = 50);",
        &["create unique index hosts_tenant", "with (fillfactor=50)"],
        "ALTER INDEX hosts_tenant SET (fillfactor = 70);",
    );
    // The unique constraint's NULLS NOT DISTINCT.
    drifts(
        &p,
        "ALTER TABLE hosts DROP CONSTRAINT hosts_code;
         ALTER TABLE hosts ADD CONSTRAINT hosts_code UNIQUE (code) INCLUDE (note);",
        &["constraint hosts.hosts_code"],
        "ALTER TABLE hosts DROP CONSTRAINT hosts_code;
         ALTER TABLE hosts ADD CONSTRAINT hosts_code UNIQUE NULLS NOT DISTINCT (code) INCLUDE (note);",
    );
    downgraded_to_nothing(&p);
}

#[test]
fn partitions_unlogged_tables_and_inheritance_are_created_checked_and_dropped() {
    let Some(p) = upgraded(
        "pgt_partitions",
        PARTITIONS,
        &[
            ") PARTITION BY RANGE (logdate);",
            "CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            "CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (region);",
            "CREATE TABLE measurements_2025_eu PARTITION OF measurements_2025 FOR VALUES IN ('eu');",
            "CREATE INDEX measurements_region ON measurements (region);",
            "CREATE UNLOGGED TABLE staging (",
            ") WITH (fillfactor=60);",
            "ALTER TABLE capitals INHERIT cities;",
        ],
    ) else {
        return;
    };
    exec(
        &p.url,
        "INSERT INTO measurements VALUES (1, '2024-03-01', 'eu', 5), (2, '2025-03-01', 'us', 7);",
    );
    // A partition dropped by hand, one detached, a sub-partition's bound changed (drift
    // is what the database has that the migrations do not make).
    drifts(
        &p,
        "DROP TABLE measurements_2025_us;",
        &["drop table measurements_2025_us"],
        "CREATE TABLE measurements_2025_us PARTITION OF measurements_2025 FOR VALUES IN ('us');",
    );
    drifts(
        &p,
        "ALTER TABLE measurements DETACH PARTITION measurements_2024;",
        &["alter table measurements_2024: partition of measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') -> not a partition"],
        "ALTER TABLE measurements ATTACH PARTITION measurements_2024
             FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    );
    drifts(
        &p,
        "ALTER TABLE measurements_2025 DETACH PARTITION measurements_2025_eu;
         ALTER TABLE measurements_2025 ATTACH PARTITION measurements_2025_eu FOR VALUES IN ('eu', 'uk');",
        &["alter table measurements_2025_eu: partition of measurements_2025 FOR VALUES IN ('eu') -> partition of measurements_2025 FOR VALUES IN ('eu', 'uk')"],
        "ALTER TABLE measurements_2025 DETACH PARTITION measurements_2025_eu;
         ALTER TABLE measurements_2025 ATTACH PARTITION measurements_2025_eu FOR VALUES IN ('eu');",
    );
    // A child index dropped with its parent's and the parent's re-created.
    drifts(
        &p,
        "DROP INDEX measurements_region; CREATE INDEX measurements_region ON measurements (id);",
        &["create index measurements_region on measurements (id)"],
        "DROP INDEX measurements_region; CREATE INDEX measurements_region ON measurements (region);",
    );
    // Persistence, storage parameters, inheritance.
    drifts(
        &p,
        "ALTER TABLE staging SET LOGGED; ALTER TABLE staging RESET (fillfactor);",
        &["alter table staging: set logged, storage (fillfactor=60) -> ()"],
        "ALTER TABLE staging SET UNLOGGED; ALTER TABLE staging SET (fillfactor = 60);",
    );
    drifts(
        &p,
        "ALTER TABLE capitals NO INHERIT cities;",
        &["drop inheritance capitals"],
        "ALTER TABLE capitals INHERIT cities;",
    );
    // The detached and attached partition kept its row.
    assert_eq!(count(&p.url, "SELECT count(*) FROM measurements_2024"), 1);
    downgraded_to_nothing(&p);
}

#[test]
fn a_changed_partition_key_stops_autogenerate_naming_the_table() {
    let Some(p) = upgraded("pgt_key", PARTITIONS, &[]) else {
        return;
    };
    let changed = PARTITIONS.replace(
        ") PARTITION BY RANGE (logdate);",
        ") PARTITION BY LIST (region);",
    );
    let changed = changed
        .split("CREATE INDEX measurements_region")
        .next()
        .expect("the parent")
        .to_string()
        + "CREATE UNLOGGED TABLE staging (id INTEGER, payload TEXT) WITH (fillfactor = 60);\n\
           CREATE TABLE cities (name TEXT NOT NULL, population INTEGER);\n\
           CREATE TABLE capitals (country TEXT) INHERITS (cities);\n";
    std::fs::write(p.path().join("schema/schema.sql"), changed).expect("write");
    let (code, out) = run(&p, &["check"]);
    assert_eq!(code, 11, "{out}");
    assert!(
        out.contains("alter table measurements: partition key RANGE (logdate) -> LIST (region)"),
        "{out}"
    );
    let (code, out) = run(&p, &["revision", "--autogenerate", "-m", "rekey"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("table `measurements`: its partition key cannot be changed in place"),
        "{out}"
    );
    // Nothing written.
    let files = std::fs::read_dir(p.path().join("migrations"))
        .expect("migrations")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("rekey"))
        .count();
    assert_eq!(files, 0);
    // The same kind of change made by hand on the database is drift.
    std::fs::write(p.path().join("schema/schema.sql"), PARTITIONS).expect("write");
    exec(
        &p.url,
        "DROP TABLE measurements;
         CREATE TABLE measurements (id BIGINT NOT NULL, logdate DATE NOT NULL, region TEXT NOT NULL,
             reading INTEGER CHECK (reading >= 0)) PARTITION BY HASH (id);",
    );
    let (code, out) = run(&p, &["check"]);
    assert_eq!(code, 10, "{out}");
    assert!(
        out.contains("alter table measurements: partition key RANGE (logdate) -> HASH (id)"),
        "{out}"
    );
}
