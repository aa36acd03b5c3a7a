//! The support-desk service: a small real job over a database that migrates itself.
//!
//! The binary embeds `migrations/` with
//! [`embed_migrations!`](migrate_runtime::embed_migrations), upgrades the database to
//! head when it starts (taking the migration lock, so several copies may start at
//! once), opens a ticket, lists the open tickets by priority and prints the revision it
//! runs on. `support-desk migrate …` gives the `migrate` commands over the same
//! embedded migrations.

use migrate_runtime::{Database, EmbeddedMigrations, MigrateError, Migrator};

/// Every migration of `migrations/`, validated at build time.
pub static MIGRATIONS: EmbeddedMigrations = migrate_runtime::embed_migrations!("migrations");

/// Where the data lives unless `DATABASE_URL` says otherwise.
pub const DEFAULT_URL: &str = "sqlite://support-desk.db";

/// An open ticket as the listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Priority (`urgent`, `high`, `normal`, `low`).
    pub priority: String,
    /// Status (`OPEN`, `IN_PROGRESS`, ...).
    pub status: String,
}

/// Errors of the service.
#[derive(Debug)]
pub enum AppError {
    /// Migrating failed.
    Migrate(MigrateError),
    /// A query of the job failed.
    Query(sqlx::Error),
    /// A database kind this build does not know.
    Unsupported,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Migrate(e) => write!(f, "{e}"),
            AppError::Query(e) => write!(f, "query failed: {e}"),
            AppError::Unsupported => f.write_str("unsupported database"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<MigrateError> for AppError {
    fn from(e: MigrateError) -> Self {
        AppError::Migrate(e)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Query(e)
    }
}

/// Upgrades the database to head and returns the revision it is now at.
///
/// # Errors
/// Any migration failure.
pub async fn migrate(db: &Database) -> Result<String, AppError> {
    let report = Migrator::new(&MIGRATIONS)?.upgrade(db, "head").await?;
    let at = report.heads.join(", ");
    match report.revisions().len() {
        0 => tracing::info!(revision = %at, "database already at head {at}"),
        n => tracing::info!(
            revision = %at,
            applied = n,
            "applied {n} migration{}: {}; database now at {at}",
            if n == 1 { "" } else { "s" },
            report.revisions().join(", ")
        ),
    }
    Ok(at)
}

/// Lists open tickets (not resolved or closed), most urgent first.
const OPEN_BY_PRIORITY: &str = "SELECT CAST(id AS CHAR(20)), title, COALESCE(priority, 'normal'), status FROM tickets \
     WHERE status NOT IN ('RESOLVED', 'CLOSED') \
     ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, id";

/// Opens a ticket reported by `email` (the user is created on first use) and returns
/// its id.
///
/// # Errors
/// Query failures.
pub async fn open_ticket(
    db: &Database,
    email: &str,
    title: &str,
    priority: &str,
) -> Result<i64, AppError> {
    // SQLite and PostgreSQL differ only in placeholders and the id's type.
    macro_rules! insert_returning {
        ($pool:expr, $user:expr, $ticket:expr, $id:ty) => {{
            let mut tx = $pool.begin().await?;
            sqlx::query($user)
                .bind(email)
                .bind(email)
                .execute(&mut *tx)
                .await?;
            let id: $id = sqlx::query_scalar($ticket)
                .bind(title)
                .bind(priority)
                .bind(email)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            i64::from(id)
        }};
    }
    let id = if let Some(p) = db.as_sqlite() {
        insert_returning!(
            p,
            "INSERT INTO users (name, email) VALUES (?, ?) ON CONFLICT (email) DO NOTHING",
            "INSERT INTO tickets (title, priority, assignee_id) SELECT ?, ?, id FROM users WHERE email = ? RETURNING id",
            i64
        )
    } else if let Some(p) = db.as_postgres() {
        insert_returning!(
            p,
            "INSERT INTO users (name, email) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING",
            "INSERT INTO tickets (title, priority, assignee_id) SELECT $1, $2, id FROM users WHERE email = $3 RETURNING id",
            i32
        )
    } else if let Some(p) = db.as_mysql() {
        {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT IGNORE INTO users (name, email) VALUES (?, ?)")
                .bind(email)
                .bind(email)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query(
                "INSERT INTO tickets (title, priority, assignee_id) SELECT ?, ?, id FROM users WHERE email = ?",
            )
            .bind(title)
            .bind(priority)
            .bind(email)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            i64::try_from(done.last_insert_id()).unwrap_or(i64::MAX)
        }
    } else {
        return Err(AppError::Unsupported);
    };
    Ok(id)
}

/// Open tickets, most urgent first.
///
/// # Errors
/// Query failures.
pub async fn open_tickets(db: &Database) -> Result<Vec<Ticket>, AppError> {
    let rows: Vec<(String, String, String, String)> = if let Some(p) = db.as_sqlite() {
        sqlx::query_as(OPEN_BY_PRIORITY).fetch_all(p).await?
    } else if let Some(p) = db.as_postgres() {
        // PostgreSQL has no CHAR(20) cast for integers that keeps them unpadded.
        let sql = OPEN_BY_PRIORITY.replace("CAST(id AS CHAR(20))", "CAST(id AS TEXT)");
        sqlx::query_as(&sql).fetch_all(p).await?
    } else if let Some(p) = db.as_mysql() {
        sqlx::query_as(OPEN_BY_PRIORITY).fetch_all(p).await?
    } else {
        return Err(AppError::Unsupported);
    };
    Ok(rows
        .into_iter()
        .map(|(id, title, priority, status)| Ticket {
            id: id.trim().parse().unwrap_or(0),
            title,
            priority,
            status,
        })
        .collect())
}
