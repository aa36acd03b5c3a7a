//! A seeded generator of schemas and of changed copies of them, and a model-level
//! `apply` that checks each change against the state it runs in, as a database would
//! (what it drops exists and nothing still uses it, what it adds is new and what it uses
//! is there): shared by the properties here and the rendering tests.

use super::*;
use crate::model::*;
use std::collections::{HashMap, HashSet};

/// splitmix64.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

pub(crate) const TABLES: [&str; 6] = ["alpha", "beta", "gamma", "delta", "order", "Mixed"];
pub(crate) const COLUMNS: [&str; 7] = ["a", "b", "c", "note", "score", "title", "Up"];
pub(crate) const TYPES: [&str; 6] = [
    "integer",
    "bigint",
    "varchar(10)",
    "varchar(20)",
    "text",
    "numeric(10,2)",
];

fn is_int(t: &str) -> bool {
    t == "integer" || t == "bigint"
}

fn default_for(rng: &mut Rng, ty: &str) -> Option<String> {
    if !rng.chance(30) {
        return None;
    }
    Some(match ty {
        "integer" | "bigint" => format!("{}", rng.below(9)),
        "numeric(10,2)" => "1.50".into(),
        _ => format!("'{}'", rng.pick(&["x", "y", "it''s"])),
    })
}

/// A constraint name decided by its content, so that equal constraints on both
/// sides have the same name (or none).
fn name_for(content: &str, prefix: &str) -> Option<String> {
    let h = content
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    (h % 3 == 0).then(|| format!("{prefix}_{}", h % 1000))
}

fn column(rng: &mut Rng, name: &str) -> Column {
    let ty = *rng.pick(&TYPES);
    Column {
        name: name.into(),
        data_type: ty.into(),
        nullable: rng.chance(70),
        default: default_for(rng, ty),
        identity: None,
        generated: None,
        collation: None,
        renamed_from: None,
        ..Default::default()
    }
}

fn table(rng: &mut Rng, name: &str, others: &[&str]) -> Table {
    let mut t = Table::new(name)
        .column(Column::new("id", "integer").not_null())
        .primary_key(&["id"]);
    for c in COLUMNS {
        if rng.chance(45) {
            t.columns.push(column(rng, c));
        }
    }
    if !others.is_empty() && rng.chance(50) {
        t.columns.push(Column::new("parent_id", "integer"));
        let target = *rng.pick(others);
        add_fk(rng, &mut t, target);
    }
    for _ in 0..2 {
        add_constraint(rng, &mut t);
    }
    t
}

fn add_fk(rng: &mut Rng, t: &mut Table, target: &str) {
    if t.get_column("parent_id").is_none() {
        t.columns.push(Column::new("parent_id", "integer"));
    }
    let on_delete = *rng.pick(&[
        ReferentialAction::NoAction,
        ReferentialAction::Cascade,
        ReferentialAction::SetNull,
    ]);
    let content = format!("{}{target}{on_delete:?}", t.name);
    t.foreign_keys.push(ForeignKey {
        name: name_for(&content, "fk"),
        columns: vec!["parent_id".into()],
        referenced_table: target.into(),
        referenced_columns: vec!["id".into()],
        on_delete,
        on_update: ReferentialAction::NoAction,
        deferrable: Deferrable::NotDeferrable,
    });
}

/// Columns a key or index may cover (not text: MySQL cannot index it whole).
fn keyable(t: &Table) -> Vec<String> {
    t.columns
        .iter()
        .filter(|c| c.data_type != "text" && c.name != "id" && c.name != "parent_id")
        .map(|c| c.name.clone())
        .collect()
}

