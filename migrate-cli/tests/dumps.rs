//! Dumps made by the databases' own tools, used unchanged as the declared schema: a
//! schema written here (tables, indexes, foreign keys, a view, a trigger; on MySQL a
//! routine too, so that `DELIMITER` appears) is dumped with `pg_dump --schema-only`,
//! `mariadb-dump --no-data --routines --triggers --events` or `sqlite3 DB .schema`, and
//! the dump becomes `schema/schema.sql` of a new project on an empty database:
//! `revision --autogenerate` → `upgrade head` → `check` exits 0. A pg_dump loaded into
//! a scratch schema (a role that may not create databases) is refused before its
//! `public.` names write outside the scratch. PostgreSQL and MySQL run when their
//! `MIGRATE_TEST_*_URL` is set (an unreachable server fails the test).

mod common;

use common::schema_project::{self, count, exec};
use common::Project;
use std::process::Command;

const POSTGRES: &str = "
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE books (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id integer NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    title varchar(200) NOT NULL,
    pages integer CHECK (pages > 0),
    updated_at timestamp
);
CREATE INDEX books_title ON books (lower(title));
CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 500;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER books_touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION touch();
";

const MYSQL: &str = "
CREATE TABLE authors (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE);
CREATE TABLE books (
    id INT AUTO_INCREMENT PRIMARY KEY,
    author_id INT NOT NULL,
    title VARCHAR(200) NOT NULL,
    pages INT,
    CONSTRAINT books_author FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE,
    INDEX books_title (title)
);
CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 500;
CREATE TRIGGER books_pages BEFORE INSERT ON books FOR EACH ROW
BEGIN
    IF NEW.pages < 0 THEN
        SET NEW.pages = 0;
    END IF;
END;
CREATE PROCEDURE count_books(OUT n INT)
BEGIN
    SELECT COUNT(*) INTO n FROM books;
END;
";

const SQLITE: &str = "
CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
CREATE TABLE books (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    pages INTEGER CHECK (pages > 0)
);
CREATE INDEX books_title ON books (title);
CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 500;
CREATE TRIGGER books_pages AFTER INSERT ON books
BEGIN
    UPDATE books SET pages = 1 WHERE id = NEW.id AND pages IS NULL;
END;
";

/// The output of a tool, which must succeed.
fn tool(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 dump")
}

/// `mariadb-dump`'s arguments for a `mysql://user[:password]@host[:port]/db` URL.
fn mysql_args(url: &str) -> Vec<String> {
    let rest = url.strip_prefix("mysql://").expect("mysql URL");
    let rest = rest.split('?').next().unwrap_or(rest);
    let (auth, hostdb) = rest.rsplit_once('@').expect("user@host");
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let (hostport, db) = hostdb.split_once('/').expect("host/db");
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let mut args = vec![
        format!("--host={host}"),
        format!("--port={port}"),
        format!("--user={user}"),
    ];
    if !password.is_empty() {
        args.push(format!("--password={password}"));
    }
    if let Ok(ca) = std::env::var("MIGRATE_TEST_MYSQL_TLS_CA") {
        args.push(format!("--ssl-ca={ca}"));
    }
    args.push(db.to_string());
    args
}

/// A project on `url` whose declared schema is `dump`, with no migrations.
fn project_with(url: String, dump: &str) -> Project {
    let p = Project::with_url(url);
    schema_project::declare(&p, &[("schema.sql", dump)]);
    p
}

/// The dump, as the declared schema of a project on an empty database: autogenerate,
/// upgrade and check clean; the stairway leaves nothing.
fn round_trip(p: &Project) {
    let out = p.run(&["revision", "--autogenerate", "-m", "from dump"]);
    assert!(out.status.success(), "{}", common::transcript(p, &out));
    p.ok(&["upgrade", "head"]);
    let out = p.run(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        common::transcript(p, &out)
    );
}

