//! Scratch work never runs inside the target database. When the target's role may not
//! create databases, `test`, `check`, `diff` and `revision --autogenerate` refuse
//! unless a separate dev database is named (`--dev-url`, `dev_url`); with one they work
//! and the live tables stay as they were. Driven through the real binary (and the
//! embedded entry point `myapp migrate`), on real servers.

mod common;

use common::Project;
use std::sync::atomic::{AtomicU32, Ordering};

/// A qualified migration: run inside the target database it reaches the live table
/// whatever the `search_path`, and its downgrade drops it.
const QUALIFIED_UP: &str =
    "CREATE TABLE IF NOT EXISTS public.qual_t (id integer PRIMARY KEY, note text);";
const QUALIFIED_DOWN: &str = "DROP TABLE IF EXISTS public.qual_t;";

/// The declared schema of the qualifying project: what its migration creates.
const QUAL_SCHEMA: &str = "CREATE TABLE qual_t (id integer PRIMARY KEY, note text);\n";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs SQL through `url`, outside the tool.
fn exec(url: &str, sql: &str) {
    rt().block_on(async {
        let db = migrate_runtime::Database::connect(url)
            .await
            .unwrap_or_else(|e| panic!("connect for {sql}: {e}"));
        migrate_test_support::raw(&db, sql).await;
        db.close().await;
    });
}

/// The one integer a query through `url` returns.
fn count(url: &str, sql: &str) -> i64 {
    rt().block_on(async {
        let db = migrate_runtime::Database::connect(url)
            .await
            .unwrap_or_else(|e| panic!("connect for {sql}: {e}"));
        let n = migrate_test_support::scalar(&db, sql).await;
        db.close().await;
        n
    })
}

/// `url` with its user (and password) replaced.
fn with_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("url");
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The database name of a URL.
fn database_of(url: &str) -> String {
    let path = url.split('?').next().unwrap_or_default();
    path.rsplit('/').next().unwrap_or_default().to_string()
}

/// A name no other test (of this process or another) uses.
fn unique(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "migrate_devurl_{}_{tag}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// What a test made on a server, dropped at its end (also when it fails).
struct Cleanup {
    admin: String,
    kind: &'static str,
    databases: Vec<String>,
    users: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let mut sql = String::new();
        for d in &self.databases {
            sql.push_str(&match self.kind {
                "postgres" => format!("DROP DATABASE IF EXISTS {d} WITH (FORCE);"),
                _ => format!("DROP DATABASE IF EXISTS {d};"),
            });
        }
        for u in &self.users {
            sql.push_str(&match self.kind {
                "postgres" => format!("DROP ROLE IF EXISTS {u};"),
                _ => format!("DROP USER IF EXISTS '{u}'@'%';"),
            });
        }
        let admin = self.admin.clone();
        let kind = self.kind;
        // Best effort: a failed clean-up must not hide the test's own failure.
        rt().block_on(async move {
            let statements = sql.split_inclusive(';');
            if kind == "postgres" {
                if let Ok(p) = sqlx::PgPool::connect(&admin).await {
                    for s in statements {
                        let _ = sqlx::raw_sql(s).execute(&p).await;
                    }
                    p.close().await;
                }
            } else if let Ok(p) = sqlx::MySqlPool::connect(&admin).await {
                for s in statements {
                    let _ = sqlx::raw_sql(s).execute(&p).await;
                }
                p.close().await;
            }
        });
    }
}

/// A project on `url` with one revision `q1` (`up` / `down`) and the declared schema
/// `schema`; `extra` goes at the top of migrate.toml.
fn project(url: &str, up: &str, down: &str, schema: &str, extra: &str) -> Project {
    let p = Project::with_url(url.to_string());
    p.ok(&["init", "migrations"]);
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        format!("{extra}schema_location = \"schema\"\n{text}"),
    )
    .expect("write");
    std::fs::create_dir_all(p.path().join("schema")).expect("mkdir");
    std::fs::write(p.path().join("schema/tables.sql"), schema).expect("write");
    p.ok(&["revision", "-m", "qualify", "--rev-id", "q1"]);
    p.fill("q1_", up, down);
    p
}

