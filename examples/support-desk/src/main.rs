//! `support-desk`: migrates its database to head, opens a ticket, lists open tickets by
//! priority. `support-desk migrate …` runs the `migrate` commands over the embedded
//! migrations. The database is `DATABASE_URL`, else `sqlite://support-desk.db`.

use migrate_runtime::Database;
use std::process::ExitCode;
use support_desk::{migrate, open_ticket, open_tickets, DEFAULT_URL, MIGRATIONS};

/// The migration commands as users type them.
const PROGRAM: &str = "support-desk migrate";

const USAGE: &str = "\
Usage: support-desk [TITLE]
       support-desk migrate <COMMAND> [OPTIONS]

Migrates the database to head, opens a ticket titled TITLE (default \"Printer on fire\")
and lists the open tickets by priority. The database is DATABASE_URL, else
sqlite://support-desk.db. `support-desk migrate --help` lists the migration commands
(current, history, upgrade, downgrade, check, pending...) over the embedded migrations.
RUST_LOG=warn quiets the start-up log.
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    match first.as_ref().and_then(|a| a.to_str()) {
        Some("migrate") => {
            // The app's own default, so `support-desk migrate current` looks at the
            // database the service uses.
            return migrate_cli::Embedded::new(&MIGRATIONS)
                .default_database_url(DEFAULT_URL)
                .about("support-desk's database: the migration commands over the migrations built into it")
                .version(env!("CARGO_PKG_VERSION"))
                .run(PROGRAM, args);
        }
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-V" | "--version") => {
            println!("support-desk {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(flag) if flag.starts_with('-') => {
            eprintln!("error: unexpected option `{flag}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
        _ => {}
    }
    if args.next().is_some() {
        eprintln!("error: one title at most (quote a title of several words)\n\n{USAGE}");
        return ExitCode::from(2);
    }
    init_logging();
    let title = first
        .as_ref()
        .and_then(|t| t.to_str())
        .unwrap_or("Printer on fire")
        .to_string();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(&title)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The hints name this binary's commands (`support-desk migrate accept`).
            let named = |text: String| migrate_cli::name_commands(&text, PROGRAM);
            let message = named(e.to_string());
            tracing::error!("{message}");
            eprintln!("error: {message}");
            let mut source = std::error::Error::source(&*e);
            while let Some(s) = source {
                eprintln!("  Caused by: {}", named(s.to_string()));
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// Start-up logs on stderr: the migrations applied (the runtime logs each step through
/// `tracing`) and the revision the service runs on. `RUST_LOG` filters them.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn serve(title: &str) -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string());
    let db = Database::connect(&url).await?;
    let revision = migrate(&db).await?;
    let id = open_ticket(&db, "help@example.com", title, "high").await?;
    println!("opened ticket #{id}: {title}");
    println!("open tickets by priority:");
    for t in open_tickets(&db).await? {
        println!(
            "  #{:<5} {:<8} {:<20} {}",
            t.id, t.priority, t.status, t.title
        );
    }
    println!("database at revision {revision}");
    db.close().await;
    Ok(())
}
