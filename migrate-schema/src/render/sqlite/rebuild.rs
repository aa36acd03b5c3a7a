//! SQLite's table rebuild, as SQLite documents it: create `_migrate_new_t` with the
//! target definition, copy the common columns, drop `t`, rename, create its indexes
//! and triggers again. Rebuilding or dropping a table that other tables reference
//! needs `PRAGMA foreign_keys` off, which cannot change inside a transaction: the
//! script checks it first and fails otherwise, and checks the foreign keys after the
//! rebuilds. Views over a rebuilt table are dropped before and created again after.

use super::simple_add;
use crate::diff::{views_dependencies_first, words, Change};
use crate::model::{ForeignKey, Schema, Table, View};
use crate::render::{Block, ListInfo, RenderError, Renderer, Step};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Per rebuilt table (final name): why it is commented out (if it is), and the
/// descriptions of its changes.
type Groups = HashMap<String, (Vec<String>, Vec<String>)>;

/// The tables SQLite must rebuild to apply `changes` (by their final names): those with a
/// change its `ALTER TABLE` cannot make.
fn rebuilds(changes: &[Change], info: &ListInfo) -> BTreeSet<String> {
    let mut rebuild = BTreeSet::new();
    for (i, c) in changes.iter().enumerate() {
        let Some(table) = c.table() else { continue };
        let target = info.target(i, table);
        let existing = !info.created.contains(&target) && !info.dropped.contains(table);
        let needs = match c {
            Change::AlterColumn { .. }
            | Change::AddPrimaryKey { .. }
            | Change::DropPrimaryKey { .. }
            | Change::AddUnique { .. }
            | Change::DropUnique { .. }
            | Change::AddCheck { .. }
            | Change::DropCheck { .. }
            | Change::AddForeignKey { .. }
            | Change::DropForeignKey { .. }
            | Change::AlterTableOptions { .. } => existing,
            Change::AddColumn { column, .. } => existing && !simple_add(column),
            _ => false,
        };
        if needs {
            rebuild.insert(target);
        }
    }
    rebuild
}

fn renaming(c: &Change) -> bool {
    matches!(c, Change::RenameTable { .. } | Change::RenameColumn { .. })
}

/// SQLite rebuilds a table as a whole: when one of its changes stays commented out, in
/// the upgrade or the downgrade, all of them do (renames aside, which run alone), so
/// that each direction undoes exactly what the other did.
pub(super) fn group_reasons(changes: &[Change], reasons: &mut [Option<String>]) {
    let up = ListInfo::new(changes);
    let inverse: Vec<Change> = changes.iter().rev().map(Change::inverse).collect();
    let down = ListInfo::new(&inverse);
    // Tables by their name after the upgrade.
    let mut tables = rebuilds(changes, &up);
    for t in rebuilds(&inverse, &down) {
        tables.insert(up.renames.get(&t).cloned().unwrap_or(t));
    }
    for t in tables {
        let on_t: Vec<usize> = (0..changes.len())
            .filter(|&i| !renaming(&changes[i]))
            .filter(|&i| changes[i].table().is_some_and(|n| up.target(i, n) == t))
            .collect();
        if let Some(reason) = on_t.iter().find_map(|&i| reasons[i].clone()) {
            for i in on_t {
                reasons[i].get_or_insert_with(|| reason.clone());
            }
        }
    }
}

/// The blocks of a list of changes on SQLite: the changes `ALTER TABLE` makes one by
/// one, the rebuilds (before the views and triggers the changes create), and the
/// foreign key checks around them.
pub(super) fn blocks(
    r: &Renderer<'_>,
    changes: &[Change],
    reasons: &[Option<String>],
    info: &ListInfo,
    warnings: &mut Vec<String>,
) -> Result<Vec<Block>, RenderError> {
    let rebuild = rebuilds(changes, info);
    let plan = Plan {
        r,
        changes,
        info,
        groups: groups(changes, reasons, info, &rebuild),
        rebuild,
    };
    let mut fk_off = ForeignKeysOff::default();
    let body = plan.body(reasons, warnings, &mut fk_off)?;
    let none = HashSet::new();
    for t in &plan.rebuild {
        let reasons: Vec<String> = plan.groups.get(t).map(|g| g.0.clone()).unwrap_or_default();
        if referenced(r.from, &info.source(t), &none) || referenced(r.to, t, &none) {
            fk_off.note(&reasons.first().cloned());
        }
    }
    let mut blocks = Vec::new();
    if let Some(reasons) = fk_off.reasons {
        blocks.push(foreign_keys_off_block(reasons));
    }
    blocks.extend(body);
    if !plan.rebuild.is_empty() {
        blocks.push(plan.foreign_key_check_block());
    }
    Ok(blocks)
}

