//! PostgreSQL's index options and table options read back from a real server:
//! operator classes, key collations, `INCLUDE`, `NULLS NOT DISTINCT`, storage
//! parameters; partitioned tables, partitions (and sub-partitions), `UNLOGGED`,
//! `INHERITS`. Then each written by `render` into an empty database, read back the same,
//! and undone; and changes between two such schemas applied and undone.
//!
//! Runs when `MIGRATE_TEST_POSTGRES_URL` is set (a set URL that cannot be reached fails).

use migrate_test_support as common;

use migrate_runtime::schema::model::diff::diff;
use migrate_runtime::schema::model::render::{render, RenderError, RenderOptions};
use migrate_runtime::schema::model::{
    Change, Check, Index, IndexKey, IndexPart, PartitionOf, PostgresTable, Schema,
};
use migrate_runtime::schema::{self};
use migrate_runtime::{Database, Dialect};

/// A fresh database on the PostgreSQL server, dropped by [`Fresh::finish`].
struct Fresh {
    db: Database,
    admin: String,
    name: String,
}

async fn fresh(tag: &str) -> Option<Fresh> {
    let admin = std::env::var("MIGRATE_TEST_POSTGRES_URL").ok()?;
    let url = common::fresh_url("postgres", &admin, tag).await;
    let name = url
        .split('?')
        .next()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default()
        .to_string();
    let db = Database::connect(&url).await.expect("connect");
    Some(Fresh { db, admin, name })
}

impl Fresh {
    async fn finish(self) {
        self.db.close().await;
        let admin = Database::connect(&self.admin)
            .await
            .expect("admin connects");
        admin
            .drop_database(&self.name)
            .await
            .expect("the test database drops");
        admin.close().await;
    }
}

async fn exec(db: &Database, sql: &str) -> Result<(), String> {
    let p = db.as_postgres().expect("a PostgreSQL database");
    sqlx::raw_sql(sql)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e}\n--- SQL ---\n{sql}"))
}

async fn read(db: &Database) -> Schema {
    schema::introspect(db, &[])
        .await
        .unwrap_or_else(|e| panic!("introspect: {e}: {:?}", std::error::Error::source(&e)))
}

fn described(changes: &[Change]) -> String {
    changes.iter().map(|c| format!("  {c}\n")).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn column(name: &str) -> IndexPart {
    IndexPart {
        key: IndexKey::Column(name.into()),
        ..IndexPart::default()
    }
}

fn only_index<'a>(s: &'a Schema, table: &str, name: &str) -> &'a Index {
    s.tables[table]
        .indexes
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no index {name} on {table}: {:?}", s.tables[table].indexes))
}

/// Every feature at once, with a gist index on `inet` (which has no default gist
/// operator class) and range partitions.
const EVERYTHING: &str = r#"
CREATE TABLE hosts (
  id int PRIMARY KEY, creation_address inet, name text, label text COLLATE "C",
  note text, tenant int
);
CREATE INDEX hosts_address ON hosts USING gist (creation_address inet_ops);
CREATE INDEX hosts_name_pattern ON hosts (name text_pattern_ops DESC NULLS LAST);
CREATE INDEX hosts_name_c ON hosts (name COLLATE "C" NULLS FIRST);
CREATE INDEX hosts_label ON hosts (label);
CREATE INDEX hosts_lower ON hosts ((lower(name)) COLLATE "POSIX");
CREATE UNIQUE INDEX hosts_tenant ON hosts (tenant) INCLUDE (name, note) NULLS NOT DISTINCT
  WITH (fillfactor = 70);
CREATE TABLE keyed (id int, code text, extra text,
  CONSTRAINT keyed_code UNIQUE NULLS NOT DISTINCT (code) INCLUDE (extra));
CREATE UNLOGGED TABLE scratchpad (id int) WITH (fillfactor = 80, autovacuum_enabled = false);
CREATE TABLE events (id bigint NOT NULL, created_at date NOT NULL, region text,
  CHECK (id > 0), PRIMARY KEY (id, created_at, region)) PARTITION BY RANGE (created_at);
CREATE INDEX events_region ON events (region);
CREATE TABLE events_2024 PARTITION OF events
  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (region);
