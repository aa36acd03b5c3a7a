//! The revision graph: building and validating a [`RevisionMap`], and resolving
//! identifiers (`head`, `label@-1`, prefixes, ...) with Alembic's meaning.

use crate::error::{GraphError, GraphErrors, Origin, RevisionError};
use crate::script::validate_revision_id;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Index of a revision inside its [`RevisionMap`] (its position in insertion order).
pub(crate) type Idx = usize;

/// What the graph needs to know about one revision.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevisionSpec {
    /// The revision id.
    pub id: String,
    /// Parent ids (`down_revision`).
    pub down_revisions: Vec<String>,
    /// Branch labels declared on this revision.
    pub branch_labels: Vec<String>,
    /// `depends_on`: revision ids or branch labels.
    pub depends_on: Vec<String>,
    /// Where the revision comes from, for messages.
    pub origin: Origin,
}

impl RevisionSpec {
    /// A revision with parents given as a comma-separated string (`""` for a root).
    pub fn new(id: &str, down: &str) -> Self {
        RevisionSpec {
            id: id.to_string(),
            down_revisions: split_list(down),
            ..Default::default()
        }
    }

    /// Adds `depends_on`, comma-separated.
    pub fn depends_on(mut self, deps: &str) -> Self {
        self.depends_on = split_list(deps);
        self
    }

    /// Adds branch labels, comma-separated.
    pub fn labels(mut self, labels: &str) -> Self {
        self.branch_labels = split_list(labels);
        self
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) id: String,
    pub(crate) origin: Origin,
    /// Versioned parents (`down_revision`).
    pub(crate) down: Vec<Idx>,
    pub(crate) own_labels: Vec<String>,
    /// Labels including those inherited along the branch (Alembic's `branch_labels`).
    pub(crate) labels: BTreeSet<String>,
    pub(crate) depends_on: Vec<String>,
    /// Dependencies resolved to revisions.
    pub(crate) deps: Vec<Idx>,
    /// `down` plus the dependencies not already implied by an ancestor's dependencies.
    pub(crate) norm_down: Vec<Idx>,
    /// Number of entries of `norm_down` that are dependencies rather than parents.
    pub(crate) norm_dep_count: usize,
    /// Children through `down_revision`.
    pub(crate) next: Vec<Idx>,
    /// Children through `down_revision` or `depends_on`.
    pub(crate) all_next: Vec<Idx>,
}

/// A validated revision graph with Alembic's semantics.
///
/// Built once from every revision of a versions folder; answers heads, bases, branch
/// points, lineage questions, resolves identifiers and computes upgrade and downgrade
/// plans (see [`crate::plan`]).
#[derive(Debug, Clone)]
pub struct RevisionMap {
    pub(crate) nodes: Vec<Node>,
    pub(crate) by_id: HashMap<String, Idx>,
    pub(crate) by_label: HashMap<String, Idx>,
    /// Indices sorted by id, for prefix lookups; built on the first one.
    pub(crate) sorted: std::sync::OnceLock<Vec<Idx>>,
    /// Revisions no other revision names as `down_revision`.
    pub(crate) heads: Vec<Idx>,
    /// Revisions nothing names as `down_revision` or `depends_on`.
    pub(crate) real_heads: Vec<Idx>,
    pub(crate) bases: Vec<Idx>,
    /// A topological rank: every ancestor has a smaller rank than its descendants.
    pub(crate) rank: Vec<u32>,
}

/// A read-only view of one revision of a [`RevisionMap`].
#[derive(Debug, Clone, Copy)]
pub struct Revision<'a> {
    map: &'a RevisionMap,
    idx: Idx,
}

impl<'a> Revision<'a> {
    fn node(&self) -> &'a Node {
        &self.map.nodes[self.idx]
    }
    /// The id.
    pub fn id(&self) -> &'a str {
        &self.node().id
    }
    /// Where it was defined.
    pub fn origin(&self) -> &'a Origin {
        &self.node().origin
    }
    /// Parent ids, as declared.
    pub fn down_revisions(&self) -> Vec<&'a str> {
        self.map.ids(&self.node().down)
    }
    /// `depends_on` entries as written (ids or labels).
    pub fn depends_on(&self) -> &'a [String] {
        &self.node().depends_on
    }
    /// `depends_on` resolved to revision ids.
    pub fn dependencies(&self) -> Vec<&'a str> {
        self.map.ids(&self.node().deps)
    }
    /// Parents plus the dependencies not implied by an ancestor (Alembic's
    /// `_normalized_down_revisions`); what the version table moves between.
    pub fn normalized_down_revisions(&self) -> Vec<&'a str> {
        self.map.ids(&self.node().norm_down)
    }
    /// Labels declared on this revision.
    pub fn own_branch_labels(&self) -> &'a [String] {
        &self.node().own_labels
    }
    /// Labels of every branch this revision belongs to (declared or inherited).
    pub fn branch_labels(&self) -> Vec<&'a str> {
        self.node().labels.iter().map(String::as_str).collect()
    }
    /// Children through `down_revision`.
    pub fn children(&self) -> Vec<&'a str> {
        self.map.ids(&self.node().next)
    }
    /// Children through `down_revision` or `depends_on`.
    pub fn dependents(&self) -> Vec<&'a str> {
        self.map.ids(&self.node().all_next)
    }
    /// No revision has this one as `down_revision`.
    pub fn is_head(&self) -> bool {
        self.node().next.is_empty()
    }
    /// No `down_revision`.
    pub fn is_base(&self) -> bool {
        self.node().down.is_empty()
    }
    /// Two or more children.
    pub fn is_branch_point(&self) -> bool {
        self.node().next.len() > 1
    }
    /// Two or more parents.
    pub fn is_merge_point(&self) -> bool {
        self.node().down.len() > 1
    }
}