#[test]
fn a_pg_dump_loads_as_the_declared_schema() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let source = common::fresh_database("postgres", &admin, "dump_pg_src");
    exec(&source, POSTGRES);
    let dump = tool(Command::new("pg_dump").args(["--schema-only", &source]));
    // What makes a dump more than SQL is there to be handled.
    for wanted in [
        "SELECT pg_catalog.set_config('search_path', '', false);",
        "CREATE TABLE public.books",
        "OWNER TO",
        "CREATE TRIGGER books_touch",
    ] {
        assert!(dump.contains(wanted), "`{wanted}` not in the dump:\n{dump}");
    }
    let target = common::fresh_database("postgres", &admin, "dump_pg_dst");
    round_trip(&project_with(target, &dump));
    // An owner this server does not have does not stop the dump from loading:
    // ownership is not part of the schema.
    let elsewhere = dump.replace("OWNER TO postgres;", "OWNER TO nobody_on_this_server;");
    assert_ne!(elsewhere, dump);
    let target = common::fresh_database("postgres", &admin, "dump_pg_owner");
    round_trip(&project_with(target, &elsewhere));
}

#[test]
fn a_mariadb_dump_loads_as_the_declared_schema() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") else {
        return;
    };
    let source = common::fresh_database("mysql", &admin, "dump_my_src");
    exec(&source, MYSQL);
    let dump = tool(
        Command::new("mariadb-dump")
            .args(["--no-data", "--routines", "--triggers", "--events"])
            .args(mysql_args(&source)),
    );
    for wanted in [
        "DELIMITER ;;",
        "/*!40101 SET NAMES",
        "TRIGGER books_pages",
        "PROCEDURE `count_books`",
    ] {
        assert!(dump.contains(wanted), "`{wanted}` not in the dump:\n{dump}");
    }
    let target = common::fresh_database("mysql", &admin, "dump_my_dst");
    round_trip(&project_with(target, &dump));
}

#[test]
fn a_sqlite_schema_loads_as_the_declared_schema() {
    let source = Project::sqlite();
    exec(&source.url, SQLITE);
    let file = source.path().join("test.db");
    let dump = tool(Command::new("sqlite3").arg(&file).arg(".schema"));
    assert!(
        dump.contains("CREATE TABLE sqlite_sequence(name,seq);"),
        "{dump}"
    );
    let target = Project::sqlite();
    let p = project_with(target.url.clone(), &dump);
    round_trip(&p);
}

/// The role and databases a test made, dropped at its end (also when it fails).
struct Cleanup {
    admin: String,
    role: String,
    databases: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let mut sql: Vec<String> = self
            .databases
            .iter()
            .map(|d| format!("DROP DATABASE IF EXISTS {d} WITH (FORCE)"))
            .collect();
        sql.push(format!("DROP ROLE IF EXISTS {}", self.role));
        let admin = self.admin.clone();
        // Best effort: a failed clean-up must not hide the test's own failure.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                if let Ok(p) = sqlx::PgPool::connect(&admin).await {
                    for s in sql {
                        let _ = sqlx::raw_sql(&s).execute(&p).await;
                    }
                    p.close().await;
                }
            });
    }
}

/// `url` with its user and password replaced, and its database name.
fn as_role(url: &str, role: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("url");
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let db = host.rsplit('/').next().unwrap_or_default().to_string();
    (format!("{scheme}://{role}:pw@{host}"), db)
}

