//! Plans: from the revisions a database holds (its version table) and a target, the
//! ordered steps of an upgrade, downgrade or stamp, and the version-table change each
//! step makes, with Alembic's semantics across branch points, merges and `depends_on`.

use crate::error::RevisionError;
use crate::revision::{parse_relative, Idx, Rel, RevisionMap, Walk};
use crate::script::Direction;
use std::fmt;

/// One change to the version table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionChange {
    /// `INSERT` a row.
    Insert(String),
    /// `DELETE` a row.
    Delete(String),
    /// `UPDATE` one row's `version_num`.
    Update {
        /// Old value.
        from: String,
        /// New value.
        to: String,
    },
}

impl VersionChange {
    /// Applies changes to the version rows `heads`, which stay sorted.
    pub fn apply_all(heads: &mut Vec<String>, changes: &[VersionChange]) {
        for c in changes {
            match c {
                VersionChange::Insert(v) => heads.push(v.clone()),
                VersionChange::Delete(v) => heads.retain(|h| h != v),
                VersionChange::Update { from, to } => {
                    heads.retain(|h| h != from);
                    heads.push(to.clone());
                }
            }
        }
        heads.sort();
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision whose upgrade or downgrade runs; `None` for a stamp step, which
    /// runs no SQL.
    pub revision: Option<String>,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// Revisions before the step, parents only (as Alembic prints them).
    pub from: Vec<String>,
    /// Revisions after the step, parents only.
    pub to: Vec<String>,
    /// The version-table changes, applied in order, that go with this step.
    pub changes: Vec<VersionChange>,
}

impl Step {
    /// Alembic's name for the step in its log lines: `upgrade`, `downgrade` or
    /// `stamp_revision`.
    pub fn kind(&self) -> &'static str {
        match self.revision {
            Some(_) => self.direction.name(),
            None => "stamp_revision",
        }
    }

    /// Whether SQL runs (false for stamps).
    pub fn is_migration(&self) -> bool {
        self.revision.is_some()
    }
}

impl fmt::Display for Step {
    /// Alembic's log line without the message: `upgrade a1 -> b2` (empty side for base).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {}",
            self.direction,
            self.from.join(", "),
            self.to.join(", ")
        )
    }
}

/// An ordered list of steps and the heads the version table holds afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Steps in execution order.
    pub steps: Vec<Step>,
    /// Version-table rows after the last step, in the map's insertion order.
    pub heads_after: Vec<String>,
}

impl Plan {
    /// The revisions whose SQL runs, in order.
    pub fn revisions(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| s.revision.as_deref())
            .collect()
    }
}

/// Options of [`RevisionMap::iterate_revisions`], named as in Alembic.
#[derive(Debug, Clone, Copy, Default)]
pub struct IterateOptions {
    /// Include the lower bound itself.
    pub inclusive: bool,
    /// Upgrades: include revisions not descended from the lower bound.
    /// Downgrades: wind other branches back to base too.
    pub implicit_base: bool,
    /// Collect for a downgrade (upper = current heads, lower = target).
    pub select_for_downgrade: bool,
    /// Fail when a relative identifier walks past the ends of the graph.
    pub assert_relative_length: bool,
}

/// Version-table state while a plan is computed, kept in insertion order.
struct Heads(Vec<Idx>);

impl Heads {
    fn contains(&self, i: Idx) -> bool {
        self.0.contains(&i)
    }
    fn insert(&mut self, i: Idx) {
        if !self.0.contains(&i) {
            self.0.push(i);
            self.0.sort_unstable();
        }
    }
    fn remove(&mut self, i: Idx) -> bool {
        let before = self.0.len();
        self.0.retain(|&h| h != i);
        before != self.0.len()
    }
}

impl RevisionMap {
    // ---- targets ---------------------------------------------------------------

    /// Revisions named by a list of identifiers (one entry may itself name several).
    fn revs_of(&self, idents: &[&str]) -> Result<Vec<Walk>, RevisionError> {
        let mut out = Vec::new();
        for i in idents {
            out.extend(self.get_revisions(i)?);
        }
        Ok(out)
    }

    fn only_revs(&self, walks: Vec<Walk>, what: &str) -> Result<Vec<Idx>, RevisionError> {
        let mut out = Vec::new();
        for w in walks {
            match w {
                Walk::Rev(i) => out.push(i),
                Walk::Base => {}
                Walk::TooFar => return Err(RevisionError::WalkedTooFar(what.to_string())),
            }
        }
        Ok(out)
    }