/// Where a relative walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    Base,
    Rev(Idx),
    /// Went past the ends of the graph.
    TooFar,
}

/// A parsed relative identifier: `[label@][symbol](+|-)N`.
pub(crate) struct Relative<'s> {
    pub(crate) label: Option<&'s str>,
    pub(crate) symbol: Option<&'s str>,
    pub(crate) text: &'s str,
    pub(crate) steps: i64,
}

pub(crate) fn parse_relative(s: &str) -> Option<Relative<'_>> {
    let (label, rest) = match s.split_once('@') {
        Some((l, r)) if !l.is_empty() => (Some(l), r),
        _ => (None, s),
    };
    let sign = rest.find(['+', '-'])?;
    let (symbol, num) = rest.split_at(sign);
    if !symbol.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let digits = &num[1..];
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().ok()?;
    let steps = if num.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    Some(Relative {
        label,
        symbol: (!symbol.is_empty()).then_some(symbol),
        text: num,
        steps,
    })
}

impl RevisionMap {
    /// Builds and validates the graph. Revisions keep the order given, which decides
    /// the order among siblings, as the file order does in Alembic.
    ///
    /// # Errors
    /// Every problem found: invalid or duplicate ids, missing parents or dependencies,
    /// duplicate branch labels, cycles.
    pub fn new<I>(revisions: I) -> Result<RevisionMap, GraphErrors>
    where
        I: IntoIterator<Item = RevisionSpec>,
    {
        let mut errors = Vec::new();
        let (specs, by_id) = accepted_specs(revisions, &mut errors);
        let by_label = branch_labels(&specs, &by_id, &mut errors);
        let nodes = linked_nodes(specs, &by_id, &by_label, &mut errors);
        let n = nodes.len();
        let heads: Vec<Idx> = (0..n).filter(|&i| nodes[i].next.is_empty()).collect();
        let real_heads: Vec<Idx> = (0..n).filter(|&i| nodes[i].all_next.is_empty()).collect();
        let bases: Vec<Idx> = (0..n).filter(|&i| nodes[i].down.is_empty()).collect();
        let rank = topological_rank(&nodes, &mut errors);
        if !errors.is_empty() {
            return Err(GraphErrors(errors));
        }

        let sorted = std::sync::OnceLock::new();
        let mut map = RevisionMap {
            nodes,
            by_id,
            by_label,
            sorted,
            heads,
            real_heads,
            bases,
            rank,
        };
        map.normalize_dependencies();
        map.propagate_labels();
        Ok(map)
    }

    /// Keeps, of each revision's dependencies, those not already dependencies of one of
    /// its ancestors (Alembic's `_normalized_resolved_dependencies`).
    fn normalize_dependencies(&mut self) {
        let mut dependents_of: HashMap<Idx, Vec<Idx>> = HashMap::new();
        for (i, nd) in self.nodes.iter().enumerate() {
            for &d in &nd.deps {
                dependents_of.entry(d).or_default().push(i);
            }
        }
        for i in 0..self.nodes.len() {
            let mut norm = self.nodes[i].down.clone();
            let mut dep_count = 0;
            for &d in &self.nodes[i].deps {
                let implied = dependents_of.get(&d).is_some_and(|others| {
                    others
                        .iter()
                        .any(|&a| a != i && self.is_ancestor(a, i, false))
                });
                if !implied && !norm.contains(&d) {
                    norm.push(d);
                    dep_count += 1;
                }
            }
            self.nodes[i].norm_down = norm;
            self.nodes[i].norm_dep_count = dep_count;
        }
    }