#[test]
fn a_pg_dump_in_a_scratch_schema_is_refused_before_it_escapes() {
    let Ok(admin) = std::env::var("MIGRATE_TEST_POSTGRES_URL") else {
        return;
    };
    let source = common::fresh_database("postgres", &admin, "dump_pg_esc_src");
    exec(&source, POSTGRES);
    let dump = tool(Command::new("pg_dump").args(["--schema-only", &source]));
    let role = format!("migrate_dumps_{}", std::process::id());
    let live_admin = common::fresh_database("postgres", &admin, "dump_pg_esc_live");
    let dev_admin = common::fresh_database("postgres", &admin, "dump_pg_esc_dev");
    let (live, live_db) = as_role(&live_admin, &role);
    let (dev, dev_db) = as_role(&dev_admin, &role);
    let _cleanup = Cleanup {
        admin: admin.clone(),
        role: role.clone(),
        databases: vec![live_db.clone(), dev_db.clone()],
    };
    exec(
        &admin,
        &format!(
            "CREATE ROLE {role} WITH LOGIN NOCREATEDB PASSWORD 'pw';
             ALTER DATABASE {live_db} OWNER TO {role};
             ALTER DATABASE {dev_db} OWNER TO {role};"
        ),
    );
    // The role may not create databases: the scratch is a schema of the dev database.
    let p = project_with(live, &dump);
    let out = p.run(&["--dev-url", &dev, "diff"]);
    let text = common::transcript(&p, &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("names the schema `public`") && text.contains("error: schema.sql:"),
        "{text}"
    );
    assert_eq!(
        count(
            &dev,
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        0,
        "the dump wrote outside the scratch"
    );
}

/// A trigger and a procedure written as mysqldump writes them, between `DELIMITER ;;`
/// and `DELIMITER ;`.
const DELIMITED: &str = "CREATE TABLE counted (id INT PRIMARY KEY, n INT);
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER counted_n BEFORE INSERT ON counted FOR EACH ROW BEGIN
  IF NEW.n IS NULL THEN
    SET NEW.n = 1;
  END IF;
END */;;
CREATE PROCEDURE count_them(OUT total INT)
BEGIN
  SELECT COUNT(*) INTO total FROM counted;
END ;;
DELIMITER ;
/*!40101 SET NAMES utf8mb4 */;";

#[test]
fn a_migration_with_delimiter_runs_on_mysql_and_psql_commands_are_named() {
    if let Ok(admin) = std::env::var("MIGRATE_TEST_MYSQL_URL") {
        let url = common::fresh_database("mysql", &admin, "dump_delim");
        let p = Project::with_url(url.clone());
        p.ok(&["init", "migrations"]);
        p.ok(&["revision", "-m", "delimited", "--rev-id", "d1"]);
        p.fill(
            "d1_",
            DELIMITED,
            "DROP PROCEDURE count_them;\nDROP TABLE counted;",
        );
        p.ok(&["hash"]);
        p.ok(&["upgrade", "head"]);
        // The trigger fills `n`; the procedure is there.
        exec(&url, "INSERT INTO counted (id) VALUES (1)");
        let routines = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                let pool = sqlx::MySqlPool::connect(&url).await.expect("mysql");
                let n: i64 = sqlx::query_scalar("SELECT CAST(SUM(n) AS SIGNED) FROM counted")
                    .fetch_one(&pool)
                    .await
                    .expect("query");
                let r: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = DATABASE() AND routine_name = 'count_them'",
                )
                .fetch_one(&pool)
                .await
                .expect("query");
                pool.close().await;
                (n, r)
            });
        assert_eq!(routines, (1, 1));
        p.ok(&["downgrade", "base"]);
    }
    // `\connect` in a migration: refused with its file and line, before anything runs.
    let p = Project::sqlite();
    p.ok(&["init", "migrations"]);
    p.ok(&["revision", "-m", "elsewhere", "--rev-id", "c1"]);
    p.fill(
        "c1_",
        "CREATE TABLE t (id INTEGER);\n\\connect other",
        "DROP TABLE t;",
    );
    p.ok(&["hash"]);
    let out = p.run(&["upgrade", "head"]);
    let text = common::transcript(&p, &out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("c1_elsewhere.sql:")
            && text.contains("`\\connect` is a command of the database's client"),
        "{text}"
    );
    assert!(
        !p.path().join("test.db").exists()
            || p.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 't'") == 0
    );
}