    /// Alembic's `_parse_upgrade_target`: absolute or relative upgrade targets, given
    /// the current revisions. `None` entries mean base.
    pub(crate) fn parse_upgrade_target(
        &self,
        current: &[&str],
        target: &str,
        assert_relative_length: bool,
    ) -> Result<Vec<Option<Idx>>, RevisionError> {
        let Some(rel) = parse_relative(target) else {
            let walks = self.get_revisions(target)?;
            return Ok(self
                .only_revs(walks, target)?
                .into_iter()
                .map(Some)
                .collect());
        };
        let too_far = || RevisionError::RelativeOutOfRange {
            relative: rel.text.to_string(),
            steps: rel.steps.unsigned_abs(),
        };
        let walk_result = |w: Walk| -> Result<Option<Idx>, RevisionError> {
            match w {
                Walk::Rev(i) => Ok(Some(i)),
                Walk::Base => Ok(None),
                Walk::TooFar => Err(too_far()),
            }
        };
        if rel.steps > 0 {
            if let Some(symbol) = rel.symbol {
                let start = self.get_revision(symbol)?;
                let w = self.walk(start, rel.steps, rel.label, assert_relative_length)?;
                return Ok(vec![walk_result(w)?]);
            }
            let current_revs = self.only_revs(self.revs_of(current)?, target)?;
            let mut start: Vec<Option<Idx>> = if current_revs.is_empty() {
                vec![None]
            } else {
                current_revs.iter().copied().map(Some).collect()
            };
            if let Some(label) = rel.label {
                let on_branch = self.lineage_filter(&current_revs, label, false)?;
                start = if !on_branch.is_empty() {
                    on_branch.into_iter().map(Some).collect()
                } else {
                    // The branch has no current head: start from the tips of its part
                    // that is already applied, or from base.
                    let applied = self.related(&current_revs, Rel::Ancestors { deps: true });
                    let active = self.lineage_filter(&applied, label, false)?;
                    let below: std::collections::HashSet<Idx> = active
                        .iter()
                        .flat_map(|&a| self.nodes[a].norm_down.iter().copied())
                        .collect();
                    let tips: Vec<Option<Idx>> = active
                        .iter()
                        .copied()
                        .filter(|a| !below.contains(a))
                        .map(Some)
                        .collect();
                    if tips.is_empty() {
                        vec![None]
                    } else {
                        tips
                    }
                };
            }
            if start.len() > 1 {
                return Err(RevisionError::AmbiguousUpgrade(
                    start
                        .iter()
                        .flatten()
                        .map(|&i| self.id(i).to_string())
                        .collect(),
                ));
            }
            let w = self.walk(start[0], rel.steps, rel.label, assert_relative_length)?;
            return Ok(vec![walk_result(w)?]);
        }
        let Some(symbol) = rel.symbol else {
            return Err(too_far());
        };
        let start = match rel.label {
            None => self.get_revision(symbol)?,
            Some(l) => self.get_revision(&format!("{l}@{symbol}"))?,
        };
        let w = self.walk(start, rel.steps, None, assert_relative_length)?;
        Ok(vec![walk_result(w)?])
    }

