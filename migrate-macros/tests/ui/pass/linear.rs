//! A linear chain: every field of every revision, in path order.

static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/linear");

fn main() {
    let m = MIGRATIONS.migrations;
    let revisions: Vec<&str> = m.iter().map(|m| &*m.revision).collect();
    assert_eq!(revisions, ["1a2b3c4d5e6f", "3f2a9c1b7d4e", "9c8b7a6d5e4f"]);
    assert_eq!(m[0].path, "1a2b3c4d5e6f_create_tickets.sql");
    assert!(m[0].down_revisions.is_empty());
    assert_eq!(m[1].down_revisions[..], ["1a2b3c4d5e6f"]);
    assert_eq!(m[2].down_revisions[..], ["3f2a9c1b7d4e"]);
    assert_eq!(m[1].message, "add ticket priority column");
    assert_eq!(m[1].create_date.as_deref(), Some("2025-01-15 10:30:00"));
    assert!(m.iter().all(|m| m.transactional && m.branch_labels.is_empty() && m.depends_on.is_empty()));
    assert_eq!(m[1].upgrade.len(), 1);
    assert_eq!(m[1].upgrade[0].dialect, None);
    assert_eq!(m[1].upgrade[0].line, 12);
    let extra: Vec<(&str, &str)> = m[1].extra_fields.iter().map(|(k, v)| (&**k, &**v)).collect();
    assert_eq!(extra, [("author", "ann"), ("jira", "DESK-42")]);
    assert!(m[0].extra_fields.is_empty());
    assert_eq!(
        m[1].upgrade[0].sql,
        "ALTER TABLE tickets ADD COLUMN priority VARCHAR(20) DEFAULT 'normal';\nCREATE INDEX ix_tickets_priority ON tickets (priority);\n"
    );
    assert_eq!(m[1].downgrade[0].sql, "DROP INDEX ix_tickets_priority;\nALTER TABLE tickets DROP COLUMN priority;\n");
    // No downgrade section: irreversible.
    assert!(m[2].downgrade.is_empty());
    assert!(!MIGRATIONS.allow_multiple_heads);
    let dir = MIGRATIONS.directory().expect("the macro validated the graph");
    assert_eq!(dir.map.heads(), ["9c8b7a6d5e4f"]);
    assert_eq!(dir.map.resolve("head-1").unwrap(), ["3f2a9c1b7d4e"]);
}