CREATE TABLE events_2024_eu PARTITION OF events_2024 FOR VALUES IN ('eu');
CREATE TABLE events_other PARTITION OF events
  (CONSTRAINT other_recent CHECK (created_at > '2000-01-01')) DEFAULT;
CREATE INDEX events_other_id ON events_other (id);
CREATE TABLE readings (id int PRIMARY KEY, event_id bigint, event_at date, event_region text,
  FOREIGN KEY (event_id, event_at, event_region) REFERENCES events);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER events_touch BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE base (id int CHECK (id > 0));
CREATE TABLE derived (extra text) INHERITS (base);
"#;

fn assert_indexes(s: &Schema) {
    let address = only_index(s, "hosts", "hosts_address");
    assert_eq!(address.method.as_deref(), Some("gist"));
    assert_eq!(
        address.parts,
        [IndexPart {
            opclass: Some("inet_ops".into()),
            ..column("creation_address")
        }]
    );
    assert_eq!(
        only_index(s, "hosts", "hosts_name_pattern").parts,
        [IndexPart {
            opclass: Some("text_pattern_ops".into()),
            descending: true,
            nulls_first: Some(false),
            ..column("name")
        }]
    );
    assert_eq!(
        only_index(s, "hosts", "hosts_name_c").parts,
        [IndexPart {
            collation: Some("C".into()),
            nulls_first: Some(true),
            ..column("name")
        }]
    );
    // The column's own collation is not the key's.
    assert_eq!(
        only_index(s, "hosts", "hosts_label").parts,
        [column("label")]
    );
    assert_eq!(
        only_index(s, "hosts", "hosts_lower").parts,
        [IndexPart {
            key: IndexKey::Expression("lower(name)".into()),
            collation: Some("POSIX".into()),
            ..IndexPart::default()
        }]
    );
    assert_eq!(
        *only_index(s, "hosts", "hosts_tenant"),
        Index {
            name: "hosts_tenant".into(),
            parts: vec![column("tenant")],
            unique: true,
            include: strs(&["name", "note"]),
            nulls_not_distinct: true,
            storage: strs(&["fillfactor=70"]),
            ..Index::default()
        }
    );
    // A unique constraint with index options is kept whole, not as a plain unique.
    assert!(s.tables["keyed"].uniques.is_empty());
    let keyed = &s.objects["constraint keyed.keyed_code"];
    assert_eq!(
        keyed.definition,
        "UNIQUE NULLS NOT DISTINCT (code) INCLUDE (extra)"
    );
}

fn assert_tables(s: &Schema) {
    assert_eq!(
        s.tables["scratchpad"].postgres,
        PostgresTable {
            unlogged: true,
            storage: strs(&["autovacuum_enabled=false", "fillfactor=80"]),
            ..PostgresTable::default()
        }
    );
    let events = &s.tables["events"];
    assert_eq!(
        events.postgres.partition_by.as_deref(),
        Some("RANGE (created_at)")
    );
    assert_eq!(events.columns.len(), 3);
    assert_eq!(events.indexes.len(), 1);
    let y2024 = &s.tables["events_2024"];
    assert_eq!(
        y2024.postgres,
        PostgresTable {
            partition_by: Some("LIST (region)".into()),
            partition_of: Some(PartitionOf {
                parent: "events".into(),
                bound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')".into(),
            }),
            ..PostgresTable::default()
        }
    );
    // Columns, checks and child indexes come from the parent: not listed.
    assert!(y2024.columns.is_empty() && y2024.checks.is_empty() && y2024.indexes.is_empty());
    let eu = &s.tables["events_2024_eu"];
    assert_eq!(
        eu.postgres.partition_of,
        Some(PartitionOf {
            parent: "events_2024".into(),
            bound: "FOR VALUES IN ('eu')".into(),
        })
    );
    assert!(eu.indexes.is_empty(), "{:?}", eu.indexes);
    let other = &s.tables["events_other"];
    assert_eq!(
        other.postgres.partition_of.as_ref().unwrap().bound,
        "DEFAULT"
    );
    assert_eq!(
        other.checks,
        [Check::new(
            Some("other_recent"),
            "created_at > '2000-01-01'::date"
        )]
    );
    let local: Vec<&str> = other.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(local, ["events_other_id"]);
    // The key and the foreign key that references the partitioned table are the
    // parent's alone (PostgreSQL copies both onto each partition).
    assert!(events.primary_key.is_some());
    assert!(y2024.primary_key.is_none() && eu.primary_key.is_none());
    assert_eq!(s.tables["readings"].foreign_keys.len(), 1);
    // A row trigger on the parent is its own: the partitions' copies are not listed.
    let triggers: Vec<&str> = s.triggers.keys().map(String::as_str).collect();
    assert_eq!(triggers, ["events.events_touch"]);
    // INHERITS: the child keeps its columns, and the link is an object of its own.
    let derived = &s.tables["derived"];
    let names: Vec<&str> = derived.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "extra"]);
    assert_eq!(derived.postgres, PostgresTable::default());
    assert_eq!(
        s.objects["inheritance derived"].definition,
        "INHERITS (base)"
    );
}