    /// Alembic's `_parse_downgrade_target`: the branch label (if any) and the target
    /// revision (`None` for base).
    pub(crate) fn parse_downgrade_target(
        &self,
        current: &[&str],
        target: &str,
        assert_relative_length: bool,
    ) -> Result<(Option<String>, Option<Idx>), RevisionError> {
        if let Some(rel) = parse_relative(target) {
            let too_far = || RevisionError::RelativeOutOfRange {
                relative: rel.text.to_string(),
                steps: rel.steps.unsigned_abs(),
            };
            let mut label = rel.label.map(str::to_string);
            if rel.steps >= 0 {
                let Some(symbol) = rel.symbol else {
                    return Err(too_far());
                };
                let start = self.get_revision(symbol)?;
                return match self.walk(start, rel.steps, rel.label, assert_relative_length)? {
                    Walk::Rev(i) => Ok((label, Some(i))),
                    Walk::Base => Ok((label, None)),
                    Walk::TooFar => Err(RevisionError::WalkedTooFar(target.to_string())),
                };
            }
            let relative_to_current = rel.symbol.is_none();
            let symbol: String = match (rel.symbol, rel.label) {
                (Some(s), _) => s.to_string(),
                (None, Some(l)) => {
                    let current_revs = self.only_revs(self.revs_of(current)?, target)?;
                    let mut on_branch = self.lineage_filter(&current_revs, l, false)?;
                    if on_branch.is_empty() {
                        // Every head of the branch may sit under another current head
                        // through dependencies: look at all current revisions.
                        let all = self.all_current_idx(&current_revs);
                        on_branch = self.lineage_filter(&all, l, false)?;
                    }
                    match on_branch.as_slice() {
                        [one] => self.id(*one).to_string(),
                        [] => return Err(too_far()),
                        many => {
                            return Err(RevisionError::AmbiguousDowngrade {
                                relative: target.to_string(),
                                heads: self.ids_owned(many),
                            })
                        }
                    }
                }
                (None, None) => {
                    let mut distinct: Vec<&str> = current.to_vec();
                    distinct.sort_unstable();
                    distinct.dedup();
                    match distinct.as_slice() {
                        [] => return Err(too_far()),
                        [_] => {}
                        many => {
                            // Alembic only warns and picks one; guessing which branch
                            // to take down is how data gets lost, so refuse.
                            return Err(RevisionError::AmbiguousDowngrade {
                                relative: target.to_string(),
                                heads: many.iter().map(|s| s.to_string()).collect(),
                            });
                        }
                    }
                    let s = current[0].to_string();
                    label = Some(s.clone());
                    s
                }
            };
            let start = match &label {
                None => self.get_revision(&symbol)?,
                Some(l) => self.get_revision(&format!("{l}@{symbol}"))?,
            };
            return match self.walk(start, rel.steps, None, assert_relative_length)? {
                Walk::Rev(i) => Ok((label, Some(i))),
                Walk::Base => Ok((label, None)),
                Walk::TooFar if relative_to_current => Err(too_far()),
                Walk::TooFar => Err(RevisionError::WalkedTooFar(target.to_string())),
            };
        }
        let (label, symbol) = match target.rsplit_once('@') {
            Some((l, s)) if !l.is_empty() => (Some(l.to_string()), s),
            Some((_, s)) => (None, s),
            None => (None, target),
        };
        Ok((label, self.get_revision(symbol)?))
    }

    /// The current revisions plus everything under them, reduced to branch tips.
    pub(crate) fn all_current_idx(&self, current: &[Idx]) -> Vec<Idx> {
        let all = self.related(current, Rel::Ancestors { deps: true });
        let mut applied = vec![false; self.nodes.len()];
        for &i in &all {
            applied[i] = true;
        }
        // The set is closed under parents, so a revision has an applied descendant
        // through `down_revision` exactly when one of its children is applied.
        all.into_iter()
            .filter(|&r| !self.nodes[r].next.iter().any(|&c| applied[c]))
            .collect()
    }

    // ---- collection --------------------------------------------------------------

    /// Alembic's `_collect_upgrade_revisions`: the set to apply and the targets.
    fn collect_upgrade(
        &self,
        upper: &[&str],
        lower: &[&str],
        opts: IterateOptions,
    ) -> Result<(Vec<bool>, Vec<Idx>), RevisionError> {
        let upper_desc = upper.join(", ");
        let mut targets: Vec<Idx> = match upper {
            [one] => self
                .parse_upgrade_target(lower, one, opts.assert_relative_length)?
                .into_iter()
                .flatten()
                .collect(),
            many => self.only_revs(self.revs_of(many)?, &upper_desc)?,
        };
        if let [lower_one] = lower {
            if let Some((branch, _)) = lower_one.split_once('@') {
                let mut branch = branch.to_string();
                if let Some(r) = self.get_revision(&branch)? {
                    if self.id(r) == branch {
                        // A revision id used as a label: take its branch's label.
                        let labels = &self.nodes[r].labels;
                        if labels.len() == 1 {
                            branch = labels.iter().next().cloned().unwrap_or_default();
                        }
                    }
                }
                targets.retain(|&t| self.nodes[t].labels.contains(&branch));
            }
        }
        self.check_overlap(&targets)?;
        let mut required = self.related_mask(&targets, Rel::Ancestors { deps: true });

        let mut current = Vec::new();
        let mut lower_is_base = false;
        for w in self.revs_of(lower)? {
            match w {
                Walk::Rev(i) => current.push(i),
                Walk::Base => {}
                // A relative lower bound that walked off the graph: read it as a
                // downgrade target from the upper bound, as Alembic does.
                Walk::TooFar => {
                    let ident = lower.first().copied().unwrap_or("base");
                    match self
                        .parse_downgrade_target(upper, ident, opts.assert_relative_length)?
                        .1
                    {
                        Some(i) => current.push(i),
                        None => lower_is_base = true,
                    }
                }
            }
        }
        if !opts.implicit_base && current.iter().any(|&c| !required[c]) {
            return Err(RevisionError::RangeNotAncestor {
                lower: lower.join(", "),
                upper: upper_desc,
            });
        }
        self.check_overlap(&current)?;
        let current_set = self.related_mask(&current, Rel::Ancestors { deps: true });
        for (i, r) in required.iter_mut().enumerate() {
            if current_set[i] {
                *r = false;
            }
        }
        if opts.inclusive && !lower_is_base {
            for &c in &current {
                required[c] = true;
            }
        }
        if !current.is_empty() && !opts.implicit_base {
            self.check_overlap(&current)?;
            let below = self.related_mask(&current, Rel::Descendants { deps: false });
            for (i, r) in required.iter_mut().enumerate() {
                if !below[i] {
                    *r = false;
                }
            }
        }
        Ok((required, targets))
    }

