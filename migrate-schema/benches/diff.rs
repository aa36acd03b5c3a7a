//! Diff and render benchmarks on generated schemas of 1,000 tables (10 columns, a
//! primary key, 2 indexes and a foreign key each; the second schema changes about one
//! table in ten, drops about one in a hundred and adds ten):
//!
//! - `diff_same`: a schema against itself (the drift check of an up-to-date database);
//! - `diff_changed`: against the changed one;
//! - `render_postgres` / `render_sqlite`: the upgrade and downgrade DDL of that diff.
//!
//! ```sh
//! cargo bench -p migrate-schema --bench diff -- --warm-up-time 1 --measurement-time 3
//! ```
//! Budget: a diff of two 1,000-table schemas under 20 ms.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use migrate_core::Dialect;
use migrate_schema::bench_support::generate_schema;
use migrate_schema::{diff, render, RenderOptions};

const TABLES: usize = 1_000;

fn bench(c: &mut Criterion) {
    let a = generate_schema(TABLES, 0);
    let b = generate_schema(TABLES, 7);
    let mut group = c.benchmark_group("schema_1000_tables");
    group.bench_function("diff_same", |bench| {
        bench.iter(|| diff(black_box(&a), black_box(&a)))
    });
    group.bench_function("diff_changed", |bench| {
        bench.iter(|| diff(black_box(&a), black_box(&b)))
    });
    let d = diff(&a, &b).expect("generated schemas diff");
    let opts = RenderOptions {
        allow_destructive: true,
    };
    for (name, dialect) in [
        ("render_postgres", Dialect::Postgres),
        ("render_sqlite", Dialect::Sqlite),
    ] {
        group.bench_function(name, |bench| {
            bench.iter(|| render(black_box(&d), &a, &b, dialect, &opts))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