fn run(p: &Project, args: &[&str]) -> (i32, String) {
    let out = p.run(args);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The schema commands, each of which needs scratch databases.
const SCHEMA_COMMANDS: &[&[&str]] = &[
    &["test"],
    &["check"],
    &["diff"],
    &["revision", "--autogenerate", "-m", "more"],
];

/// Asserts that every schema command refuses with the dev URL message, and that the
/// live table still has its rows.
fn assert_refused(p: &Project, extra: &[&str], live: &str, secret: &str) {
    for command in SCHEMA_COMMANDS {
        let args: Vec<&str> = extra.iter().chain(command.iter()).copied().collect();
        let (code, out) = run(p, &args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(out.contains("--dev-url"), "{args:?}: {out}");
        assert!(out.contains("dev_url"), "{args:?}: {out}");
        assert!(!out.contains(secret), "{args:?} printed a password: {out}");
        assert!(!out.contains("panicked"), "{args:?}: {out}");
        assert_eq!(
            count(live, "SELECT COUNT(*) FROM qual_t"),
            1000,
            "{args:?} changed the live table: {out}"
        );
    }
    // Nothing was written by the refused autogenerate.
    assert!(common::find_file(&p.path().join("migrations"), "q1_").is_some());
    let files = std::fs::read_dir(p.path().join("migrations"))
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".sql"))
        })
        .count();
    assert_eq!(files, 1, "a refused autogenerate wrote a revision");
}