    /// Alembic's `_collect_downgrade_revisions`: the set to revert and the current heads.
    fn collect_downgrade(
        &self,
        upper: &[&str],
        lower: &str,
        opts: IterateOptions,
    ) -> Result<(Vec<bool>, Vec<Idx>), RevisionError> {
        let (label, target) =
            self.parse_downgrade_target(upper, lower, opts.assert_relative_length)?;
        let mut roots: Vec<Idx> = match target {
            None => self.bases.clone(),
            Some(t) if opts.inclusive => vec![t],
            Some(t) => self.nodes[t].next.clone(),
        };
        if let Some(label) = &label {
            if roots.len() > 1 {
                let branch = self.get_revision(label).ok().flatten();
                let Some(branch) = branch.or_else(|| self.by_label.get(label).copied()) else {
                    return Err(RevisionError::NoSuchBranch(label.clone()));
                };
                let anc = self.related_mask(&[branch], Rel::Ancestors { deps: false });
                roots.retain(|&r| anc[r]);
                if roots.is_empty() {
                    return Err(RevisionError::InvalidDowngradeTarget(lower.to_string()));
                }
            }
        }
        let heads = self.only_revs(self.revs_of(upper)?, &upper.join(", "))?;
        let mut drop = self.related_mask(&roots, Rel::Descendants { deps: true });
        let active = self.related_mask(&heads, Rel::Ancestors { deps: true });
        let mut any = false;
        for (i, d) in drop.iter_mut().enumerate() {
            *d = *d && active[i];
            any |= *d;
        }
        if opts.implicit_base {
            let under_roots = self.related_mask(&roots, Rel::Ancestors { deps: true });
            for i in 0..drop.len() {
                if active[i] && !under_roots[i] {
                    drop[i] = true;
                    any = true;
                }
            }
        }
        if let Some(t) = target {
            if !any && !heads.contains(&t) {
                return Err(RevisionError::NothingToDrop {
                    target: lower.to_string(),
                    current: self.ids_owned(&heads),
                });
            }
        }
        Ok((drop, heads))
    }

    /// Alembic's `_topological_sort`: revisions of `todo`, each after (above) every
    /// revision that depends on it, walking down from `heads` branch by branch.
    ///
    /// The question "is this candidate under another pending head" is answered with a
    /// rank-pruned search instead of full ancestor sets, so wide graphs stay linear
    /// in practice where Alembic goes quadratic.
    fn topological_sort(&self, mut todo: Vec<bool>, heads: &[Idx]) -> Vec<Idx> {
        let mut remaining = todo.iter().filter(|t| **t).count();
        let mut current: Vec<Idx> = heads.iter().copied().filter(|&h| todo[h]).collect();
        current.sort_unstable();
        current.dedup();
        let mut out = Vec::with_capacity(remaining);
        let mut idx = 0usize;
        while !current.is_empty() {
            let candidate = current[idx];
            if let Some(other) = (0..current.len())
                .find(|&j| j != idx && self.is_ancestor(candidate, current[j], true))
            {
                idx = other;
                continue;
            }
            if todo[candidate] {
                out.push(candidate);
                todo[candidate] = false;
                remaining -= 1;
            }
            let to_add: Vec<Idx> = self.nodes[candidate]
                .norm_down
                .iter()
                .copied()
                .filter(|&r| todo[r] && !current.contains(&r))
                .collect();
            if to_add.is_empty() {
                current.remove(idx);
                idx = idx.saturating_sub(1);
            } else {
                current[idx] = to_add[0];
                current.extend_from_slice(&to_add[1..]);
            }
        }
        // Anything left is unreachable from the heads given; keep it rather than drop
        // it silently, in an order that still respects every edge.
        if remaining > 0 {
            let mut rest: Vec<Idx> = (0..todo.len()).filter(|&i| todo[i]).collect();
            rest.sort_by_key(|&i| std::cmp::Reverse(self.rank[i]));
            out.extend(rest);
        }
        out
    }

