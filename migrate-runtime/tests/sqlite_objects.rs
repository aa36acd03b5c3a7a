//! SQLite introspection of `STRICT` and `WITHOUT ROWID` tables and of virtual tables
//! (kept as their stored statement, their shadow tables left out).

use migrate_test_support as common;

use common::*;
use migrate_runtime::schema;
use migrate_runtime::schema::model::model::Stage;
use migrate_runtime::schema::model::Schema;
use migrate_runtime::Database;

async fn sqlite() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/test.db", dir.path().display());
    let db = Database::connect(&url).await.expect("sqlite connects");
    (dir, db)
}

async fn read(db: &Database) -> Schema {
    schema::introspect(db, &[])
        .await
        .unwrap_or_else(|e| panic!("introspect: {e}: {:?}", std::error::Error::source(&e)))
}

#[tokio::test]
async fn strict_and_without_rowid_tables_read_back() {
    let (_dir, db) = sqlite().await;
    raw(
        &db,
        "CREATE TABLE plain (id INTEGER PRIMARY KEY, n INTEGER);
         CREATE TABLE typed (id INTEGER PRIMARY KEY, n INT NOT NULL) STRICT;
         CREATE TABLE keyed (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
         CREATE TABLE both_ (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID, STRICT;",
    )
    .await;
    let s = read(&db).await;
    let flags = |name: &str| (s.tables[name].strict, s.tables[name].without_rowid);
    assert_eq!(flags("plain"), (false, false));
    assert_eq!(flags("typed"), (true, false));
    assert_eq!(flags("keyed"), (false, true));
    assert_eq!(flags("both_"), (true, true));
    assert!(s.objects.is_empty(), "{:?}", s.objects);
    db.close().await;
}

#[tokio::test]
async fn virtual_tables_are_objects_without_their_shadow_tables() {
    let (_dir, db) = sqlite().await;
    raw(
        &db,
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
         CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs', content_rowid='id');
         CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
             INSERT INTO docs_fts(rowid, body) VALUES (new.id, new.body);
         END;",
    )
    .await;
    let s = read(&db).await;
    let names: Vec<&str> = s.tables.keys().map(String::as_str).collect();
    assert_eq!(names, ["docs"], "shadow tables are the virtual table's");
    let keys: Vec<&str> = s.objects.keys().map(String::as_str).collect();
    assert_eq!(keys, ["virtual table docs_fts"]);
    let fts = &s.objects["virtual table docs_fts"];
    assert_eq!(
        fts.definition,
        "CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs', content_rowid='id')"
    );
    assert_eq!(fts.create.as_deref(), Some(&[fts.definition.clone()][..]));
    assert_eq!(
        fts.drop.as_deref(),
        Some(&["DROP TABLE \"docs_fts\"".to_string()][..])
    );
    assert_eq!(fts.stage, Stage::AfterFunctions);
    assert!(fts.modelled);
    assert_eq!(s.triggers.len(), 1);
    db.close().await;
}