fn add_constraint(rng: &mut Rng, t: &mut Table) {
    let keyable = keyable(t);
    if keyable.is_empty() {
        return;
    }
    let col = rng.pick(&keyable).clone();
    match rng.below(3) {
        0 if !t.uniques.iter().any(|u| u.columns == [col.clone()]) => t.uniques.push(Unique {
            name: name_for(&format!("{}u{col}", t.name), "uq"),
            columns: vec![col],
        }),
        1 => {
            let ints: Vec<&Column> = t
                .columns
                .iter()
                .filter(|c| is_int(&c.data_type) && c.name != "id" && c.name != "parent_id")
                .collect();
            if let Some(c) = ints.first() {
                let q = if crate::render::needs_quotes(&c.name) {
                    format!("\"{}\"", c.name)
                } else {
                    c.name.clone()
                };
                let expression = format!("{q} > {}", rng.below(3));
                if !t.checks.iter().any(|k| k.expression == expression) {
                    t.checks.push(Check {
                        name: name_for(&format!("{}c{expression}", t.name), "ck"),
                        expression,
                        not_valid: false,
                    });
                }
            }
        }
        _ => {
            let name = format!("ix_{}_{}", t.name.to_lowercase(), col.to_lowercase());
            if !t.indexes.iter().any(|i| i.name == name) {
                t.indexes.push(Index {
                    name,
                    parts: vec![IndexPart {
                        key: IndexKey::Column(col),
                        descending: rng.chance(30),
                        ..Default::default()
                    }],
                    unique: rng.chance(20),
                    predicate: None,
                    method: None,
                    ..Default::default()
                });
            }
        }
    }
}

/// A schema; `postgres` adds enums and sequences.
pub(crate) fn schema(seed: u64, postgres: bool) -> Schema {
    let mut rng = Rng(seed);
    let mut s = Schema::default();
    let names: Vec<&str> = TABLES.iter().copied().filter(|_| rng.chance(60)).collect();
    for (i, n) in names.iter().enumerate() {
        let t = table(&mut rng, n, &names[..i]);
        s.add_table(t);
    }
    add_view(&mut rng, &mut s);
    if postgres {
        if rng.chance(50) {
            s.enums.insert(
                "mood".into(),
                EnumType {
                    name: "mood".into(),
                    values: vec!["happy".into(), "sad".into()],
                },
            );
            if let Some(t) = s.tables.values_mut().next() {
                t.columns
                    .push(Column::new("mood", "mood").default_expr("'happy'::mood"));
            }
        }
        if rng.chance(50) {
            s.sequences.insert(
                "ticket_no".into(),
                Sequence {
                    name: "ticket_no".into(),
                    data_type: "bigint".into(),
                    start: 1,
                    increment: 1,
                    min_value: 1,
                    max_value: i64::MAX,
                    cycle: false,
                },
            );
        }
    }
    fixup(&mut s);
    s
}

fn add_view(rng: &mut Rng, s: &mut Schema) {
    let tables: Vec<&Table> = s.tables.values().collect();
    if tables.is_empty() || !rng.chance(50) {
        return;
    }
    let t = *rng.pick(&tables);
    let col = rng.pick(&t.columns).name.clone();
    let q = |n: &str| {
        if crate::render::needs_quotes(n) {
            format!("\"{n}\"")
        } else {
            n.to_string()
        }
    };
    let name = format!("v_{}", t.name.to_lowercase());
    let definition = format!("SELECT id, {} FROM {}", q(&col), q(&t.name));
    s.views.insert(name.clone(), View { name, definition });
}

/// Removes what a change left dangling: keys over missing or text columns, checks
/// over non-integer columns, foreign keys to missing tables, views over missing
/// tables or columns.
pub(crate) fn fixup(s: &mut Schema) {
    let tables: HashSet<String> = s.tables.keys().cloned().collect();
    for t in s.tables.values_mut() {
        let cols: HashMap<String, String> = t
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.data_type.clone()))
            .collect();
        let ok = |c: &String| cols.get(c).is_some_and(|ty| ty != "text");
        t.uniques.retain(|u| u.columns.iter().all(ok));
        t.indexes.retain(|i| {
            i.parts
                .iter()
                .all(|p| matches!(&p.key, IndexKey::Column(c) if ok(c)))
        });
        t.checks.retain(|k| {
            let w = words(&k.expression);
            cols.iter()
                .any(|(c, ty)| w.contains(&c.to_lowercase()) && is_int(ty))
                && !cols
                    .iter()
                    .any(|(c, ty)| w.contains(&c.to_lowercase()) && !is_int(ty))
        });
        t.foreign_keys.retain(|k| {
            tables.contains(&k.referenced_table) && k.columns.iter().all(|c| cols.contains_key(c))
        });
        // A column of a dropped enum goes too.
    }
    // Index names are the schema's (PostgreSQL, SQLite): one of each.
    let mut seen: HashSet<String> = HashSet::new();
    for t in s.tables.values_mut() {
        t.indexes.retain(|i| seen.insert(i.name.clone()));
    }
    let enums: HashSet<String> = s.enums.keys().cloned().collect();
    for t in s.tables.values_mut() {
        t.columns
            .retain(|c| c.data_type != "mood" || enums.contains("mood"));
    }
    let snapshot = s.tables.clone();
    s.views.retain(|_, v| {
        let w = words(&v.definition);
        snapshot.values().any(|t| {
            w.contains(&t.name.to_lowercase())
                && w.iter().all(|x| {
                    matches!(x.as_str(), "select" | "from" | "id")
                        || x == &t.name.to_lowercase()
                        || t.columns.iter().any(|c| c.name.to_lowercase() == *x)
                })
        })
    });
}