    /// Alembic's `iterate_revisions`: revisions between `upper` and `lower`, newest
    /// first. Each bound is one identifier or several revision ids.
    ///
    /// # Errors
    /// Resolution failures and ranges that do not connect.
    pub fn iterate_revisions(
        &self,
        upper: &[&str],
        lower: &[&str],
        opts: IterateOptions,
    ) -> Result<Vec<&str>, RevisionError> {
        let order = self.iterate(upper, lower, opts)?;
        Ok(self.ids(&order))
    }

    fn iterate(
        &self,
        upper: &[&str],
        lower: &[&str],
        opts: IterateOptions,
    ) -> Result<Vec<Idx>, RevisionError> {
        let (set, heads) = if opts.select_for_downgrade {
            let target = match lower {
                [] => "base",
                [one] => one,
                _ => {
                    return Err(RevisionError::BadRange(lower.join(",")));
                }
            };
            self.collect_downgrade(upper, target, opts)?
        } else {
            self.collect_upgrade(upper, lower, opts)?
        };
        Ok(self.topological_sort(set, &heads))
    }

    // ---- plans -----------------------------------------------------------------

    /// The steps that take a database holding `current` (its version-table rows) to
    /// `target`, as `alembic upgrade target` would run them.
    ///
    /// # Errors
    /// Unknown current revisions, resolution failures, and targets that are not above
    /// the current state where Alembic refuses them.
    pub fn upgrade_plan<S: AsRef<str>>(
        &self,
        current: &[S],
        target: &str,
    ) -> Result<Plan, RevisionError> {
        self.upgrade_plan_to(current, &[target])
    }

    /// Like [`upgrade_plan`](Self::upgrade_plan), to several targets at once (Alembic's
    /// `_upgrade_revs` given a tuple of destinations). One target behaves exactly like
    /// [`upgrade_plan`](Self::upgrade_plan); several must be revision ids or prefixes.
    ///
    /// # Errors
    /// As [`upgrade_plan`](Self::upgrade_plan), plus [`RevisionError::Overlap`] when
    /// one target is an ancestor of another.
    pub fn upgrade_plan_to<S: AsRef<str>>(
        &self,
        current: &[S],
        targets: &[&str],
    ) -> Result<Plan, RevisionError> {
        let cur = self.indices(current)?;
        let cur_ids: Vec<&str> = self.ids(&cur);
        let opts = IterateOptions {
            implicit_base: true,
            assert_relative_length: true,
            ..Default::default()
        };
        let mut order = self.iterate(targets, &cur_ids, opts)?;
        order.reverse();
        self.revision_steps(cur, &order, Direction::Upgrade)
    }

    /// The steps that take a database holding `current` down to `target`, as
    /// `alembic downgrade target` would run them, dependents first.
    ///
    /// # Errors
    /// As Alembic, plus a refusal of `-N` when several heads are current.
    pub fn downgrade_plan<S: AsRef<str>>(
        &self,
        current: &[S],
        target: &str,
    ) -> Result<Plan, RevisionError> {
        let cur = self.indices(current)?;
        let cur_ids: Vec<&str> = self.ids(&cur);
        let opts = IterateOptions {
            select_for_downgrade: true,
            assert_relative_length: true,
            ..Default::default()
        };
        let order = self.iterate(&cur_ids, &[target], opts)?;
        self.revision_steps(cur, &order, Direction::Downgrade)
    }

    /// Revisions as `history` lists them, newest first; `range` is `start:end` with
    /// either side optional (defaults `base` and `heads`).
    ///
    /// # Errors
    /// A malformed range, resolution failures, or ends that are not ancestor and descendant.
    pub fn history(&self, range: Option<&str>) -> Result<Vec<&str>, RevisionError> {
        let (base, head) = match range {
            None => ("base", "heads"),
            Some(r) => {
                let (b, h) = r
                    .trim()
                    .split_once(':')
                    .ok_or_else(|| RevisionError::BadRange(r.to_string()))?;
                (
                    if b.is_empty() { "base" } else { b },
                    if h.is_empty() { "heads" } else { h },
                )
            }
        };
        self.iterate_revisions(
            &[head],
            &[base],
            IterateOptions {
                inclusive: true,
                ..Default::default()
            },
        )
    }

