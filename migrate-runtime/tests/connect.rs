//! The connect timeout: a server that accepts the TCP connection and never answers must
//! not hold the caller. The first connection is tested against a silent listener; the
//! pool's and the lock's connections through a proxy to a real server (when
//! `MIGRATE_TEST_POSTGRES_URL` / `MIGRATE_TEST_MYSQL_URL` are set) that goes silent for
//! new connections after the first ones went through.

use migrate_test_support as common;

use migrate_runtime::{Database, MigrateError};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// Accepts connections on a free local port, forwarding them to `target` until
/// [`Proxy::go_silent`], after which it keeps new ones open and never answers (with no
/// target it is silent from the start).
struct Proxy {
    addr: SocketAddr,
    silent: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: Option<String>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let silent = Arc::new(AtomicBool::new(target.is_none()));
        let flag = silent.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                match &target {
                    Some(target) if !flag.load(Ordering::SeqCst) => {
                        let target = target.clone();
                        tokio::spawn(async move {
                            if let Ok(mut outbound) = TcpStream::connect(target).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                                    .await;
                            }
                        });
                    }
                    _ => held.push(inbound),
                }
            }
        });
        Proxy { addr, silent, task }
    }

    fn go_silent(&self) {
        self.silent.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The host and port of a URL, as written.
fn host_port(url: &str) -> &str {
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    &authority[authority.rfind('@').map_or(0, |i| i + 1)..]
}

/// The `host:port` a URL connects to.
fn target(url: &str) -> String {
    let hp = host_port(url);
    if hp.contains(':') {
        hp.to_string()
    } else if url.starts_with("postgres") {
        format!("{hp}:5432")
    } else {
        format!("{hp}:3306")
    }
}

/// `url` pointed at `addr` instead of its own host and port.
fn via(url: &str, addr: SocketAddr) -> String {
    let hp = host_port(url);
    url.replacen(&format!("@{hp}"), &format!("@{addr}"), 1)
        .replacen(&format!("://{hp}"), &format!("://{addr}"), 1)
}

const ONE_SECOND: Duration = Duration::from_secs(1);

/// Asserts a [`MigrateError::ConnectTimeout`] naming `addr` and `what`, within a few
/// seconds of a 1 s timeout.
fn assert_timed_out(
    result: Result<impl std::fmt::Debug, MigrateError>,
    started: Instant,
    addr: SocketAddr,
    what: &str,
) -> String {
    let elapsed = started.elapsed();
    let err = result.expect_err("connected to a silent server");
    assert!(
        matches!(err, MigrateError::ConnectTimeout { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("timed out after 1s connecting to {addr} ({what})")),
        "{text}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}: {text}");
    text
}

#[tokio::test]
async fn first_connection_times_out_on_a_silent_server() {
    let silent = Proxy::start(None).await;
    for (scheme, server) in [("postgres", "PostgreSQL"), ("mysql", "MySQL")] {
        let url = format!("{scheme}://u:secret@{}/db", silent.addr);
        let started = Instant::now();
        let result = Database::connect_with_timeout(&url, ONE_SECOND).await;
        let what = format!("no answer to the {server} handshake");
        let text = assert_timed_out(result, started, silent.addr, &what);
        assert!(
            text.ends_with(&format!(" for {scheme}://u:***@{}/db", silent.addr)),
            "{text}"
        );
    }
}

/// The pool's connections and the lock's connection: the probe goes through, then the
/// server stops answering new connections.
#[tokio::test]
async fn pool_and_lock_connections_time_out() {
    for (kind, server) in [("postgres", "PostgreSQL"), ("mysql", "MySQL")] {
        let var = format!("MIGRATE_TEST_{}_URL", kind.to_uppercase());
        let Ok(admin) = std::env::var(&var) else {
            continue;
        };
        let url = common::fresh_url(kind, &admin, "timeout").await;
        let (rev, file) = common::table_mig("a1", "", "");
        let m = common::migrator(&[(rev.as_str(), file)]);

        // A pool connection that cannot be opened: the pool opens its first one at
        // connect, which is held here so that the migrator needs another.
        let proxy = Proxy::start(Some(target(&url))).await;
        let db = Database::connect_with_timeout(&via(&url, proxy.addr), ONE_SECOND)
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let held = hold_one(&db).await;
        proxy.go_silent();
        let started = Instant::now();
        let what = format!("no pooled {server} connection became available");
        assert_timed_out(m.current(&db).await, started, proxy.addr, &what);
        drop(held);
        drop(proxy);

        // The lock connection, while the pool holds a live one.
        let proxy = Proxy::start(Some(target(&url))).await;
        let db = Database::connect_with_timeout(&via(&url, proxy.addr), ONE_SECOND)
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        m.current(&db).await.expect("the pool connects");
        // A connection goes back to the pool in a task of its own.
        for _ in 0..100 {
            if idle(&db) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(idle(&db), 1, "{kind}: no idle pool connection");
        proxy.go_silent();
        let started = Instant::now();
        let what = format!("no answer to the {server} handshake on the lock connection");
        assert_timed_out(m.upgrade(&db, "head").await, started, proxy.addr, &what);
        assert!(
            !common::table_exists(&Database::connect(&url).await.expect("connect"), "t_a1").await,
            "{kind}: a migration ran without the lock"
        );
    }
}

/// Idle connections of the pool.
fn idle(db: &Database) -> usize {
    if let Some(p) = db.as_postgres() {
        p.num_idle()
    } else if let Some(p) = db.as_mysql() {
        p.num_idle()
    } else {
        0
    }
}

#[test]
fn url_helpers() {
    let addr: SocketAddr = "127.0.0.1:7".parse().unwrap();
    assert_eq!(target("postgres://u:p@h:5432/db?x=1"), "h:5432");
    assert_eq!(target("postgres://u@h/db"), "h:5432");
    assert_eq!(target("mysql://h/db"), "h:3306");
    assert_eq!(
        via("postgres://u:p@h:5432/db?x=1", addr),
        "postgres://u:p@127.0.0.1:7/db?x=1"
    );
    assert_eq!(via("mysql://h:3306/db", addr), "mysql://127.0.0.1:7/db");
}

/// Takes a connection out of the pool and keeps it until the result is dropped.
async fn hold_one(db: &Database) -> Box<dyn std::any::Any + Send> {
    if let Some(p) = db.as_postgres() {
        Box::new(p.acquire().await.expect("acquire"))
    } else if let Some(p) = db.as_mysql() {
        Box::new(p.acquire().await.expect("acquire"))
    } else {
        unreachable!("only the servers have pools of several connections")
    }
}