/// Per rebuilt table, why it is commented out (if it is), and its changes.
fn groups(
    changes: &[Change],
    reasons: &[Option<String>],
    info: &ListInfo,
    rebuild: &BTreeSet<String>,
) -> Groups {
    let mut groups: Groups = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if renaming(c) {
            continue;
        }
        let Some(t) = c.table().map(|t| info.target(i, t)) else {
            continue;
        };
        if rebuild.contains(&t) {
            let g = groups.entry(t).or_default();
            if let Some(r) = &reasons[i] {
                if !g.0.contains(r) {
                    g.0.push(r.clone());
                }
            }
            g.1.push(c.describe());
        }
    }
    groups
}

/// Whether a table of `schema` other than `name` (and those in `skip`) references
/// table `name`.
fn referenced(schema: &Schema, name: &str, skip: &HashSet<String>) -> bool {
    schema.tables.values().any(|t| {
        t.name != name
            && !skip.contains(&t.name)
            && t.foreign_keys.iter().any(|k| k.referenced_table == name)
    })
}

/// Whether a table other tables reference is rebuilt or dropped, and if so why the
/// check that foreign keys are off is commented out (empty: it runs).
#[derive(Default)]
struct ForeignKeysOff {
    reasons: Option<Vec<String>>,
}

impl ForeignKeysOff {
    fn note(&mut self, reason: &Option<String>) {
        let r: Vec<String> = reason.iter().cloned().collect();
        self.reasons = Some(match self.reasons.take() {
            // One change that runs is enough for the check to run.
            Some(prev) if prev.is_empty() || r.is_empty() => Vec::new(),
            Some(prev) => prev,
            None => r,
        });
    }
}

fn foreign_keys_off_block(reasons: Vec<String>) -> Block {
    Block {
        reasons,
        comments: vec![
            "autogenerate: this rebuilds or drops a table that other tables reference: with PRAGMA foreign_keys on, SQLite would delete or orphan their rows, and the pragma cannot change inside a transaction".into(),
            "run it with foreign keys off (e.g. `transactional: false`, with PRAGMA foreign_keys = OFF before and ON after); it stops here otherwise".into(),
        ],
        statements: vec![
            "CREATE TEMP TABLE _migrate_foreign_keys_off (foreign_keys INTEGER CONSTRAINT \"PRAGMA foreign_keys must be OFF for this migration\" CHECK (foreign_keys = 0))".into(),
            "INSERT INTO _migrate_foreign_keys_off SELECT foreign_keys FROM pragma_foreign_keys".into(),
            "DROP TABLE _migrate_foreign_keys_off".into(),
        ],
    }
}

/// One list's rebuilds.
struct Plan<'p, 'a> {
    r: &'p Renderer<'a>,
    changes: &'p [Change],
    info: &'p ListInfo,
    /// Tables SQLite cannot alter in place, by final name.
    rebuild: BTreeSet<String>,
    groups: Groups,
}