#[tokio::test]
async fn index_and_table_options_read_back_and_are_written_again() {
    let Some(a) = fresh("pgtab_read").await else {
        return;
    };
    exec(&a.db, EVERYTHING).await.expect("the schema loads");
    let s = read(&a.db).await;
    assert_indexes(&s);
    assert_tables(&s);

    // Written into an empty database by a rendered upgrade: the same schema, and the
    // downgrade leaves nothing.
    let b = fresh("pgtab_write").await.expect("PostgreSQL is set");
    let empty = Schema::default();
    let d = diff(&empty, &s).expect("diff");
    let options = RenderOptions {
        allow_destructive: true,
    };
    let r = render(&d, &empty, &s, Dialect::Postgres, &options).expect("render");
    exec(&b.db, &r.upgrade).await.expect("the upgrade runs");
    let written = read(&b.db).await;
    let rest = diff(&written, &s).expect("diff");
    assert!(
        rest.is_empty(),
        "still to change:\n{}--- upgrade ---\n{}",
        described(&rest.changes),
        r.upgrade
    );
    exec(&b.db, &r.downgrade).await.expect("the downgrade runs");
    let left = read(&b.db).await;
    assert!(left.is_empty(), "left after the downgrade: {left:?}");
    a.finish().await;
    b.finish().await;
}

