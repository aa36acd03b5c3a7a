//! `depends_on` across two independent branches, accepted with `allow_multiple_heads`.

static MIGRATIONS: migrate_runtime::EmbeddedMigrations =
    migrate_runtime::embed_migrations!("tests/fixtures/depends-on", allow_multiple_heads);

fn main() {
    assert!(MIGRATIONS.allow_multiple_heads);
    let by_rev = |rev: &str| MIGRATIONS.migrations.iter().find(|m| m.revision == rev).unwrap();
    assert_eq!(by_rev("d1").depends_on[..], ["c1"]);
    assert_eq!(by_rev("d2").depends_on[..], ["core"]);
    assert!(by_rev("d1").down_revisions.is_empty());
    let dir = MIGRATIONS.directory().expect("valid graph");
    let mut heads = dir.map.heads();
    heads.sort();
    assert_eq!(heads, ["c2", "d2"]);
    // Several heads: `head` is an error at run time, `heads` works.
    assert!(dir.map.resolve_one("head").is_err());
    let plan = dir.map.upgrade_plan::<&str>(&[], "heads").unwrap();
    let order = plan.revisions();
    let pos = |r: &str| order.iter().position(|x| *x == r).unwrap();
    assert!(pos("c1") < pos("d1"));
    assert!(pos("c2") < pos("d2"), "d2 depends on the whole core branch: {order:?}");
}
