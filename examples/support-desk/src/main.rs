//! `support-desk`: migrates its database to head, opens a ticket, lists open tickets by
//! priority. `support-desk migrate …` runs the `migrate` commands over the embedded
//! migrations. The database is `DATABASE_URL`, else `sqlite://support-desk.db`.

use migrate_runtime::Database;
use std::process::ExitCode;
use support_desk::{migrate, open_ticket, open_tickets, DEFAULT_URL, MIGRATIONS};

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let program = args.next();
    let rest: Vec<_> = args.collect();
    if rest.first().is_some_and(|a| a == "migrate") {
        if std::env::var_os("DATABASE_URL").is_none() {
            // The app's own default, so `support-desk migrate current` looks at the same
            // database the service uses. Nothing else runs yet, so no thread reads the
            // environment concurrently.
            std::env::set_var("DATABASE_URL", DEFAULT_URL);
        }
        return migrate_cli::run_embedded(
            &MIGRATIONS,
            program.into_iter().chain(rest.into_iter().skip(1)),
        );
    }
    let title = rest
        .first()
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
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&*e);
            while let Some(s) = source {
                eprintln!("  Caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
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