/// A changed copy of `s`: `ops` random changes; `renames` allows annotated renames.
pub(crate) fn mutate(s: &Schema, seed: u64, ops: usize, renames: bool, postgres: bool) -> Schema {
    let mut rng = Rng(seed);
    let original = s;
    let mut s = s.clone();
    // Whether a table (by its current name) and a column of it were in `original`:
    // only those can carry a rename annotation.
    let was_there = |t: &Table, column: Option<&Column>| {
        let old_table = t.renamed_from.as_deref().unwrap_or(&t.name);
        original.tables.get(old_table).is_some_and(|o| {
            column.is_none_or(|c| {
                o.get_column(c.renamed_from.as_deref().unwrap_or(&c.name))
                    .is_some()
            })
        })
    };
    for _ in 0..ops {
        let names: Vec<String> = s.tables.keys().cloned().collect();
        let pick_table = |rng: &mut Rng| (!names.is_empty()).then(|| rng.pick(&names).clone());
        match rng.below(16) {
            0 => {
                if let Some(n) = pick_table(&mut rng) {
                    s.tables.remove(&n);
                }
            }
            1 => {
                let free: Vec<&str> = TABLES
                    .iter()
                    .copied()
                    .filter(|n| !s.tables.contains_key(*n) && !claimed_tables(&s).contains(*n))
                    .collect();
                if !free.is_empty() {
                    let n = *rng.pick(&free);
                    let others: Vec<&str> = names.iter().map(String::as_str).collect();
                    let t = table(&mut rng, n, &others);
                    s.add_table(t);
                }
            }
            2 => {
                if let Some(n) = pick_table(&mut rng) {
                    let t = s.table_mut(&n).unwrap();
                    let free: Vec<&str> = COLUMNS
                        .iter()
                        .copied()
                        .filter(|c| {
                            t.get_column(c).is_none()
                                && !t
                                    .columns
                                    .iter()
                                    .any(|x| x.renamed_from.as_deref() == Some(*c))
                        })
                        .collect();
                    if !free.is_empty() {
                        let c = *rng.pick(&free);
                        t.columns.push(column(&mut rng, c));
                    }
                }
            }
            3 => {
                if let Some(n) = pick_table(&mut rng) {
                    let t = s.table_mut(&n).unwrap();
                    if t.columns.len() > 1 {
                        let k = 1 + rng.below(t.columns.len() - 1);
                        t.columns.remove(k);
                    }
                }
            }
            4..=6 => {
                if let Some(n) = pick_table(&mut rng) {
                    let t = s.table_mut(&n).unwrap();
                    let k = rng.below(t.columns.len());
                    let c = &mut t.columns[k];
                    if c.name != "id" && c.name != "parent_id" && c.data_type != "mood" {
                        match rng.below(3) {
                            0 => {
                                c.data_type = rng.pick(&TYPES).to_string();
                                let d = default_for(&mut rng, &c.data_type.clone());
                                c.default = d;
                            }
                            1 => c.nullable = !c.nullable,
                            _ => {
                                let d = default_for(&mut rng, &c.data_type.clone());
                                c.default = d;
                            }
                        }
                    }
                }
            }
            7 | 8 => {
                if let Some(n) = pick_table(&mut rng) {
                    let t = s.table_mut(&n).unwrap();
                    if rng.chance(50) {
                        add_constraint(&mut rng, t);
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
            }
            9 => {
                if let Some(n) = pick_table(&mut rng) {
                    let target = rng.pick(&names).clone();
                    let t = s.table_mut(&n).unwrap();
                    if t.foreign_keys.is_empty() {
                        add_fk(&mut rng, t, &target);
                    } else if rng.chance(50) {
                        t.foreign_keys.clear();
                    } else {
                        t.foreign_keys[0].on_delete = ReferentialAction::Cascade;
                        let content = format!(
                            "{}{}{:?}",
                            t.name,
                            t.foreign_keys[0].referenced_table,
                            ReferentialAction::Cascade
                        );
                        t.foreign_keys[0].name = name_for(&content, "fk");
                    }
                }
            }
            10 if renames => {
                // Not a name `original` has: that table would match by name.
                let free: Vec<&str> = TABLES
                    .iter()
                    .copied()
                    .filter(|n| {
                        !s.tables.contains_key(*n)
                            && !claimed_tables(&s).contains(*n)
                            && !original.tables.contains_key(*n)
                    })
                    .collect();
                if let (Some(n), false) = (pick_table(&mut rng), free.is_empty()) {
                    let new = rng.pick(&free).to_string();
                    let mut t = s.tables.remove(&n).unwrap();
                    t.name = new.clone();
                    // A second rename keeps the first old name.
                    let annotated = was_there(&t, None);
                    t.renamed_from = t.renamed_from.clone().or(Some(n.clone()));
                    if !annotated {
                        t.renamed_from = None;
                    }
                    // The database renames references and views' tables itself;
                    // views here are dropped rather than rewritten.
                    for u in s.tables.values_mut() {
                        for k in &mut u.foreign_keys {
                            if k.referenced_table == n {
                                k.referenced_table = new.clone();
                            }
                        }
                    }
                    for k in &mut t.foreign_keys {
                        if k.referenced_table == n {
                            k.referenced_table = new.clone();
                        }
                    }
                    s.add_table(t);
                    s.views
                        .retain(|_, v| !words(&v.definition).contains(&n.to_lowercase()));
                }
            }
            11 if renames => {
                if let Some(n) = pick_table(&mut rng) {
                    let t = s.table_mut(&n).unwrap();
                    let free: Vec<&str> = COLUMNS
                        .iter()
                        .copied()
                        .filter(|c| {
                            t.get_column(c).is_none()
                                && !t
                                    .columns
                                    .iter()
                                    .any(|x| x.renamed_from.as_deref() == Some(*c))
                        })
                        .collect();
                    let candidates: Vec<usize> = (0..t.columns.len())
                        .filter(|k| {
                            !["id", "parent_id", "mood"].contains(&t.columns[*k].name.as_str())
                        })
                        .collect();
                    if !free.is_empty() && !candidates.is_empty() {
                        let k = *rng.pick(&candidates);
                        let old = t.columns[k].name.clone();
                        let new = rng.pick(&free).to_string();
                        // Not a name the original table has: it would match by name.
                        let taken = original
                            .tables
                            .get(t.renamed_from.as_deref().unwrap_or(&t.name))
                            .is_some_and(|o| o.get_column(&new).is_some());
                        let annotated = was_there(t, Some(&t.columns[k])) && !taken;
                        t.columns[k].name = new.clone();
                        t.columns[k].renamed_from =
                            t.columns[k].renamed_from.clone().or(Some(old.clone()));
                        if !annotated {
                            t.columns[k].renamed_from = None;
                        }
                        for u in &mut t.uniques {
                            for c in &mut u.columns {
                                if *c == old {
                                    *c = new.clone();
                                }
                            }
                        }
                        for i in &mut t.indexes {
                            for p in &mut i.parts {
                                if p.key == IndexKey::Column(old.clone()) {
                                    p.key = IndexKey::Column(new.clone());
                                }
                            }
                        }
                        // Check texts are not rewritten here: they are dropped.
                        t.checks
                            .retain(|c| !words(&c.expression).contains(&old.to_lowercase()));
                        s.views
                            .retain(|_, v| !words(&v.definition).contains(&n.to_lowercase()));
                    }
                }
            }
            12 => {
                if rng.chance(50) {
                    s.views.clear();
                }
                add_view(&mut rng, &mut s);
            }
            13 if postgres => match s.enums.get_mut("mood") {
                Some(e) => match rng.below(3) {
                    0 => e.values.insert(1, "meh".into()),
                    1 => e.values.reverse(),
                    _ => {
                        s.enums.clear();
                    }
                },
                None => {
                    s.enums.insert(
                        "mood".into(),
                        EnumType {
                            name: "mood".into(),
                            values: vec!["happy".into(), "sad".into()],
                        },
                    );
                }
            },
            14 if postgres => {
                if let Some(q) = s.sequences.get_mut("ticket_no") {
                    if rng.chance(50) {
                        q.increment = 5;
                    } else {
                        s.sequences.clear();
                    }
                } else {
                    s.sequences.insert(
                        "ticket_no".into(),
                        Sequence {
                            name: "ticket_no".into(),
                            data_type: "integer".into(),
                            start: 10,
                            increment: 1,
                            min_value: 1,
                            max_value: 1000,
                            cycle: true,
                        },
                    );
                }
            }
            _ => {}
        }
        fixup(&mut s);
    }
    s
}

fn claimed_tables(s: &Schema) -> HashSet<String> {
    s.tables
        .values()
        .filter_map(|t| t.renamed_from.clone())
        .collect()
}

/// The schema without annotations, each collection in a canonical order.
pub(crate) fn normalized(s: &Schema) -> Schema {
    let mut s = s.clone();
    for t in s.tables.values_mut() {
        t.renamed_from = None;
        for c in &mut t.columns {
            c.renamed_from = None;
        }
        t.columns.sort_by(|a, b| a.name.cmp(&b.name));
        t.uniques.sort_by_key(|u| format!("{u:?}"));
        t.indexes.sort_by_key(|i| format!("{i:?}"));
        t.foreign_keys.sort_by_key(|k| format!("{k:?}"));
        t.checks.sort_by_key(|k| format!("{k:?}"));
    }
    s
}

fn table_of<'a>(s: &'a mut Schema, name: &str, c: &Change) -> &'a mut Table {
    s.tables
        .get_mut(name)
        .unwrap_or_else(|| panic!("{c}: no table {name}"))
}

