//! MySQL/MariaDB introspection of what is not a plain column or key: `ON UPDATE`,
//! character sets and collations, comments, index prefix lengths, routines, events,
//! partitioning, sequences, system versioning and engines. Runs when
//! `MIGRATE_TEST_MYSQL_URL` is set.

use migrate_test_support as common;

use common::*;
use migrate_runtime::schema;
use migrate_runtime::schema::model::model::Stage;
use migrate_runtime::schema::model::{IndexKey, IndexPart, Schema};
use migrate_runtime::Database;

async fn mysql(tag: &str) -> Option<Database> {
    let admin = std::env::var("MIGRATE_TEST_MYSQL_URL").ok()?;
    let url = fresh_url("mysql", &admin, tag).await;
    Some(Database::connect(&url).await.expect("connect"))
}

async fn read(db: &Database) -> Schema {
    schema::introspect(db, &[])
        .await
        .unwrap_or_else(|e| panic!("introspect: {e}: {:?}", std::error::Error::source(&e)))
}

const TABLES: &str = "
CREATE TABLE accounts (
    id INT PRIMARY KEY,
    ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    name NVARCHAR(40) COMMENT 'shown to staff',
    code VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    KEY ix_name (name(10), code)
) DEFAULT CHARSET=utf8 COMMENT='who pays';
CREATE TABLE readings (id INT NOT NULL, at INT NOT NULL)
    PARTITION BY RANGE (at) (PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN MAXVALUE);
CREATE TABLE scratchpad (n INT) ENGINE=MyISAM;
CREATE TABLE places (
    id INT PRIMARY KEY,
    body TEXT,
    pos POINT NOT NULL,
    FULLTEXT KEY ft_body (body),
    SPATIAL KEY sp_pos (pos)
);
";

const ROUTINES: &str = "
CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
CREATE PROCEDURE purge_accounts() BEGIN DELETE FROM accounts WHERE id < 0; END;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DO DELETE FROM accounts WHERE id < 0;
";

const MARIADB: &str = "
CREATE SEQUENCE ticket_numbers START WITH 100;
CREATE TABLE audited (n INT) WITH SYSTEM VERSIONING;
";

async fn is_mariadb(db: &Database) -> bool {
    strings(db, "SELECT VERSION()").await[0].contains("MariaDB")
}

#[tokio::test]
async fn columns_tables_and_indexes_keep_what_mysql_adds_to_them() {
    let Some(db) = mysql("mo_columns").await else {
        return;
    };
    raw(&db, TABLES).await;
    let s = read(&db).await;
    let accounts = &s.tables["accounts"];
    let ts = accounts.get_column("ts").expect("ts");
    assert_eq!(ts.on_update.as_deref(), Some("current_timestamp()"));
    assert_eq!(ts.default.as_deref(), Some("current_timestamp()"));
    let name = accounts.get_column("name").expect("name");
    // `utf8` and `NVARCHAR` are utf8mb3 on MariaDB 10.11 (and MySQL 8).
    assert_eq!(name.collation.as_deref(), Some("utf8mb3_general_ci"));
    assert_eq!(name.comment.as_deref(), Some("shown to staff"));
    let code = accounts.get_column("code").expect("code");
    assert_eq!(code.collation.as_deref(), Some("utf8mb4_bin"));
    assert_eq!(accounts.get_column("id").expect("id").collation, None);
    let default = &s.objects["default collation accounts"];
    assert_eq!(default.definition, "utf8mb3_general_ci");
    assert_eq!(default.table.as_deref(), Some("accounts"));
    let comment = &s.objects["comment on table accounts"];
    assert_eq!(comment.definition, "'who pays'");
    assert_eq!(
        comment.create.as_deref(),
        Some(&["ALTER TABLE `accounts` COMMENT = 'who pays'".to_string()][..])
    );
    let ix = &accounts.indexes[0];
    assert_eq!(ix.name, "ix_name");
    assert_eq!(
        ix.parts,
        [
            IndexPart {
                length: Some(10),
                ..IndexPart::column("name")
            },
            IndexPart::column("code")
        ]
    );
    assert!(matches!(&ix.parts[0].key, IndexKey::Column(c) if c == "name"));
    let partitioning = &s.objects["partitioning readings"];
    assert!(
        partitioning
            .definition
            .starts_with("ALTER TABLE `readings` PARTITION BY RANGE"),
        "{partitioning:?}"
    );
    assert!(partitioning.definition.contains("`p1`"), "{partitioning:?}");
    assert_eq!(partitioning.stage, Stage::Late);
    assert_eq!(s.objects["engine scratchpad"].definition, "MyISAM");
    assert!(
        !s.objects.contains_key("engine accounts"),
        "InnoDB is the default"
    );
    assert!(s.tables.contains_key("scratchpad") && s.tables.contains_key("readings"));
    // FULLTEXT and SPATIAL indexes keep their kind.
    let methods: Vec<(&str, Option<&str>)> = s.tables["places"]
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.method.as_deref()))
        .collect();
    assert_eq!(
        methods,
        [("ft_body", Some("fulltext")), ("sp_pos", Some("spatial"))]
    );
    assert_eq!(
        s.tables["places"].indexes[1].parts,
        [IndexPart::column("pos")],
        "a spatial key has no prefix length"
    );
    db.close().await;
}

#[tokio::test]
async fn routines_events_and_mariadb_relations_are_objects() {
    let Some(db) = mysql("mo_routines").await else {
        return;
    };
    raw(&db, TABLES).await;
    raw(&db, ROUTINES).await;
    let mariadb = is_mariadb(&db).await;
    if mariadb {
        raw(&db, MARIADB).await;
    }
    let s = read(&db).await;
    let f = &s.objects["function add_one"];
    assert!(
        f.definition
            .starts_with("CREATE FUNCTION `add_one`(x INT) RETURNS int"),
        "{f:?}"
    );
    assert!(!f.definition.contains("DEFINER"), "{f:?}");
    assert_eq!(f.stage, Stage::AfterFunctions);
    assert_eq!(
        f.drop.as_deref(),
        Some(&["DROP FUNCTION IF EXISTS `add_one`".to_string()][..])
    );
    let p = &s.objects["procedure purge_accounts"];
    assert!(p.definition.ends_with("END"), "{p:?}");
    assert!(p.modelled);
    let e = &s.objects["event nightly"];
    assert!(
        e.definition
            .starts_with("CREATE EVENT `nightly` ON SCHEDULE EVERY 1 DAY ON COMPLETION"),
        "no definer, no start time: {e:?}"
    );
    assert_eq!(e.stage, Stage::Late);
    if mariadb {
        let seq = &s.objects["sequence ticket_numbers"];
        assert!(seq.definition.contains("start with 100"), "{seq:?}");
        assert_eq!(seq.stage, Stage::Early);
        assert!(!s.tables.contains_key("ticket_numbers"));
        assert!(s.tables.contains_key("audited"));
        assert_eq!(
            s.objects["system versioning audited"].create.as_deref(),
            Some(&["ALTER TABLE `audited` ADD SYSTEM VERSIONING".to_string()][..])
        );
    }
    // The same statements in another database read the same: no definer, database
    // name or creation time is compared.
    let other = mysql("mo_routines_b").await.expect("mysql");
    raw(&other, TABLES).await;
    raw(&other, ROUTINES).await;
    if mariadb {
        raw(&other, MARIADB).await;
    }
    assert_eq!(read(&other).await, s);
    db.close().await;
    other.close().await;
}
