//! trybuild: every error `embed_migrations!` reports, and the folders it accepts.
//!
//! trybuild compiles each case in its own scratch crate, whose `CARGO_MANIFEST_DIR` is
//! not this crate's (trybuild issue #202), so the test points the macro at this crate
//! through `MIGRATE_MACROS_MANIFEST_DIR`; the fixture paths in `tests/ui/**` are then
//! relative to `migrate-macros/`, as they would be in a real crate.

#[test]
fn ui() {
    std::env::set_var("MIGRATE_MACROS_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