    fn revision_steps(
        &self,
        current: Vec<Idx>,
        order: &[Idx],
        direction: Direction,
    ) -> Result<Plan, RevisionError> {
        let mut heads = Heads(current);
        heads.0.sort_unstable();
        heads.0.dedup();
        let mut steps = Vec::with_capacity(order.len());
        for &r in order {
            let changes = self.revision_changes(&mut heads, r, direction)?;
            let nd = &self.nodes[r];
            let (from, to) = match direction {
                Direction::Upgrade => (self.ids_owned(&nd.down), vec![nd.id.clone()]),
                Direction::Downgrade => (vec![nd.id.clone()], self.ids_owned(&nd.down)),
            };
            steps.push(Step {
                revision: Some(nd.id.clone()),
                direction,
                from,
                to,
                changes,
            });
        }
        Ok(Plan {
            steps,
            heads_after: self.ids_owned(&heads.0),
        })
    }

    /// Alembic's `HeadMaintainer.update_to_step` for a migration step.
    fn revision_changes(
        &self,
        heads: &mut Heads,
        r: Idx,
        direction: Direction,
    ) -> Result<Vec<VersionChange>, RevisionError> {
        let nd = &self.nodes[r];
        let down = &nd.norm_down;
        let mut changes = Vec::new();
        let up = direction == Direction::Upgrade;

        // Revisions of `set` that are ancestors (or equal) of a head other than `except`.
        let under_other_heads = |heads: &Heads, except: &[Idx], set: &[Idx]| -> Vec<Idx> {
            let others: Vec<Idx> = heads
                .0
                .iter()
                .copied()
                .filter(|h| !except.contains(h))
                .collect();
            set.iter()
                .copied()
                .filter(|&s| others.iter().any(|&o| self.is_ancestor(s, o, true)))
                .collect()
        };
        let unmerge_to = |heads: &Heads| -> Vec<Idx> {
            let others: Vec<Idx> = heads.0.iter().copied().filter(|&h| h != r).collect();
            if !others.is_empty() {
                let hidden = under_other_heads(heads, &[r], down);
                down.iter()
                    .copied()
                    .filter(|d| !hidden.contains(d))
                    .collect()
            } else {
                down.iter()
                    .copied()
                    .filter(|&d| !down.iter().any(|&o| o != d && self.is_ancestor(d, o, true)))
                    .collect()
            }
        };

        if !up && heads.contains(r) && (down.is_empty() || unmerge_to(heads).is_empty()) {
            heads.remove(r);
            changes.push(VersionChange::Delete(nd.id.clone()));
        } else if up && (down.is_empty() || !down.iter().any(|&d| heads.contains(d))) {
            heads.insert(r);
            changes.push(VersionChange::Insert(nd.id.clone()));
        } else if up && down.len() > 1 && down.iter().filter(|&&d| heads.contains(d)).count() > 1 {
            let hidden = under_other_heads(heads, down, down);
            let from: Vec<Idx> = down
                .iter()
                .copied()
                .filter(|&d| heads.contains(d) && !hidden.contains(&d))
                .collect();
            let Some((&last, rest)) = from.split_last() else {
                return Err(self.update_error(r, heads));
            };
            for &d in rest {
                heads.remove(d);
                changes.push(VersionChange::Delete(self.id(d).to_string()));
            }
            heads.remove(last);
            heads.insert(r);
            changes.push(VersionChange::Update {
                from: self.id(last).to_string(),
                to: nd.id.clone(),
            });
        } else if !up && heads.contains(r) && down.len() > 1 {
            let to = unmerge_to(heads);
            let Some((&last, rest)) = to.split_last() else {
                return Err(self.update_error(r, heads));
            };
            for &t in rest {
                heads.insert(t);
                changes.push(VersionChange::Insert(self.id(t).to_string()));
            }
            heads.remove(r);
            heads.insert(last);
            changes.push(VersionChange::Update {
                from: nd.id.clone(),
                to: self.id(last).to_string(),
            });
        } else {
            let other = if down.len() == 1 {
                down[0]
            } else {
                let present: Vec<Idx> = down
                    .iter()
                    .copied()
                    .filter(|&d| heads.contains(d))
                    .collect();
                match present.as_slice() {
                    [one] => *one,
                    _ => return Err(self.update_error(r, heads)),
                }
            };
            let (from, to) = if up { (other, r) } else { (r, other) };
            if !heads.remove(from) || heads.contains(to) {
                return Err(self.update_error(r, heads));
            }
            heads.insert(to);
            changes.push(VersionChange::Update {
                from: self.id(from).to_string(),
                to: self.id(to).to_string(),
            });
        }
        Ok(changes)
    }