fn strip(c: &Column) -> Column {
    Column {
        renamed_from: None,
        ..c.clone()
    }
}

/// Applies one change to the model, checking what a database would refuse.
pub(crate) fn apply(s: &mut Schema, c: &Change) {
    let uses_table = |s: &Schema, name: &str| {
        s.tables
            .values()
            .any(|t| t.name != name && t.foreign_keys.iter().any(|k| k.referenced_table == name))
    };
    match c {
        Change::CreateTable(t) => {
            assert!(!s.tables.contains_key(&t.name), "{c}: exists");
            assert!(t.foreign_keys.is_empty() && t.indexes.is_empty());
            s.add_table(t.clone());
        }
        Change::DropTable(t) => {
            let cur = s
                .tables
                .get(&t.name)
                .unwrap_or_else(|| panic!("{c}: missing"));
            assert!(
                cur.foreign_keys.is_empty() && cur.indexes.is_empty(),
                "{c}: keys left"
            );
            assert_eq!(
                normalized_table(cur),
                normalized_table(t),
                "{c}: not as recorded"
            );
            assert!(!uses_table(s, &t.name), "{c}: still referenced");
            assert!(
                !s.views
                    .values()
                    .any(|v| words(&v.definition).contains(&t.name.to_lowercase())),
                "{c}: a view reads it"
            );
            s.tables.remove(&t.name);
        }
        Change::RenameTable { from, to } => {
            assert!(!s.tables.contains_key(to), "{c}: target exists");
            let mut t = s
                .tables
                .remove(from)
                .unwrap_or_else(|| panic!("{c}: missing"));
            t.name = to.clone();
            for k in &mut t.foreign_keys {
                if k.referenced_table == *from {
                    k.referenced_table = to.clone();
                }
            }
            s.add_table(t);
            for u in s.tables.values_mut() {
                for k in &mut u.foreign_keys {
                    if k.referenced_table == *from {
                        k.referenced_table = to.clone();
                    }
                }
            }
        }
        Change::AlterPostgresTable { table, from, to } => {
            let t = table_of(s, table, c);
            assert_eq!(t.postgres, *from, "{c}: not as recorded");
            t.postgres = to.clone();
        }
        Change::AddColumn { table, column } => {
            let t = table_of(s, table, c);
            assert!(t.get_column(&column.name).is_none(), "{c}: exists");
            t.columns.push(column.clone());
        }
        Change::DropColumn { table, column } => {
            let referenced = s.tables.values().any(|u| {
                u.foreign_keys.iter().any(|k| {
                    k.referenced_table == *table && k.referenced_columns.contains(&column.name)
                })
            });
            assert!(!referenced, "{c}: referenced");
            let t = table_of(s, table, c);
            let k = t
                .columns
                .iter()
                .position(|x| x.name == column.name)
                .unwrap_or_else(|| panic!("{c}: missing"));
            assert_eq!(strip(&t.columns[k]), *column, "{c}: not as recorded");
            let n = &column.name;
            assert!(
                !t.primary_key
                    .as_ref()
                    .is_some_and(|p| p.columns.contains(n)),
                "{c}: in the primary key"
            );
            assert!(
                !t.uniques.iter().any(|u| u.columns.contains(n)),
                "{c}: in a unique"
            );
            assert!(
                !t.indexes
                    .iter()
                    .any(|i| i.parts.iter().any(|p| p.key == IndexKey::Column(n.clone()))),
                "{c}: indexed"
            );
            assert!(
                !t.foreign_keys.iter().any(|f| f.columns.contains(n)),
                "{c}: in a foreign key"
            );
            assert!(
                !t.checks
                    .iter()
                    .any(|k| words(&k.expression).contains(&n.to_lowercase())),
                "{c}: in a check"
            );
            t.columns.remove(k);
        }
        Change::RenameColumn { table, from, to } => {
            let t = table_of(s, table, c);
            assert!(t.get_column(to).is_none(), "{c}: target exists");
            let col = t
                .columns
                .iter_mut()
                .find(|x| x.name == *from)
                .unwrap_or_else(|| panic!("{c}: missing"));
            col.name = to.clone();
            let ren = |v: &mut Vec<String>| {
                v.iter_mut()
                    .filter(|x| *x == from)
                    .for_each(|x| *x = to.clone())
            };
            if let Some(p) = &mut t.primary_key {
                ren(&mut p.columns);
            }
            t.uniques.iter_mut().for_each(|u| ren(&mut u.columns));
            t.foreign_keys.iter_mut().for_each(|k| ren(&mut k.columns));
            for i in &mut t.indexes {
                for p in &mut i.parts {
                    if p.key == IndexKey::Column(from.clone()) {
                        p.key = IndexKey::Column(to.clone());
                    }
                }
            }
            for u in s.tables.values_mut() {
                for k in &mut u.foreign_keys {
                    if k.referenced_table == *table {
                        ren(&mut k.referenced_columns);
                    }
                }
            }
        }
        Change::AlterTableOptions { table, from, to } => {
            let t = table_of(s, table, c);
            assert_eq!(crate::model::TableOptions::of(t), *from, "{c}: options");
            t.strict = to.strict;
            t.without_rowid = to.without_rowid;
        }
        Change::AlterColumn { table, from, to } => {
            let t = table_of(s, table, c);
            let col = t
                .columns
                .iter_mut()
                .find(|x| x.name == from.name)
                .unwrap_or_else(|| panic!("{c}: missing"));
            assert_eq!(strip(col), *from, "{c}: not as recorded");
            assert_eq!(from.name, to.name);
            *col = to.clone();
        }
        Change::AddPrimaryKey { table, primary_key } => {
            let t = table_of(s, table, c);
            assert!(t.primary_key.is_none(), "{c}: has one");
            assert!(
                primary_key
                    .columns
                    .iter()
                    .all(|x| t.get_column(x).is_some()),
                "{c}: column missing"
            );
            t.primary_key = Some(primary_key.clone());
        }
        Change::DropPrimaryKey { table, primary_key } => {
            let referenced = s.tables.values().any(|u| {
                u.foreign_keys.iter().any(|k| {
                    k.referenced_table == *table && k.referenced_columns == primary_key.columns
                })
            });
            assert!(!referenced, "{c}: a foreign key uses it");
            let t = table_of(s, table, c);
            assert_eq!(
                t.primary_key.as_ref(),
                Some(primary_key),
                "{c}: not as recorded"
            );
            t.primary_key = None;
        }
        Change::AddUnique { table, unique } => {
            let t = table_of(s, table, c);
            assert!(
                unique.columns.iter().all(|x| t.get_column(x).is_some()),
                "{c}: column missing"
            );
            t.uniques.push(unique.clone());
        }
        Change::DropUnique { table, unique } => {
            let referenced = s.tables.values().any(|u| {
                u.foreign_keys
                    .iter()
                    .any(|k| k.referenced_table == *table && k.referenced_columns == unique.columns)
            });
            assert!(!referenced, "{c}: a foreign key uses it");
            let t = table_of(s, table, c);
            let k = t
                .uniques
                .iter()
                .position(|x| x == unique)
                .unwrap_or_else(|| panic!("{c}: missing"));
            t.uniques.remove(k);
        }
        Change::CreateIndex { table, index } => {
            assert!(
                !s.tables
                    .values()
                    .any(|t| t.indexes.iter().any(|i| i.name == index.name)),
                "{c}: name taken"
            );
            let t = table_of(s, table, c);
            assert!(
                index.parts.iter().all(|p| match &p.key {
                    IndexKey::Column(x) => t.get_column(x).is_some(),
                    _ => true,
                }),
                "{c}: column missing"
            );
            t.indexes.push(index.clone());
        }
        Change::DropIndex { table, index } => {
            let t = table_of(s, table, c);
            let k = t
                .indexes
                .iter()
                .position(|x| x == index)
                .unwrap_or_else(|| panic!("{c}: missing"));
            t.indexes.remove(k);
        }
        Change::AddForeignKey { table, foreign_key } => {
            let target = s
                .tables
                .get(&foreign_key.referenced_table)
                .unwrap_or_else(|| panic!("{c}: no referenced table"));
            assert!(
                foreign_key
                    .referenced_columns
                    .iter()
                    .all(|x| target.get_column(x).is_some()),
                "{c}: referenced column missing"
            );
            let keyed = target
                .primary_key
                .as_ref()
                .is_some_and(|p| p.columns == foreign_key.referenced_columns)
                || target
                    .uniques
                    .iter()
                    .any(|u| u.columns == foreign_key.referenced_columns);
            assert!(keyed, "{c}: referenced columns are no key");
            let t = table_of(s, table, c);
            assert!(
                foreign_key
                    .columns
                    .iter()
                    .all(|x| t.get_column(x).is_some()),
                "{c}: column missing"
            );
            t.foreign_keys.push(foreign_key.clone());
        }
        Change::DropForeignKey { table, foreign_key } => {
            let t = table_of(s, table, c);
            let k = t
                .foreign_keys
                .iter()
                .position(|x| x == foreign_key)
                .unwrap_or_else(|| panic!("{c}: missing"));
            t.foreign_keys.remove(k);
        }
        Change::AddCheck { table, check } => {
            table_of(s, table, c).checks.push(check.clone());
        }
        Change::DropCheck { table, check } => {
            let t = table_of(s, table, c);
            let k = t
                .checks
                .iter()
                .position(|x| x == check)
                .unwrap_or_else(|| panic!("{c}: missing"));
            t.checks.remove(k);
        }
        Change::CreateView(v) => {
            assert!(
                !s.views.contains_key(&v.name) && !s.tables.contains_key(&v.name),
                "{c}: exists"
            );
            let w = words(&v.definition);
            // What it reads must be there (tables by name, in this generator).
            assert!(
                s.tables
                    .keys()
                    .chain(s.views.keys())
                    .any(|n| w.contains(&n.to_lowercase()))
                    || !w.contains("from"),
                "{c}: reads nothing there"
            );
            s.views.insert(v.name.clone(), v.clone());
        }
        Change::DropView(v) => {
            assert_eq!(s.views.get(&v.name), Some(v), "{c}: not as recorded");
            assert!(
                !s.views
                    .values()
                    .any(|o| o.name != v.name
                        && words(&o.definition).contains(&v.name.to_lowercase())),
                "{c}: a view reads it"
            );
            s.views.remove(&v.name);
        }
        Change::CreateEnum(e) => {
            assert!(
                s.enums.insert(e.name.clone(), e.clone()).is_none(),
                "{c}: exists"
            );
        }
        Change::DropEnum(e) => {
            assert!(
                !s.tables
                    .values()
                    .any(|t| t.columns.iter().any(|x| x.data_type == e.name)),
                "{c}: in use"
            );
            assert_eq!(
                s.enums.remove(&e.name).as_ref(),
                Some(e),
                "{c}: not as recorded"
            );
        }
        Change::AlterEnum { from, to, .. } => {
            assert_eq!(s.enums.get(&from.name), Some(from), "{c}: not as recorded");
            s.enums.insert(to.name.clone(), to.clone());
        }
        Change::CreateSequence(q) => {
            assert!(
                s.sequences.insert(q.name.clone(), q.clone()).is_none(),
                "{c}: exists"
            );
        }
        Change::DropSequence(q) => {
            assert_eq!(
                s.sequences.remove(&q.name).as_ref(),
                Some(q),
                "{c}: not as recorded"
            );
        }
        Change::AlterSequence { from, to } => {
            assert_eq!(
                s.sequences.get(&from.name),
                Some(from),
                "{c}: not as recorded"
            );
            s.sequences.insert(to.name.clone(), to.clone());
        }
        Change::AlterCheck { table, from, to } => {
            let t = table_of(s, table, c);
            let k = t
                .checks
                .iter()
                .position(|x| x.expression == from.expression && x.not_valid == from.not_valid)
                .unwrap_or_else(|| panic!("{c}: missing"));
            t.checks[k] = to.clone();
        }
        Change::CreateFunction(f) => {
            assert!(
                s.functions.insert(f.signature(), f.clone()).is_none(),
                "{c}: exists"
            );
        }
        Change::DropFunction(f) => {
            assert!(
                !s.triggers
                    .values()
                    .any(|t| words(&t.definition).contains(&f.name.to_lowercase())),
                "{c}: a trigger calls it"
            );
            assert_eq!(
                s.functions.remove(&f.signature()).as_ref(),
                Some(f),
                "{c}: not as recorded"
            );
        }
        Change::ReplaceFunction { from, to } => {
            assert_eq!(
                s.functions.get(&from.signature()),
                Some(from),
                "{c}: not as recorded"
            );
            s.functions.insert(to.signature(), to.clone());
        }
        Change::CreateTrigger(t) => {
            assert!(
                s.tables.contains_key(&t.table) || s.views.contains_key(&t.table),
                "{c}: no table"
            );
            assert!(
                s.triggers.insert(t.key(), t.clone()).is_none(),
                "{c}: exists"
            );
        }
        Change::DropTrigger(t) => {
            assert_eq!(
                s.triggers.remove(&t.key()).as_ref(),
                Some(t),
                "{c}: not as recorded"
            );
        }
        Change::CreateObject(o) => {
            assert!(
                s.objects.insert(o.key(), o.clone()).is_none(),
                "{c}: exists"
            );
        }
        Change::DropObject(o) => {
            assert_eq!(
                s.objects.remove(&o.key()).as_ref(),
                Some(o),
                "{c}: not as recorded"
            );
        }
    }
}

fn normalized_table(t: &Table) -> Table {
    let mut s = Schema::default();
    s.add_table(t.clone());
    normalized(&s).tables.remove(&t.name).unwrap_or_default()
}

pub(crate) fn apply_all(s: &Schema, d: &Diff) -> Schema {
    let mut s = s.clone();
    for c in &d.changes {
        apply(&mut s, c);
    }
    s
}