    /// Spreads each declared label to the revisions of its branch, as Alembic does:
    /// to every descendant, then down from the last one reached until a branch point
    /// or merge point.
    fn propagate_labels(&mut self) {
        let declaring: Vec<Idx> = (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].own_labels.is_empty())
            .collect();
        for r in declaring {
            let labels = self.nodes[r].own_labels.clone();
            let desc = self.related(&[r], Rel::Descendants { deps: false });
            for &d in &desc {
                self.nodes[d].labels.extend(labels.iter().cloned());
            }
            let mut parent = desc.last().copied();
            while let Some(p) = parent {
                let nd = &self.nodes[p];
                if nd.all_next.len() > 1 || nd.down.len() > 1 {
                    break;
                }
                let down = nd.down.first().copied();
                self.nodes[p].labels.extend(labels.iter().cloned());
                parent = down;
            }
        }
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no revisions.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<Revision<'_>> {
        self.by_id.get(id).map(|&idx| Revision { map: self, idx })
    }

    /// Every revision in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = Revision<'_>> + '_ {
        (0..self.nodes.len()).map(move |idx| Revision { map: self, idx })
    }

    /// Heads: revisions that no revision names as `down_revision` (what `migrate heads` lists).
    pub fn heads(&self) -> Vec<&str> {
        self.ids(&self.heads)
    }

    /// The heads that nothing depends on either: what the identifier `heads` means.
    pub fn real_heads(&self) -> Vec<&str> {
        self.ids(&self.real_heads)
    }

    /// Revisions without `down_revision`.
    pub fn bases(&self) -> Vec<&str> {
        self.ids(&self.bases)
    }

    /// Revisions with two or more children.
    pub fn branch_points(&self) -> Vec<&str> {
        self.iter()
            .filter(|r| r.is_branch_point())
            .map(|r| r.id())
            .collect()
    }

    /// Revisions with two or more parents.
    pub fn merge_points(&self) -> Vec<&str> {
        self.iter()
            .filter(|r| r.is_merge_point())
            .map(|r| r.id())
            .collect()
    }

    /// Every branch label and the revision that declares it, sorted by label.
    pub fn branch_labels(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = self
            .by_label
            .iter()
            .map(|(l, &i)| (l.as_str(), self.nodes[i].id.as_str()))
            .collect();
        v.sort_unstable();
        v
    }

    /// Every revision on the branch a label names: the revisions carrying that label.
    ///
    /// # Errors
    /// [`RevisionError::NoSuchBranch`] for an unknown label.
    pub fn branch(&self, label: &str) -> Result<Vec<&str>, RevisionError> {
        if !self.by_label.contains_key(label) {
            return Err(RevisionError::NoSuchBranch(label.to_string()));
        }
        Ok(self
            .iter()
            .filter(|r| r.node().labels.contains(label))
            .map(|r| r.id())
            .collect())
    }

    /// Ancestors of `id` (itself included) through parents and dependencies.
    ///
    /// # Errors
    /// When `id` does not resolve to one revision.
    pub fn ancestors(&self, id: &str) -> Result<Vec<&str>, RevisionError> {
        let i = self.one(id)?;
        Ok(self.ids(&self.related(&[i], Rel::Ancestors { deps: true })))
    }

    /// Descendants of `id` (itself included) through children and dependents.
    ///
    /// # Errors
    /// When `id` does not resolve to one revision.
    pub fn descendants(&self, id: &str) -> Result<Vec<&str>, RevisionError> {
        let i = self.one(id)?;
        Ok(self.ids(&self.related(&[i], Rel::Descendants { deps: true })))
    }

    /// What `alembic current` lists for a database holding `current`: of every revision
    /// applied (the rows, their ancestors and their dependencies), those that no other
    /// applied revision descends from through `down_revision`. That is the rows, plus
    /// any revision applied only because another depends on it. Sorted by id.
    ///
    /// # Errors
    /// [`RevisionError::UnknownCurrent`] for a row naming no revision.
    pub fn all_current<S: AsRef<str>>(&self, current: &[S]) -> Result<Vec<&str>, RevisionError> {
        let cur = self.indices(current)?;
        let mut out = self.ids(&self.all_current_idx(&cur));
        out.sort_unstable();
        Ok(out)
    }

    fn one(&self, id: &str) -> Result<Idx, RevisionError> {
        match self.get_revision(id)? {
            Some(i) => Ok(i),
            None => Err(RevisionError::NoSuchRevision(id.to_string())),
        }
    }

    /// Resolves any identifier to revision ids: a full id or unique prefix, `head`,
    /// `heads`, `base` (empty), `label@head`, `label@base`, `rev@head`, `label`,
    /// `label@rev`, and the relative forms `head-N`, `rev+N`, `label@-N`, `-N` (walking
    /// down from the heads).
    ///
    /// # Errors
    /// Alembic's failures: unknown or ambiguous ids, several heads for `head`, walks that
    /// leave the graph or cross a branch point.
    pub fn resolve(&self, ident: &str) -> Result<Vec<&str>, RevisionError> {
        if let Some(rel) = parse_relative(ident) {
            if rel.symbol.is_some() || rel.steps < 0 {
                let out = if rel.symbol.is_some() {
                    self.parse_upgrade_target(&[], ident, true)?
                } else {
                    self.get_revisions(ident)?
                        .into_iter()
                        .map(|w| match w {
                            Walk::Rev(i) => Ok(Some(i)),
                            Walk::Base => Ok(None),
                            Walk::TooFar => Err(RevisionError::RelativeOutOfRange {
                                relative: rel.text.to_string(),
                                steps: rel.steps.unsigned_abs(),
                            }),
                        })
                        .collect::<Result<Vec<_>, _>>()?
                };
                return Ok(out.into_iter().flatten().map(|i| self.id(i)).collect());
            }
        }
        let revs = self.get_revisions(ident)?;
        let mut out = Vec::new();
        for w in revs {
            match w {
                Walk::Rev(i) => out.push(self.id(i)),
                Walk::Base => {}
                Walk::TooFar => return Err(RevisionError::WalkedTooFar(ident.to_string())),
            }
        }
        Ok(out)
    }

    /// Alembic's `filter_for_lineage`: keeps the `targets` (revision ids) that are on
    /// the same line of descent as `check_against` (an identifier such as `label@head`,
    /// `heads` or a revision), i.e. that are its ancestors or descendants. With
    /// `include_dependencies`, `depends_on` edges count as lineage too.
    ///
    /// # Errors
    /// Unknown target ids ([`RevisionError::NoSuchRevision`]) and failures to resolve
    /// `check_against`.
    pub fn filter_for_lineage<S: AsRef<str>>(
        &self,
        targets: &[S],
        check_against: &str,
        include_dependencies: bool,
    ) -> Result<Vec<&str>, RevisionError> {
        let idx = targets
            .iter()
            .map(|t| {
                self.by_id
                    .get(t.as_ref())
                    .copied()
                    .ok_or_else(|| RevisionError::NoSuchRevision(t.as_ref().to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let kept = self.lineage_filter(&idx, check_against, include_dependencies)?;
        Ok(self.ids(&kept))
    }

    /// Resolves an identifier that must name at most one revision (`None` for base).
    ///
    /// # Errors
    /// [`RevisionError::MultipleHeads`] when it names several, and resolution failures.
    pub fn resolve_one(&self, ident: &str) -> Result<Option<&str>, RevisionError> {
        let mut v = self.resolve(ident)?;
        match v.len() {
            0 => Ok(None),
            1 => Ok(v.pop()),
            _ => Err(RevisionError::MultipleHeads {
                heads: v.iter().map(|s| s.to_string()).collect(),
                argument: ident.to_string(),
            }),
        }
    }

    pub(crate) fn id(&self, i: Idx) -> &str {
        &self.nodes[i].id
    }

    pub(crate) fn ids(&self, v: &[Idx]) -> Vec<&str> {
        v.iter().map(|&i| self.id(i)).collect()
    }

    pub(crate) fn ids_owned(&self, v: &[Idx]) -> Vec<String> {
        v.iter().map(|&i| self.id(i).to_string()).collect()
    }

    /// Looks up exact ids; for ids the caller knows are in the map (e.g. from the
    /// version table) returning the unknown one on failure.
    pub(crate) fn indices(&self, ids: &[impl AsRef<str>]) -> Result<Vec<Idx>, RevisionError> {
        ids.iter()
            .map(|s| {
                self.by_id
                    .get(s.as_ref())
                    .copied()
                    .ok_or_else(|| RevisionError::UnknownCurrent(s.as_ref().to_string()))
            })
            .collect()
    }

    // ---- lineage -------------------------------------------------------------

    /// Whether `anc` is `desc` or one of its ancestors. `deps` follows dependencies too.
    ///
    /// The search is pruned by topological rank, so its cost is bounded by the part of
    /// the graph between the two revisions rather than by the whole graph.
    pub(crate) fn is_ancestor(&self, anc: Idx, desc: Idx, deps: bool) -> bool {
        if anc == desc {
            return true;
        }
        let floor = self.rank[anc];
        if self.rank[desc] <= floor {
            return false;
        }
        let mut seen: HashSet<Idx> = HashSet::new();
        let mut stack = vec![desc];
        while let Some(x) = stack.pop() {
            let nd = &self.nodes[x];
            let parents = if deps {
                nd.norm_down.as_slice()
            } else {
                nd.down.as_slice()
            };
            for &p in parents {
                if p == anc {
                    return true;
                }
                if self.rank[p] > floor && seen.insert(p) {
                    stack.push(p);
                }
            }
        }
        false
    }

    /// Walks the graph from `start` (inclusive) in the given relation, depth first, in
    /// Alembic's visiting order.
    pub(crate) fn related(&self, start: &[Idx], rel: Rel) -> Vec<Idx> {
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        let mut stack: Vec<Idx> = Vec::new();
        for &s in start {
            stack.push(s);
            while let Some(x) = stack.pop() {
                if seen[x] {
                    continue;
                }
                seen[x] = true;
                let nd = &self.nodes[x];
                let next: &[Idx] = match rel {
                    Rel::Ancestors { deps: true } => &nd.norm_down,
                    Rel::Ancestors { deps: false } => &nd.down,
                    Rel::Descendants { deps: true } => &nd.all_next,
                    Rel::Descendants { deps: false } => &nd.next,
                };
                stack.extend(next.iter().copied().filter(|&c| !seen[c]));
                out.push(x);
            }
        }
        out
    }

    /// Like [`related`](Self::related) but as a membership mask.
    pub(crate) fn related_mask(&self, start: &[Idx], rel: Rel) -> Vec<bool> {
        let mut mask = vec![false; self.nodes.len()];
        for i in self.related(start, rel) {
            mask[i] = true;
        }
        mask
    }

    /// Fails when one of `targets` is an ancestor of another (Alembic's overlap check).
    pub(crate) fn check_overlap(&self, targets: &[Idx]) -> Result<(), RevisionError> {
        for &t in targets {
            let others: Vec<String> = targets
                .iter()
                .filter(|&&o| o != t && self.is_ancestor(o, t, true))
                .map(|&o| self.id(o).to_string())
                .collect();
            if !others.is_empty() {
                return Err(RevisionError::Overlap {
                    revision: self.id(t).to_string(),
                    others,
                });
            }
        }
        Ok(())
    }

    fn shares_lineage(&self, target: Idx, against: &[Idx], deps: bool) -> bool {
        against.is_empty()
            || against
                .iter()
                .any(|&a| self.is_ancestor(a, target, deps) || self.is_ancestor(target, a, deps))
    }

    /// Keeps the targets on the same line of descent as `check_against` (an identifier).
    pub(crate) fn lineage_filter(
        &self,
        targets: &[Idx],
        check_against: &str,
        deps: bool,
    ) -> Result<Vec<Idx>, RevisionError> {
        let (ids, label) = self.resolve_revision_number(check_against)?;
        let mut against = Vec::new();
        for s in label
            .iter()
            .map(|s| s.as_str())
            .chain(ids.iter().map(|s| s.as_str()))
        {
            against.push(self.revision_for_ident(s, None)?);
        }
        Ok(targets
            .iter()
            .copied()
            .filter(|&t| self.shares_lineage(t, &against, deps))
            .collect())
    }

    // ---- identifiers -----------------------------------------------------------

    pub(crate) fn current_head(&self, label: Option<&str>) -> Result<Option<Idx>, RevisionError> {
        let heads = match label {
            Some(l) => self.lineage_filter(&self.heads, l, false)?,
            None => self.heads.clone(),
        };
        if heads.len() > 1 {
            return Err(RevisionError::MultipleHeads {
                heads: self.ids_owned(&heads),
                argument: match label {
                    Some(l) => format!("{l}@head"),
                    None => "head".to_string(),
                },
            });
        }
        Ok(heads.first().copied())
    }

    /// Splits `label@rest` and expands `head`, `heads` and `base` (Alembic's
    /// `_resolve_revision_number`): the ids still to look up, and the label.
    pub(crate) fn resolve_revision_number(
        &self,
        ident: &str,
    ) -> Result<(Vec<String>, Option<String>), RevisionError> {
        let (label, rest) = match ident.split_once('@') {
            Some((l, r)) => (Some(l.to_string()), r),
            None => (None, ident),
        };
        let ids = match rest {
            "heads" => match &label {
                Some(l) => self.ids_owned(&self.lineage_filter(&self.heads, l, false)?),
                None => self.ids_owned(&self.real_heads),
            },
            "head" => match self.current_head(label.as_deref())? {
                Some(h) => vec![self.id(h).to_string()],
                None => Vec::new(),
            },
            "base" | "" => Vec::new(),
            other => vec![other.to_string()],
        };
        Ok((ids, label))
    }

    fn resolve_branch(&self, label: &str) -> Result<Idx, RevisionError> {
        if let Some(&i) = self.by_label.get(label) {
            return Ok(i);
        }
        self.revision_for_ident(label, None)
            .map_err(|_| RevisionError::NoSuchBranch(label.to_string()))
    }

    /// One id, label or prefix to a revision; with `branch`, the revision must be on it.
    pub(crate) fn revision_for_ident(
        &self,
        ident: &str,
        branch: Option<&str>,
    ) -> Result<Idx, RevisionError> {
        let branch_rev = match branch {
            Some(b) if !b.is_empty() => Some(self.resolve_branch(b)?),
            _ => None,
        };
        let found = if let Some(&i) = self.by_id.get(ident).or_else(|| self.by_label.get(ident)) {
            i
        } else {
            let sorted = self.sorted.get_or_init(|| {
                let mut v: Vec<Idx> = (0..self.nodes.len()).collect();
                v.sort_by(|a, b| self.nodes[*a].id.cmp(&self.nodes[*b].id));
                v
            });
            let start = sorted.partition_point(|&i| self.nodes[i].id.as_str() < ident);
            let mut candidates: Vec<Idx> = sorted[start..]
                .iter()
                .copied()
                .take_while(|&i| self.nodes[i].id.starts_with(ident))
                .filter(|&i| self.nodes[i].id.len() > 3)
                .collect();
            if let Some(b) = branch_rev {
                candidates.retain(|&c| self.shares_lineage(c, &[b], false));
            }
            match candidates.as_slice() {
                [] => return Err(RevisionError::NoSuchRevision(ident.to_string())),
                [one] => *one,
                many => {
                    return Err(RevisionError::AmbiguousPrefix {
                        prefix: ident.to_string(),
                        candidates: self.ids_owned(many),
                    })
                }
            }
        };
        if let (Some(b), Some(label)) = (branch_rev, branch) {
            if !self.shares_lineage(found, &[b], false) {
                return Err(RevisionError::NotMemberOfBranch {
                    revision: self.id(found).to_string(),
                    branch: label.to_string(),
                });
            }
        }
        Ok(found)
    }

    /// Alembic's `get_revisions`: every revision an identifier names. `-N` walks down
    /// from each head.
    pub(crate) fn get_revisions(&self, ident: &str) -> Result<Vec<Walk>, RevisionError> {
        let (ids, label) = self.resolve_revision_number(ident)?;
        if let [only] = ids.as_slice() {
            if let Some(n) = only.strip_prefix('-').and_then(|d| d.parse::<i64>().ok()) {
                let mut heads = self.real_heads.clone();
                if let Some(l) = &label {
                    heads.retain(|&h| self.nodes[h].labels.contains(l));
                }
                return heads
                    .into_iter()
                    .map(|h| self.walk(Some(h), -n, None, true))
                    .collect();
            }
        }
        ids.iter()
            .map(|s| self.revision_for_ident(s, label.as_deref()).map(Walk::Rev))
            .collect()
    }

    /// Alembic's `get_revision`: at most one revision (`None` for base).
    pub(crate) fn get_revision(&self, ident: &str) -> Result<Option<Idx>, RevisionError> {
        let (ids, label) = self.resolve_revision_number(ident)?;
        match ids.as_slice() {
            [] => {
                if let Some(l) = label.as_deref().filter(|l| !l.is_empty()) {
                    self.resolve_branch(l)?;
                }
                Ok(None)
            }
            [one] => self.revision_for_ident(one, label.as_deref()).map(Some),
            _ => Err(RevisionError::MultipleHeads {
                heads: ids,
                argument: ident.to_string(),
            }),
        }
    }

    /// Walks `steps` up (positive) or down (negative) from `start` (`None` = base).
    pub(crate) fn walk(
        &self,
        start: Option<Idx>,
        steps: i64,
        branch_label: Option<&str>,
        no_overwalk: bool,
    ) -> Result<Walk, RevisionError> {
        let mut at = match start {
            Some(i) => Walk::Rev(i),
            None => Walk::Base,
        };
        let name = |w: Walk| match w {
            Walk::Rev(i) => self.id(i).to_string(),
            _ => "base".to_string(),
        };
        for step in 0..steps.unsigned_abs() {
            let from_nothing = step == 0 && start.is_none();
            let children: Vec<Walk> = if steps > 0 {
                let up: Vec<Idx> = match at {
                    Walk::Rev(i) => self.nodes[i].next.clone(),
                    _ => self.bases.clone(),
                };
                let up = match branch_label {
                    Some(l) => self.lineage_filter(&up, l, false)?,
                    None => up,
                };
                up.into_iter().map(Walk::Rev).collect()
            } else {
                match at {
                    Walk::Rev(i) if self.nodes[i].down.is_empty() => vec![Walk::Base],
                    Walk::Rev(i) => self.nodes[i].down.iter().map(|&d| Walk::Rev(d)).collect(),
                    // Walking down from "no revision" starts at the heads; from base
                    // itself there is nowhere to go.
                    _ if from_nothing => self.heads.iter().map(|&h| Walk::Rev(h)).collect(),
                    _ => Vec::new(),
                }
            };
            match children.as_slice() {
                [] => return Ok(if no_overwalk { Walk::TooFar } else { at }),
                [one] => at = *one,
                _ => return Err(RevisionError::AmbiguousWalk(name(at))),
            }
        }
        Ok(at)
    }
}

/// Which way [`RevisionMap::related`] walks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rel {
    Ancestors { deps: bool },
    Descendants { deps: bool },
}

/// The revisions with a valid, new id that do not name themselves as parent or
/// dependency, in the order given, and the index of each id; the others are `errors`.
fn accepted_specs(
    revisions: impl IntoIterator<Item = RevisionSpec>,
    errors: &mut Vec<GraphError>,
) -> (Vec<RevisionSpec>, HashMap<String, Idx>) {
    let mut specs: Vec<RevisionSpec> = Vec::new();
    let mut by_id: HashMap<String, Idx> = HashMap::new();
    for spec in revisions {
        if let Err(error) = validate_revision_id(&spec.id) {
            errors.push(GraphError::InvalidId {
                origin: spec.origin.clone(),
                error,
            });
            continue;
        }
        if spec.down_revisions.contains(&spec.id) || spec.depends_on.contains(&spec.id) {
            errors.push(GraphError::SelfReference(spec.id.clone()));
            continue;
        }
        if let Some(&first) = by_id.get(&spec.id) {
            errors.push(GraphError::DuplicateRevision {
                id: spec.id.clone(),
                first: specs[first].origin.clone(),
                second: spec.origin.clone(),
            });
            continue;
        }
        by_id.insert(spec.id.clone(), specs.len());
        specs.push(spec);
    }
    (specs, by_id)
}

/// The revision each valid branch label names; reserved, malformed and duplicate labels
/// (a label that is another revision's id included) are `errors`.
fn branch_labels(
    specs: &[RevisionSpec],
    by_id: &HashMap<String, Idx>,
    errors: &mut Vec<GraphError>,
) -> HashMap<String, Idx> {
    let mut by_label: HashMap<String, Idx> = HashMap::new();
    for (i, spec) in specs.iter().enumerate() {
        for label in &spec.branch_labels {
            let bad = |reason| GraphError::BadBranchLabel {
                label: label.clone(),
                revision: spec.id.clone(),
                origin: spec.origin.clone(),
                reason,
            };
            let duplicate = |other: Idx| GraphError::DuplicateBranchLabel {
                label: label.clone(),
                revision: spec.id.clone(),
                origin: spec.origin.clone(),
                other: specs[other].id.clone(),
            };
            if matches!(label.as_str(), "head" | "heads" | "base" | "current") {
                errors.push(bad("it is a reserved word"));
            } else if label.contains(['@', '-', '+', ':']) || label.is_empty() {
                errors.push(bad("labels may not contain `@ - + :`"));
            } else if let Some(&other) = by_label.get(label) {
                errors.push(duplicate(other));
            } else if let Some(&other) = by_id.get(label) {
                if other != i {
                    errors.push(duplicate(other));
                }
            } else {
                by_label.insert(label.clone(), i);
            }
        }
    }
    by_label
}

/// The graph's nodes, with their parents and dependencies resolved (missing ones are
/// `errors`) and linked both ways.
fn linked_nodes(
    specs: Vec<RevisionSpec>,
    by_id: &HashMap<String, Idx>,
    by_label: &HashMap<String, Idx>,
    errors: &mut Vec<GraphError>,
) -> Vec<Node> {
    let n = specs.len();
    let mut nodes: Vec<Node> = Vec::with_capacity(n);
    for spec in specs {
        let mut down = Vec::with_capacity(spec.down_revisions.len());
        for p in &spec.down_revisions {
            match by_id.get(p) {
                Some(&pi) if !down.contains(&pi) => down.push(pi),
                Some(_) => {}
                None => errors.push(GraphError::MissingParent {
                    revision: spec.id.clone(),
                    origin: spec.origin.clone(),
                    parent: p.clone(),
                }),
            }
        }
        let mut deps = Vec::new();
        for d in &spec.depends_on {
            match by_id.get(d).or_else(|| by_label.get(d)) {
                Some(&di) if !deps.contains(&di) => deps.push(di),
                Some(_) => {}
                None => errors.push(GraphError::MissingDependency {
                    revision: spec.id.clone(),
                    origin: spec.origin.clone(),
                    target: d.clone(),
                }),
            }
        }
        let labels = spec.branch_labels.iter().cloned().collect();
        nodes.push(Node {
            id: spec.id,
            origin: spec.origin,
            down,
            own_labels: spec.branch_labels,
            labels,
            depends_on: spec.depends_on,
            deps,
            norm_down: Vec::new(),
            norm_dep_count: 0,
            next: Vec::new(),
            all_next: Vec::new(),
        });
    }
    for i in 0..n {
        for j in 0..nodes[i].down.len() {
            let p = nodes[i].down[j];
            nodes[p].next.push(i);
            nodes[p].all_next.push(i);
        }
        for j in 0..nodes[i].deps.len() {
            let d = nodes[i].deps[j];
            if !nodes[d].all_next.contains(&i) {
                nodes[d].all_next.push(i);
            }
        }
    }
    nodes
}

/// Each node's topological rank over parents and dependencies (Kahn); when some are
/// left unranked, they sit on or behind a cycle, which is one more of `errors`.
fn topological_rank(nodes: &[Node], errors: &mut Vec<GraphError>) -> Vec<u32> {
    let n = nodes.len();
    let mut indegree: Vec<usize> = nodes
        .iter()
        .map(|nd| nd.down.len() + nd.deps.iter().filter(|d| !nd.down.contains(d)).count())
        .collect();
    let mut rank = vec![u32::MAX; n];
    let mut queue: Vec<Idx> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut next_rank = 0u32;
    let mut qi = 0;
    while qi < queue.len() {
        let i = queue[qi];
        qi += 1;
        rank[i] = next_rank;
        next_rank += 1;
        for &c in &nodes[i].all_next {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                queue.push(c);
            }
        }
    }
    if queue.len() < n {
        let found = cycle_errors(nodes);
        let precise = unranked_cycle(nodes, &rank);
        // Alembic's reachability check names what it cannot reach (members and what
        // hangs off them), but misses a cycle entered from a head and left towards a
        // base, and can misclassify a parent cycle; Kahn's leftovers, trimmed of what
        // merely hangs below the cycle, always name it.
        match (found.as_slice(), &precise) {
            ([GraphError::Cycle(_)], _)
            | ([GraphError::DependencyCycle(_)], GraphError::DependencyCycle(_)) => {
                errors.extend(found)
            }
            _ => errors.push(precise),
        }
    }
    rank
}

/// Names the members of every cycle: revisions that are not reachable both from a
/// head walking down and from a base walking up, first through parents only, then
/// through parents and dependencies.
fn cycle_errors(nodes: &[Node]) -> Vec<GraphError> {
    let n = nodes.len();
    let reach = |starts: Vec<Idx>, step: &dyn Fn(&Node) -> Vec<Idx>| {
        let mut seen = vec![false; n];
        let mut stack = starts;
        while let Some(x) = stack.pop() {
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            stack.extend(step(&nodes[x]));
        }
        seen
    };
    let outside = |a: &[bool], b: &[bool]| -> Vec<String> {
        let mut v: Vec<String> = (0..n)
            .filter(|&i| !(a[i] && b[i]))
            .map(|i| nodes[i].id.clone())
            .collect();
        v.sort();
        v
    };
    let heads: Vec<Idx> = (0..n).filter(|&i| nodes[i].next.is_empty()).collect();
    let bases: Vec<Idx> = (0..n).filter(|&i| nodes[i].down.is_empty()).collect();
    let down = reach(heads, &|nd| nd.down.clone());
    let up = reach(bases, &|nd| nd.next.clone());
    let versioned = outside(&down, &up);
    if !versioned.is_empty() {
        return vec![GraphError::Cycle(versioned)];
    }
    let real_heads: Vec<Idx> = (0..n).filter(|&i| nodes[i].all_next.is_empty()).collect();
    let real_bases: Vec<Idx> = (0..n)
        .filter(|&i| nodes[i].down.is_empty() && nodes[i].deps.is_empty())
        .collect();
    let down = reach(real_heads, &|nd| {
        let mut v = nd.down.clone();
        v.extend(&nd.deps);
        v
    });
    let up = reach(real_bases, &|nd| nd.all_next.clone());
    let all = outside(&down, &up);
    if all.is_empty() {
        Vec::new()
    } else {
        vec![GraphError::DependencyCycle(all)]
    }
}

/// The revisions left unranked by the topological pass, minus those that only descend
/// from a cycle: what remains lies on a cycle (or between two). Reported as a
/// [`GraphError::Cycle`] when parents alone form it, else as a dependency cycle.
fn unranked_cycle(nodes: &[Node], rank: &[u32]) -> GraphError {
    let n = nodes.len();
    let mut left: Vec<bool> = (0..n).map(|i| rank[i] == u32::MAX).collect();
    // Peel revisions with no remaining child among the leftovers, repeatedly.
    let mut out_degree: Vec<usize> = (0..n)
        .map(|i| nodes[i].all_next.iter().filter(|&&c| left[c]).count())
        .collect();
    let mut stack: Vec<Idx> = (0..n).filter(|&i| left[i] && out_degree[i] == 0).collect();
    while let Some(x) = stack.pop() {
        left[x] = false;
        let nd = &nodes[x];
        let mut parents: Vec<Idx> = nd.down.clone();
        parents.extend(nd.deps.iter().filter(|d| !nd.down.contains(d)));
        for p in parents {
            if left[p] {
                out_degree[p] -= 1;
                if out_degree[p] == 0 {
                    stack.push(p);
                }
            }
        }
    }
    let mut members: Vec<String> = (0..n)
        .filter(|&i| left[i])
        .map(|i| nodes[i].id.clone())
        .collect();
    members.sort();
    // Does a cycle remain when dependencies are ignored?
    let mut indeg: Vec<usize> = (0..n).map(|i| nodes[i].down.len()).collect();
    let mut queue: Vec<Idx> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut seen = 0;
    while let Some(x) = queue.pop() {
        seen += 1;
        for &c in &nodes[x].next {
            indeg[c] -= 1;
            if indeg[c] == 0 {
                queue.push(c);
            }
        }
    }
    if seen < n {
        GraphError::Cycle(members)
    } else {
        GraphError::DependencyCycle(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(specs: &[RevisionSpec]) -> Result<RevisionMap, GraphErrors> {
        RevisionMap::new(specs.to_vec())
    }

    #[test]
    fn cycle_reachable_from_head_and_base_is_refused() {
        let err = build(&[
            RevisionSpec::new("r0", ""),
            RevisionSpec::new("r1", "r0,r2"),
            RevisionSpec::new("r2", "r1"),
            RevisionSpec::new("r3", "r2"),
        ])
        .unwrap_err();
        assert_eq!(
            err.0,
            vec![GraphError::Cycle(vec!["r1".into(), "r2".into()])]
        );
    }

    #[test]
    fn dependency_cycle_reachable_both_ways_is_refused() {
        let err = build(&[
            RevisionSpec::new("a", ""),
            RevisionSpec::new("b", "a").depends_on("c"),
            RevisionSpec::new("c", "").depends_on("b"),
            RevisionSpec::new("d", "b"),
        ])
        .unwrap_err();
        assert_eq!(
            err.0,
            vec![GraphError::DependencyCycle(vec!["b".into(), "c".into()])]
        );
    }
}