#[test]
fn postgres_without_createdb_needs_a_dev_url_and_never_touches_the_live_table() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let role = unique("pg");
    let secret = "pg-s3cret-pw";
    let live_admin = common::fresh_database("postgres", &admin, "devurl_live");
    let dev_admin = common::fresh_database("postgres", &admin, "devurl_dev");
    let owned_dev_admin = common::fresh_database("postgres", &admin, "devurl_owned");
    let _cleanup = Cleanup {
        admin: admin.clone(),
        kind: "postgres",
        databases: [&live_admin, &dev_admin, &owned_dev_admin]
            .iter()
            .map(|u| database_of(u))
            .collect(),
        users: vec![role.clone()],
    };
    exec(
        &admin,
        &format!("CREATE ROLE {role} WITH LOGIN NOCREATEDB PASSWORD '{secret}'"),
    );
    for db in [&live_admin, &owned_dev_admin] {
        exec(
            &admin,
            &format!("ALTER DATABASE {} OWNER TO {role}", database_of(db)),
        );
    }
    let live = with_user(&live_admin, &role, secret);
    exec(
        &live,
        "CREATE TABLE public.qual_t (id integer PRIMARY KEY, note text); \
         INSERT INTO public.qual_t SELECT g, 'row ' || g FROM generate_series(1, 1000) g",
    );
    let p = project(&live, QUALIFIED_UP, QUALIFIED_DOWN, QUAL_SCHEMA, "");
    // The live database is at the head (stamped: `check` compares schemas then).
    p.ok(&["stamp", "head"]);

    // No dev database: every schema command refuses, and the live rows stay.
    assert_refused(&p, &[], &live, secret);
    let out = p.run(&["test"]);
    let masked = migrate_runtime::mask_url(&live);
    insta::assert_snapshot!(
        "postgres_refused_without_a_dev_url",
        common::transcript(&p, &out).replace(&masked, "[URL]")
    );

    // The target itself as the dev database: refused, also when spelt differently.
    let same = format!("{live}?application_name=dev");
    let (code, out) = run(&p, &["--dev-url", &same, "test"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("names the target database"), "{out}");
    assert!(!out.contains(secret), "{out}");
    assert_eq!(count(&live, "SELECT COUNT(*) FROM qual_t"), 1000);

    // A dev database on a server where the dev role may create databases: scratch
    // databases there, so the qualified migration lands in a scratch database.
    for command in SCHEMA_COMMANDS {
        let args: Vec<&str> = ["--dev-url", dev_admin.as_str()]
            .iter()
            .chain(command.iter())
            .copied()
            .collect();
        let (code, out) = run(&p, &args);
        assert_eq!(code, 0, "{args:?}: {out}");
        assert_eq!(
            count(&live, "SELECT COUNT(*) FROM qual_t"),
            1000,
            "{args:?}: {out}"
        );
    }
    let (_, out) = run(&p, &["--dev-url", &dev_admin, "test"]);
    assert!(out.contains("every downgrade left no trace"), "{out}");

    // `dev_url` in migrate.toml, with `${VAR}` expansion, to a database the target's
    // own role owns: it may not create databases there either, so the scratch is a
    // schema inside the dev database, named for this purpose. (A scratch schema sees
    // only what lands in it, not the qualified table: the stairway alone is run.)
    let config = p.path().join("migrate.toml");
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace("schema_location = \"schema\"\n", "");
    let owned_dev = with_user(&owned_dev_admin, &role, secret);
    std::fs::write(&config, format!("dev_url = \"${{MY_DEV_URL}}\"\n{text}")).expect("write");
    let out = p
        .cmd(&["test"])
        .env("MY_DEV_URL", &owned_dev)
        .output()
        .expect("run");
    let text_out = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text_out}");
    assert!(
        text_out.contains("every downgrade left no trace"),
        "{text_out}"
    );
    assert!(!text_out.contains(secret), "{text_out}");
    assert_eq!(count(&live, "SELECT COUNT(*) FROM qual_t"), 1000);
    // The qualified table went to the dev database (the last upgrade left it there,
    // outside the dropped scratch schema), empty.
    assert_eq!(count(&owned_dev, "SELECT COUNT(*) FROM public.qual_t"), 0);
    // `--dev-url` overrides `dev_url`: the target as dev URL is refused again.
    let out = p
        .cmd(&["--dev-url", &live, "test"])
        .env("MY_DEV_URL", &owned_dev)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("names the target database"),
        "{out:?}"
    );

    // Spelt as another host (`localhost`) or through the server's Unix socket, the
    // target is still the target: by its address, or because the scratch schema made
    // through the dev URL shows up in the target database (then dropped and refused).
    let local = live.replace("127.0.0.1", "localhost");
    let socket = format!("{local}?host=/var/run/postgresql");
    for aliased in [local, socket] {
        let out = p
            .cmd(&["--dev-url", &aliased, "test"])
            .env("MY_DEV_URL", &owned_dev)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{aliased}: {err}");
        assert!(err.contains("names the target database"), "{err}");
        assert_eq!(count(&live, "SELECT COUNT(*) FROM qual_t"), 1000);
    }
    // No scratch schema is left in either database.
    for url in [&live, &owned_dev] {
        assert_eq!(
            count(
                url,
                "SELECT COUNT(*) FROM pg_namespace WHERE nspname LIKE 'migrate\\_scratch\\_%'"
            ),
            0,
            "{:?}",
            rt().block_on(async {
                let db = migrate_runtime::Database::connect(url)
                    .await
                    .expect("connect");
                migrate_test_support::strings(
                    &db,
                    "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'migrate\\_%'",
                )
                .await
            })
        );
    }
}

/// Migrations embedded in the application, one creating `public.emb_t`.
static EMBEDDED: std::sync::LazyLock<migrate_runtime::EmbeddedMigrations> =
    std::sync::LazyLock::new(|| {
        common::embedded(&[("e1_emb.sql", "e1", None, "emb", true, "public.emb_t", 7)])
    });

