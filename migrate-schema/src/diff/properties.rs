//! Properties of the diff over generated schemas: it applies in order and back, and
//! renders on every database.

use super::generated::{apply_all, mutate, normalized, schema};
use super::*;
use crate::model::*;
use proptest::prelude::*;

fn unnamed(s: &Schema) -> Schema {
    let mut s = normalized(s);
    for t in s.tables.values_mut() {
        t.uniques.iter_mut().for_each(|u| u.name = None);
        t.checks.iter_mut().for_each(|k| k.name = None);
        t.foreign_keys.iter_mut().for_each(|k| k.name = None);
        if let Some(p) = &mut t.primary_key {
            p.name = None;
        }
    }
    normalized(&s)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn same_schema_has_no_changes(seed in any::<u64>(), pg in any::<bool>()) {
        let a = schema(seed, pg);
        let d = diff(&a, &a).unwrap();
        prop_assert!(d.is_empty(), "{:?}", d.changes);
        // Whatever the order of the collections.
        let mut shuffled = a.clone();
        for t in shuffled.tables.values_mut() {
            t.columns.reverse();
            t.checks.reverse();
            t.uniques.reverse();
            t.foreign_keys.reverse();
        }
        prop_assert!(diff(&a, &shuffled).unwrap().is_empty());
    }

    #[test]
    fn empty_diff_iff_equal(seed in any::<u64>(), m in any::<u64>(), ops in 0usize..4, pg in any::<bool>()) {
        let a = schema(seed, pg);
        let b = mutate(&a, m, ops, false, pg);
        let d = diff(&a, &b).unwrap();
        prop_assert_eq!(d.is_empty(), normalized(&a) == normalized(&b), "{:?}", d.changes);
    }

    #[test]
    fn unnamed_target_constraints_ignore_names(seed in any::<u64>()) {
        let a = schema(seed, false);
        let mut b = a.clone();
        for t in b.tables.values_mut() {
            t.uniques.iter_mut().for_each(|u| u.name = None);
            t.checks.iter_mut().for_each(|k| k.name = None);
            t.foreign_keys.iter_mut().for_each(|k| k.name = None);
            if let Some(p) = &mut t.primary_key { p.name = None; }
        }
        prop_assert!(diff(&a, &b).unwrap().is_empty());
    }

    #[test]
    fn inverse_of_inverse(seed in any::<u64>(), m in any::<u64>(), ops in 1usize..8, pg in any::<bool>()) {
        let a = schema(seed, pg);
        let b = mutate(&a, m, ops, true, pg);
        let d = diff(&a, &b).unwrap();
        prop_assert_eq!(d.inverse().inverse(), d.clone());
        for c in &d.changes {
            prop_assert_eq!(c.inverse().inverse(), c.clone());
        }
    }

    /// The changes apply in order to the model (each finding what it needs and
    /// leaving nothing that uses what it drops), reach `b`, and their inverses,
    /// backwards, reach `a` again.
    #[test]
    fn changes_apply_in_order_and_back(seed in any::<u64>(), m in any::<u64>(), ops in 1usize..10, pg in any::<bool>()) {
        let a = schema(seed, pg);
        let b = mutate(&a, m, ops, true, pg);
        let d = diff(&a, &b).unwrap();
        // Constraint names aside: an unnamed constraint of `b` keeps the name `a`
        // gave it (the diff does not care, nor does a database).
        let up = apply_all(&a, &d);
        prop_assert_eq!(unnamed(&up), unnamed(&b), "{:#?}", d.changes);
        let down = apply_all(&up, &d.inverse());
        prop_assert_eq!(normalized(&down), normalized(&a));
        // And the diff agrees.
        prop_assert!(diff(&up, &b).unwrap().is_empty());
    }

    #[test]
    fn renders_on_every_database(seed in any::<u64>(), m in any::<u64>(), ops in 1usize..8, allow in any::<bool>()) {
        for (dialect, pg) in [(migrate_core::Dialect::Postgres, true), (migrate_core::Dialect::Sqlite, false), (migrate_core::Dialect::Mysql, false)] {
            let a = schema(seed, pg);
            let b = mutate(&a, m, ops, true, pg);
            let d = diff(&a, &b).unwrap();
            let r = crate::render::render(&d, &a, &b, dialect, &crate::render::RenderOptions { allow_destructive: allow }).unwrap();
            prop_assert_eq!(r.upgrade.is_empty(), d.is_empty());
            for line in r.upgrade.lines().chain(r.downgrade.lines()) {
                prop_assert!(line.starts_with("-- ") || line.ends_with(';') || !line.ends_with(")") || line.starts_with("    ") || line.starts_with("   "), "{}", line);
            }
            if !allow && d.is_destructive() {
                prop_assert!(!r.warnings.is_empty());
                prop_assert!(r.upgrade.contains("-- autogenerate: destructive change, uncomment to apply: "));
            }
        }
    }
}