impl Plan<'_, '_> {
    /// The changes in order, the rebuilds in their place; notes in `fk_off` the drops
    /// of referenced tables.
    fn body(
        &self,
        reasons: &[Option<String>],
        warnings: &mut Vec<String>,
        fk_off: &mut ForeignKeysOff,
    ) -> Result<Vec<Block>, RenderError> {
        let (r, info) = (self.r, self.info);
        let mut body = Vec::new();
        let mut rebuilt = false;
        for (i, c) in self.changes.iter().enumerate() {
            // Before the views and triggers that read or sit on the rebuilt tables.
            if !rebuilt && matches!(c, Change::CreateView(_) | Change::CreateTrigger(_)) {
                body.extend(self.table_rebuilds()?);
                rebuilt = true;
            }
            let table = c.table().map(|t| info.target(i, t));
            if let Some(t) = &table {
                if !renaming(c) && self.rebuild.contains(t) {
                    if let Change::AddColumn { table, column } = c {
                        r.warn_not_null(table, column, warnings);
                    }
                    continue;
                }
            }
            match c {
                Change::DropIndex { table, .. } | Change::DropForeignKey { table, .. }
                    if info.dropped.contains(table) =>
                {
                    continue
                }
                Change::AddForeignKey { table, .. } if info.created.contains(table) => continue,
                Change::DropTable(t) if referenced(r.from, &t.name, &info.dropped) => {
                    fk_off.note(&reasons[i]);
                }
                _ => {}
            }
            let step = Step {
                i,
                changes: self.changes,
                info,
            };
            body.push(Block::new(&reasons[i], r.statements(&step, c, warnings)?));
        }
        if !rebuilt {
            body.extend(self.table_rebuilds()?);
        }
        Ok(body)
    }

    /// The check that the rebuilt tables' rows satisfy their foreign keys; commented
    /// out only when every rebuild is.
    fn foreign_key_check_block(&self) -> Block {
        let all_commented = self
            .rebuild
            .iter()
            .all(|t| self.groups.get(t).is_some_and(|g| !g.0.is_empty()));
        Block {
            reasons: if all_commented {
                self.rebuild
                    .iter()
                    .filter_map(|t| self.groups.get(t).and_then(|g| g.0.first().cloned()))
                    .take(1)
                    .collect()
            } else {
                Vec::new()
            },
            comments: vec!["autogenerate: the rebuilt tables' rows must satisfy their foreign keys (PRAGMA foreign_key_check lists those that do not)".into()],
            statements: vec![
                "CREATE TEMP TABLE _migrate_foreign_key_check (violation INTEGER CONSTRAINT \"foreign key violations after rebuilding tables: see PRAGMA foreign_key_check\" CHECK (violation IS NULL))".into(),
                "INSERT INTO _migrate_foreign_key_check SELECT 1 FROM pragma_foreign_key_check LIMIT 1".into(),
                "DROP TABLE _migrate_foreign_key_check".into(),
            ],
        }
    }

    /// The rebuild of each table in `rebuild`, inside the drop and re-creation of the
    /// views over them.
    fn table_rebuilds(&self) -> Result<Vec<Block>, RenderError> {
        // Column renames by final table name: old column name to new.
        let mut column_renames: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (i, c) in self.changes.iter().enumerate() {
            if let Change::RenameColumn { table, from, to } = c {
                column_renames
                    .entry(self.info.target(i, table))
                    .or_default()
                    .insert(from.clone(), to.clone());
            }
        }
        let mut blocks = Vec::new();
        for name in &self.rebuild {
            blocks.push(self.table_rebuild(name, column_renames.get(name))?);
        }
        if blocks.is_empty() {
            return Ok(blocks);
        }
        Ok(self.around_views(blocks))
    }

