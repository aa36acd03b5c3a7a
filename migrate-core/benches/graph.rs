//! Graph benchmarks at 1k, 10k and 100k revisions, for a linear chain and for a branchy
//! graph (two parallel lines merged every 10 revisions):
//!
//! - `parse_validate`: `ScriptDirectory::from_files` over generated file texts (parse
//!   every header, build and validate the `RevisionMap`);
//! - `upgrade_plan`: base → `heads`;
//! - `downgrade_plan`: the heads → `base`.
//!
//! ```sh
//! cargo bench -p migrate-core --bench graph -- --warm-up-time 1 --measurement-time 3
//! ```
//! Budgets: 10k parse+validate < 50 ms, 10k full upgrade plan < 20 ms, growth roughly
//! linear.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use migrate_core::{RevisionMap, ScriptDirectory};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// A 12-hex-digit revision id, as the CLI generates, derived from `i` (splitmix64), so
/// file order (sorted by name) is unrelated to graph order.
fn rev_id(i: usize) -> String {
    let mut z = (i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("{:012x}", z & 0xffff_ffff_ffff)
}

/// One migration file in the project's format.
fn file(id: &str, down: &[String], n: usize) -> (String, String) {
    let text = format!(
        "-- migration {n}\n--\n-- revision: {id}\n-- down_revision: {}\n-- branch_labels:\n-- depends_on:\n-- create_date: 2025-01-15 10:30:00\n\n-- migrate:upgrade\nCREATE TABLE t{n} (id INT PRIMARY KEY, name TEXT);\nCREATE INDEX ix_t{n} ON t{n} (name);\n\n-- migrate:downgrade\nDROP TABLE t{n};\n",
        down.join(", ")
    );
    (format!("{id}_migration_{n}.sql"), text)
}

/// Each revision's parents, by index: `parents[i]` are indexes below `i`.
fn linear(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| if i == 0 { vec![] } else { vec![i - 1] })
        .collect()
}

/// Two lines of 4 and 5 revisions leave each merge point and meet again at the next
/// one: a merge every 10 revisions. The last revision always merges, so there is one
/// head.
fn branchy(n: usize) -> Vec<Vec<usize>> {
    let mut parents: Vec<Vec<usize>> = vec![vec![]];
    let (mut a, mut b) = (0, 0);
    while parents.len() < n {
        let i = parents.len();
        if i + 1 == n || (i.is_multiple_of(10) && a != b) {
            parents.push(if a == b { vec![a] } else { vec![a, b] });
            (a, b) = (i, i);
        } else if i.is_multiple_of(2) {
            parents.push(vec![a]);
            a = i;
        } else {
            parents.push(vec![b]);
            b = i;
        }
    }
    parents
}

fn files(parents: &[Vec<usize>]) -> Vec<(String, String)> {
    let ids: Vec<String> = (0..parents.len()).map(rev_id).collect();
    parents
        .iter()
        .enumerate()
        .map(|(i, ps)| {
            let down: Vec<String> = ps.iter().map(|&p| ids[p].clone()).collect();
            file(&ids[i], &down, i)
        })
        .collect()
}

/// Builds the parents of `n` revisions.
type Shape = fn(usize) -> Vec<Vec<usize>>;

fn shapes() -> [(&'static str, Shape); 2] {
    [("linear", linear), ("branchy", branchy)]
}

fn load(files: &[(String, String)]) -> ScriptDirectory {
    ScriptDirectory::from_files(files.iter().map(|(p, t)| (p.as_str(), t.as_bytes())))
        .expect("generated graph is valid")
}

fn parse_validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_validate");
    for (shape, make) in shapes() {
        for n in SIZES {
            let files = files(&make(n));
            let dir = load(&files);
            assert_eq!(dir.map.len(), n);
            assert_eq!(dir.map.heads().len(), 1);
            group.sample_size(if n >= 100_000 { 10 } else { 20 });
            group.bench_with_input(BenchmarkId::new(shape, n), &files, |b, files| {
                // Dropping the directory is not part of parsing and validating it.
                b.iter_with_large_drop(|| load(black_box(files)))
            });
        }
    }
    group.finish();
}

fn maps() -> Vec<(&'static str, usize, RevisionMap)> {
    let mut out = Vec::new();
    for (shape, make) in shapes() {
        for n in SIZES {
            out.push((shape, n, load(&files(&make(n))).map));
        }
    }
    out
}

fn plans(c: &mut Criterion) {
    let maps = maps();
    let mut group = c.benchmark_group("upgrade_plan");
    for (shape, n, map) in &maps {
        let plan = map.upgrade_plan(&[] as &[&str], "heads").expect("upgrade");
        assert_eq!(plan.steps.len(), *n);
        group.sample_size(if *n >= 100_000 { 10 } else { 20 });
        group.bench_with_input(BenchmarkId::new(*shape, n), map, |b, map| {
            b.iter(|| map.upgrade_plan(black_box(&[] as &[&str]), black_box("heads")))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("downgrade_plan");
    for (shape, n, map) in &maps {
        let heads: Vec<String> = map.heads().iter().map(|h| h.to_string()).collect();
        let plan = map.downgrade_plan(&heads, "base").expect("downgrade");
        assert_eq!(plan.steps.len(), *n);
        assert!(plan.heads_after.is_empty());
        group.sample_size(if *n >= 100_000 { 10 } else { 20 });
        group.bench_with_input(BenchmarkId::new(*shape, n), map, |b, map| {
            b.iter(|| map.downgrade_plan(black_box(&heads), black_box("base")))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_validate, plans);
criterion_main!(benches);
