//! Files checked out with CRLF line endings hash and parse like their LF twins: the
//! `crlf` fixture is `linear` with `\r\n`, and both share one `migrations.sum` text.

static LF: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/linear");
static CRLF: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/crlf");

fn main() {
    assert!(include_str!("../../fixtures/crlf/3f2a9c1b7d4e_add_priority.sql").contains("\r\n"));
    assert_eq!(LF.migrations.len(), 3);
    assert_eq!(CRLF.migrations.len(), 3);
    for (lf, crlf) in LF.migrations.iter().zip(CRLF.migrations) {
        assert_eq!(lf.checksum, crlf.checksum, "{}", lf.path);
        assert_eq!(lf, crlf);
        for s in crlf.upgrade.iter().chain(crlf.downgrade.iter()) {
            assert!(!s.sql.contains('\r'), "{}: {:?}", crlf.path, s.sql);
        }
    }
}