    fn update_error(&self, r: Idx, heads: &Heads) -> RevisionError {
        RevisionError::VersionTableConflict {
            revision: self.id(r).to_string(),
            heads: self.ids_owned(&heads.0),
        }
    }

    /// One step that reverts `revision`, which must be one of the `current` rows: its
    /// downgrade, with the row replaced by those of its parents that no other row
    /// already stands on. Unlike a downgrade to a target, nothing else moves, whatever
    /// the other branches hold: the step a stairway test takes back down.
    ///
    /// # Errors
    /// [`RevisionError::NothingToDrop`] when `revision` is not a current row; unknown
    /// current revisions.
    pub fn revert_plan<S: AsRef<str>>(
        &self,
        current: &[S],
        revision: &str,
    ) -> Result<Plan, RevisionError> {
        let current: Vec<&str> = current.iter().map(AsRef::as_ref).collect();
        let rev = self
            .get(revision)
            .ok_or_else(|| RevisionError::NoSuchRevision(revision.to_string()))?;
        let rev_id = rev.id();
        if !current.contains(&rev_id) {
            return Err(RevisionError::NothingToDrop {
                target: revision.to_string(),
                current: current.iter().map(|c| c.to_string()).collect(),
            });
        }
        let remaining: Vec<&str> = current.iter().copied().filter(|c| *c != rev_id).collect();
        let mut covered: Vec<&str> = Vec::new();
        for h in &remaining {
            covered.extend(self.ancestors(h)?);
        }
        let parents = rev.down_revisions();
        // Its parents and dependencies stay applied: a row for each that no remaining
        // row already stands on (and that is not below another of them). Dependencies
        // count, since the version table drops a dependency's row when a dependent
        // takes its place.
        let mut candidates: Vec<&str> = parents.clone();
        for d in rev.dependencies() {
            if !candidates.contains(&d) {
                candidates.push(d);
            }
        }
        let mut below: Vec<&str> = Vec::new();
        for c in &candidates {
            below.extend(self.ancestors(c)?.into_iter().filter(|a| a != c));
        }
        let added: Vec<&str> = candidates
            .iter()
            .copied()
            .filter(|c| !covered.contains(c) && !below.contains(c))
            .collect();
        let changes = match added.as_slice() {
            [one] => vec![VersionChange::Update {
                from: rev_id.to_string(),
                to: one.to_string(),
            }],
            _ => std::iter::once(VersionChange::Delete(rev_id.to_string()))
                .chain(added.iter().map(|a| VersionChange::Insert(a.to_string())))
                .collect(),
        };
        let mut heads_after: Vec<String> = remaining.iter().map(|s| s.to_string()).collect();
        heads_after.extend(added.iter().map(|a| a.to_string()));
        Ok(Plan {
            steps: vec![Step {
                revision: Some(rev_id.to_string()),
                direction: Direction::Downgrade,
                from: vec![rev_id.to_string()],
                to: parents.iter().map(|p| p.to_string()).collect(),
                changes,
            }],
            heads_after,
        })
    }