/// Runs a client program on a database, answering its output.
fn client(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_pg_dump_of_partitions_and_index_options_reads_back_the_same() {
    let Some(a) = fresh("pgtab_dump").await else {
        return;
    };
    exec(&a.db, EVERYTHING).await.expect("the schema loads");
    let url = Database::url_with_database(&a.admin, &a.name);
    let dump = client(
        "pg_dump",
        &["--schema-only", "--no-owner", "--no-privileges", &url],
    );
    // pg_dump writes partitions as tables attached afterwards, and child indexes as
    // indexes attached to their parent's: they must read back as declared.
    assert!(dump.contains("ATTACH PARTITION"), "{dump}");
    let b = fresh("pgtab_dump").await.expect("PostgreSQL is set");
    // Loaded as its own client loads it.
    let file = std::env::temp_dir().join(format!("{}.sql", b.name));
    std::fs::write(&file, &dump).expect("the dump is written");
    let b_url = Database::url_with_database(&b.admin, &b.name);
    let path = file.display().to_string();
    client(
        "psql",
        &["-q", "-v", "ON_ERROR_STOP=1", "-f", &path, &b_url],
    );
    std::fs::remove_file(&file).expect("the dump is removed");
    let (original, reloaded) = (read(&a.db).await, read(&b.db).await);
    let d = diff(&original, &reloaded).expect("diff");
    assert!(d.is_empty(), "{}\n{dump}", described(&d.changes));
    a.finish().await;
    b.finish().await;
}

/// `from` and `to` created in two databases; the rendered change applied to the first
/// must read back as the second, and its downgrade as the first again.
async fn change_round_trip(tag: &str, from_sql: &str, to_sql: &str, rows: &str) {
    let Some(a) = fresh(tag).await else {
        return;
    };
    let b = fresh(tag).await.expect("PostgreSQL is set");
    exec(&a.db, from_sql).await.expect("from loads");
    exec(&b.db, to_sql).await.expect("to loads");
    exec(&a.db, rows).await.expect("rows load");
    let (from, to) = (read(&a.db).await, read(&b.db).await);
    let d = diff(&from, &to).expect("diff");
    assert!(!d.is_empty(), "{tag}: the schemas differ");
    let options = RenderOptions {
        allow_destructive: true,
    };
    let r = render(&d, &from, &to, Dialect::Postgres, &options).expect("render");
    let context = format!(
        "{tag}\n--- changes ---\n{}--- upgrade ---\n{}--- downgrade ---\n{}",
        described(&d.changes),
        r.upgrade,
        r.downgrade
    );
    exec(&a.db, &r.upgrade)
        .await
        .unwrap_or_else(|e| panic!("upgrade: {e}\n{context}"));
    let rest = diff(&read(&a.db).await, &to).expect("diff");
    assert!(
        rest.is_empty(),
        "after the upgrade:\n{}{context}",
        described(&rest.changes)
    );
    exec(&a.db, &r.downgrade)
        .await
        .unwrap_or_else(|e| panic!("downgrade: {e}\n{context}"));
    let rest = diff(&read(&a.db).await, &from).expect("diff");
    assert!(
        rest.is_empty(),
        "after the downgrade:\n{}{context}",
        described(&rest.changes)
    );
    a.finish().await;
    b.finish().await;
}

const PARENT: &str =
    "CREATE TABLE ev (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);\n";

#[tokio::test]
async fn a_changed_bound_is_detached_and_attached_with_its_rows() {
    let from = format!(
        "{PARENT}CREATE TABLE ev_a PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2024-07-01');"
    );
    let to = format!(
        "{PARENT}CREATE TABLE ev_a PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n\
         CREATE TABLE ev_b PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
    );
    change_round_trip(
        "pgtab_bound",
        &from,
        &to,
        "INSERT INTO ev VALUES (1, '2024-02-01');",
    )
    .await;
}

#[tokio::test]
async fn index_options_unlogged_and_storage_changes_apply_and_undo() {
    let from = "CREATE TABLE h (id int, addr inet, name text, note text);
CREATE INDEX h_addr ON h USING gist (addr inet_ops);
CREATE UNIQUE INDEX h_name ON h (name) INCLUDE (note);
CREATE TABLE s (id int) WITH (fillfactor = 70);";
    let to = "CREATE TABLE h (id int, addr inet, name text, note text);
CREATE INDEX h_addr ON h USING gist (addr inet_ops) WITH (fillfactor = 50);
CREATE UNIQUE INDEX h_name ON h (name text_pattern_ops) NULLS NOT DISTINCT;
CREATE UNLOGGED TABLE s (id int) WITH (autovacuum_enabled = false);";
    change_round_trip("pgtab_options", from, to, "INSERT INTO s VALUES (1);").await;
}

#[tokio::test]
async fn a_changed_partition_key_is_reported_and_not_rendered() {
    let Some(a) = fresh("pgtab_key").await else {
        return;
    };
    let b = fresh("pgtab_key").await.expect("PostgreSQL is set");
    exec(&a.db, PARENT).await.expect("from loads");
    exec(
        &b.db,
        "CREATE TABLE ev (id int NOT NULL, at date NOT NULL) PARTITION BY HASH (id);",
    )
    .await
    .expect("to loads");
    let (from, to) = (read(&a.db).await, read(&b.db).await);
    let d = diff(&from, &to).expect("diff");
    let described: Vec<String> = d.differences().iter().map(|c| c.describe()).collect();
    assert_eq!(
        described,
        ["alter table ev: partition key RANGE (at) -> HASH (id)"]
    );
    let e = render(&d, &from, &to, Dialect::Postgres, &RenderOptions::default())
        .expect_err("a partition key cannot change in place");
    assert!(
        matches!(&e, RenderError::Unalterable { table, .. } if table == "ev"),
        "{e:?}"
    );
    assert!(e.to_string().contains("`ev`"), "{e}");
    a.finish().await;
    b.finish().await;
}