    /// One table's rebuild; `renames` are its columns' renames, old name to new.
    fn table_rebuild(
        &self,
        name: &str,
        renames: Option<&HashMap<String, String>>,
    ) -> Result<Block, RenderError> {
        let r = self.r;
        let (source, target) = self.sides(name)?;
        let existing: HashSet<String> = source
            .columns
            .iter()
            .map(|c| {
                renames
                    .and_then(|r| r.get(&c.name))
                    .cloned()
                    .unwrap_or_else(|| c.name.clone())
            })
            .collect();
        let common: Vec<String> = target
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && existing.contains(&c.name))
            .map(|c| c.name.clone())
            .collect();
        let temp = format!("_migrate_new_{name}");
        let fks: Vec<&ForeignKey> = target.foreign_keys.iter().collect();
        let mut statements = vec![r.create_table(&temp, target, &fks)?];
        if !common.is_empty() {
            let cols = r.qs(&common);
            statements.push(format!(
                "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
                r.q(&temp),
                r.q(name)
            ));
        }
        statements.push(format!("DROP TABLE {}", r.q(name)));
        statements.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            r.q(&temp),
            r.q(name)
        ));
        for ix in &target.indexes {
            statements.push(r.create_index(name, ix)?);
        }
        // Dropping the old table took its triggers: those the changes do not create
        // themselves are created again.
        for t in r.to.triggers.values().filter(|t| t.table == *name) {
            let created = self
                .changes
                .iter()
                .any(|c| matches!(c, Change::CreateTrigger(u) if u.key() == t.key()));
            if !created {
                statements.push(t.definition.clone());
            }
        }
        let (reasons, about) = self.groups.get(name).cloned().unwrap_or_default();
        Ok(Block {
            reasons,
            comments: vec![format!(
                "autogenerate: SQLite cannot alter {name} in place: rebuild it ({})",
                about.join("; ")
            )],
            statements,
        })
    }

    /// A rebuilt table as it was and as it becomes.
    fn sides(&self, name: &str) -> Result<(&Table, &Table), RenderError> {
        let r = self.r;
        let target =
            r.to.tables
                .get(name)
                .ok_or_else(|| RenderError::MissingTable {
                    table: name.to_string(),
                    side: if r.downgrade { "current" } else { "target" },
                })?;
        let source_name = self.info.source(name);
        let source = r
            .from
            .tables
            .get(&source_name)
            .ok_or_else(|| RenderError::MissingTable {
                table: source_name.clone(),
                side: if r.downgrade { "target" } else { "current" },
            })?;
        Ok((source, target))
    }

    /// Renaming the new table into place checks every view, and one reading the
    /// dropped table fails it: views over rebuilt tables (that the changes do not drop
    /// already) are dropped before the rebuilds and created again after.
    fn around_views(&self, mut blocks: Vec<Block>) -> Vec<Block> {
        let r = self.r;
        let dropped_here: HashSet<&str> = self
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::DropView(v) => Some(v.name.as_str()),
                _ => None,
            })
            .collect();
        let standing: Vec<&View> = r
            .from
            .views
            .values()
            .filter(|v| !dropped_here.contains(v.name.as_str()))
            .collect();
        let around = self.views_over_rebuilds(&standing);
        if around.is_empty() {
            return blocks;
        }
        // Commented out only when every rebuild is.
        let reasons: Vec<String> = if blocks.iter().all(|b| !b.reasons.is_empty()) {
            blocks[0].reasons.iter().take(1).cloned().collect()
        } else {
            Vec::new()
        };
        let views: Vec<&View> = standing
            .iter()
            .copied()
            .filter(|v| around.contains(v.name.as_str()))
            .collect();
        let order = views_dependencies_first(&views);
        let mut out = vec![Block {
            reasons: reasons.clone(),
            comments: vec![
                "autogenerate: views over the rebuilt tables go while they are rebuilt".into(),
            ],
            statements: order
                .iter()
                .rev()
                .map(|v| format!("DROP VIEW {}", r.q(&v.name)))
                .collect(),
        }];
        out.append(&mut blocks);
        let mut create = Vec::new();
        for v in order {
            create.push(r.view_sql(r.to.views.get(&v.name).unwrap_or(v)));
        }
        out.push(Block {
            reasons,
            comments: Vec::new(),
            statements: create,
        });
        out
    }

    /// The views of `standing` that read a rebuilt table (by its old or new name), or
    /// such a view, by name in their text.
    fn views_over_rebuilds<'v>(&self, standing: &[&'v View]) -> BTreeSet<&'v str> {
        let mut around: BTreeSet<&str> = BTreeSet::new();
        for v in standing {
            let w = words(&v.definition);
            if self.rebuild.iter().any(|t| {
                w.contains(&t.to_lowercase()) || w.contains(&self.info.source(t).to_lowercase())
            }) {
                around.insert(&v.name);
            }
        }
        loop {
            let before = around.len();
            for v in standing {
                let w = words(&v.definition);
                if around.iter().any(|a| w.contains(&a.to_lowercase())) {
                    around.insert(&v.name);
                }
            }
            if around.len() == before {
                break;
            }
        }
        around
    }
}