    /// The version-table changes of `alembic stamp`: moves the rows to `targets`
    /// without running SQL. `purge` empties the table first (whatever it held).
    ///
    /// # Errors
    /// Unknown current revisions and resolution failures.
    pub fn stamp_plan<S: AsRef<str>>(
        &self,
        current: &[S],
        targets: &[&str],
        purge: bool,
    ) -> Result<Plan, RevisionError> {
        let mut steps = Vec::new();
        let mut heads: Vec<String> = current.iter().map(|s| s.as_ref().to_string()).collect();
        // As in Alembic, a purge is no step of its own: the rows go in the same step
        // (and so the same transaction) as the first stamp, which starts from an empty
        // table.
        let purged: Vec<String> = if purge {
            std::mem::take(&mut heads)
        } else {
            Vec::new()
        };
        let head_idx = self.indices(&heads)?;
        let targets: Vec<&str> = if targets.is_empty() {
            vec!["base"]
        } else {
            targets.to_vec()
        };

        let mut filtered: Vec<Idx> = Vec::new();
        for t in &targets {
            for h in self.lineage_filter(&head_idx, t, true)? {
                if !filtered.contains(&h) {
                    filtered.push(h);
                }
            }
        }
        let mut dests: Vec<Option<Idx>> = Vec::new();
        for t in &targets {
            for w in self.get_revisions(t)? {
                match w {
                    Walk::Rev(i) => dests.push(Some(i)),
                    Walk::Base => dests.push(None),
                    Walk::TooFar => return Err(RevisionError::WalkedTooFar(t.to_string())),
                }
            }
        }
        if dests.is_empty() {
            dests.push(None);
        }
        let mut state = Heads(head_idx);
        for dest in dests {
            let (from, to, up, branch_move): (Vec<Idx>, Vec<Idx>, bool, bool) = match dest {
                None => {
                    for &h in &filtered {
                        let changes = self.stamp_changes(&mut state, &[h], &[], false, true)?;
                        steps.push(Step {
                            revision: None,
                            direction: Direction::Downgrade,
                            from: vec![self.id(h).to_string()],
                            to: Vec::new(),
                            changes,
                        });
                    }
                    continue;
                }
                Some(d) if filtered.contains(&d) => continue,
                Some(d) => {
                    if filtered.iter().any(|&h| self.is_ancestor(d, h, true)) {
                        (filtered.clone(), vec![d], false, false)
                    } else if filtered.iter().any(|&h| self.is_ancestor(h, d, true)) {
                        (filtered.clone(), vec![d], true, false)
                    } else {
                        (Vec::new(), vec![d], true, true)
                    }
                }
            };
            let changes = self.stamp_changes(&mut state, &from, &to, up, branch_move)?;
            steps.push(Step {
                revision: None,
                direction: if up {
                    Direction::Upgrade
                } else {
                    Direction::Downgrade
                },
                from: self.ids_owned(&from),
                to: self.ids_owned(&to),
                changes,
            });
        }
        if !purged.is_empty() {
            let deletes = purged.iter().cloned().map(VersionChange::Delete);
            match steps.first_mut() {
                Some(first) => {
                    first.changes.splice(0..0, deletes);
                }
                None => steps.push(Step {
                    revision: None,
                    direction: Direction::Downgrade,
                    from: purged.clone(),
                    to: Vec::new(),
                    changes: deletes.collect(),
                }),
            }
        }
        Ok(Plan {
            steps,
            heads_after: self.ids_owned(&state.0),
        })
    }

    /// Alembic's `HeadMaintainer.update_to_step` for a stamp step.
    fn stamp_changes(
        &self,
        heads: &mut Heads,
        from: &[Idx],
        to: &[Idx],
        up: bool,
        branch_move: bool,
    ) -> Result<Vec<VersionChange>, RevisionError> {
        let mut changes = Vec::new();
        let conflict = |heads: &Heads| RevisionError::VersionTableConflict {
            revision: to
                .first()
                .or(from.first())
                .map(|&i| self.id(i).to_string())
                .unwrap_or_default(),
            heads: self.ids_owned(&heads.0),
        };
        if !up && branch_move {
            let &f = from.first().ok_or_else(|| conflict(heads))?;
            heads.remove(f);
            changes.push(VersionChange::Delete(self.id(f).to_string()));
        } else if up
            && (branch_move || from.iter().any(|&f| !heads.contains(f)))
            && to.iter().any(|&t| !heads.contains(t))
        {
            let &t = to.first().ok_or_else(|| conflict(heads))?;
            heads.insert(t);
            changes.push(VersionChange::Insert(self.id(t).to_string()));
        } else if from.len() > 1 {
            let (&last, rest) = from.split_last().ok_or_else(|| conflict(heads))?;
            let &t = to.first().ok_or_else(|| conflict(heads))?;
            for &f in rest {
                heads.remove(f);
                changes.push(VersionChange::Delete(self.id(f).to_string()));
            }
            heads.remove(last);
            heads.insert(t);
            changes.push(VersionChange::Update {
                from: self.id(last).to_string(),
                to: self.id(t).to_string(),
            });
        } else {
            let (&f, &t) = from
                .first()
                .zip(to.first())
                .ok_or_else(|| conflict(heads))?;
            heads.remove(f);
            heads.insert(t);
            changes.push(VersionChange::Update {
                from: self.id(f).to_string(),
                to: self.id(t).to_string(),
            });
        }
        Ok(changes)
    }
}