#[test]
fn the_self_migrating_binary_takes_a_dev_url_too() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let role = unique("emb");
    let live_admin = common::fresh_database("postgres", &admin, "devurl_emb");
    let dev_admin = common::fresh_database("postgres", &admin, "devurl_embdev");
    let _cleanup = Cleanup {
        admin: admin.clone(),
        kind: "postgres",
        databases: vec![database_of(&live_admin), database_of(&dev_admin)],
        users: vec![role.clone()],
    };
    exec(
        &admin,
        &format!("CREATE ROLE {role} WITH LOGIN NOCREATEDB PASSWORD 'pw'"),
    );
    exec(
        &admin,
        &format!(
            "ALTER DATABASE {} OWNER TO {role}",
            database_of(&live_admin)
        ),
    );
    let live = with_user(&live_admin, &role, "pw");
    let code = |args: &[&str]| {
        let argv = ["myapp", "--database-url", live.as_str()]
            .into_iter()
            .chain(args.iter().copied());
        format!("{:?}", migrate_cli::run_embedded(&EMBEDDED, argv))
    };
    assert_eq!(
        code(&["test"]),
        format!("{:?}", std::process::ExitCode::from(1)),
        "refused without a dev URL"
    );
    assert_eq!(
        count(
            &live,
            "SELECT COUNT(*) FROM pg_namespace WHERE nspname LIKE 'migrate\\_scratch\\_%'"
        ),
        0,
        "no scratch schema in the target"
    );
    assert_eq!(
        code(&["--dev-url", dev_admin.as_str(), "test"]),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    assert_eq!(
        count(
            &live,
            "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'emb_t'"
        ),
        0,
        "the migration never ran in the target"
    );
}

#[test]
fn mariadb_without_create_needs_a_dev_url_and_never_touches_the_live_table() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let user = unique("my");
    let secret = "my-s3cret-pw";
    let live_admin = common::fresh_database("mysql", &admin, "devurl_live");
    let dev_admin = common::fresh_database("mysql", &admin, "devurl_dev");
    let own_dev_admin = common::fresh_database("mysql", &admin, "devurl_owndev");
    let _cleanup = Cleanup {
        admin: admin.clone(),
        kind: "mysql",
        databases: [&live_admin, &dev_admin, &own_dev_admin]
            .iter()
            .map(|u| database_of(u))
            .collect(),
        users: vec![user.clone()],
    };
    exec(
        &admin,
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{secret}'"),
    );
    for db in [&live_admin, &own_dev_admin] {
        exec(
            &admin,
            &format!("GRANT ALL ON `{}`.* TO '{user}'@'%'", database_of(db)),
        );
    }
    let live = with_user(&live_admin, &user, secret);
    exec(
        &live,
        "CREATE TABLE qual_t (id integer PRIMARY KEY, note text); \
         INSERT INTO qual_t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000",
    );
    let p = project(
        &live,
        "CREATE TABLE IF NOT EXISTS qual_t (id integer PRIMARY KEY, note text);",
        "DROP TABLE IF EXISTS qual_t;",
        QUAL_SCHEMA,
        "",
    );
    p.ok(&["stamp", "head"]);

    assert_refused(&p, &[], &live, secret);

    let (code, out) = run(&p, &["--dev-url", &live, "test"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("names the target database"), "{out}");

    // A dev URL whose user may create databases: works, the live table untouched.
    for command in SCHEMA_COMMANDS {
        let args: Vec<&str> = ["--dev-url", dev_admin.as_str()]
            .iter()
            .chain(command.iter())
            .copied()
            .collect();
        let (code, out) = run(&p, &args);
        assert_eq!(code, 0, "{args:?}: {out}");
        assert_eq!(
            count(&live, "SELECT COUNT(*) FROM qual_t"),
            1000,
            "{args:?}: {out}"
        );
    }

    // A dev URL whose user may not create databases: MySQL has no schema inside a
    // database to fall back to, so it is refused, naming the grant that would do.
    let own_dev = with_user(&own_dev_admin, &user, secret);
    let (code, out) = run(&p, &["--dev-url", &own_dev, "test"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("migrate\\_scratch\\_%"), "{out}");
    assert!(!out.contains(secret), "{out}");
    // With that grant, the dev user makes its scratch databases.
    exec(
        &admin,
        &format!("GRANT ALL ON `migrate\\_scratch\\_%`.* TO '{user}'@'%'"),
    );
    let (code, out) = run(&p, &["--dev-url", &own_dev, "test"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(count(&live, "SELECT COUNT(*) FROM qual_t"), 1000);
}
