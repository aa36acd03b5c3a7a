//! `migrate.toml`: Alembic's `alembic.ini` as TOML.
//!
//! ```toml
//! script_location = "migrations"          # the versions folder
//! database_url = "${DATABASE_URL:-sqlite://app.db}"
//! version_table = "alembic_version"
//! # version_table_schema = "public"
//! transaction_per_migration = true
//! file_template = "%(rev)s_%(slug)s"
//! revision_template = "migrations/script.sql.tmpl"
//! connect_timeout = 30                    # seconds to wait for a server to answer
//! allow_multiple_heads = false            # several heads fail verify and check
//! schema_location = "schema"              # the declared schema: plain SQL files
//! ```
//!
//! Several databases: top-level keys are defaults, and each table (`[main]`,
//! `[analytics]`) is a section with its own `script_location` and `database_url`;
//! commands act on each section in turn, `-n NAME` picks one. String values may use
//! `${VAR}` and `${VAR:-default}`, taken from `-x VAR=value` first, then the
//! environment. The URL is `--database-url`, else `DATABASE_URL` (when one section is
//! in play), else `database_url`, else an SQLite file beside the configuration; a value
//! is only resolved when it is used, so a `database_url` naming an unset `${VAR}` does not
//! matter when `--database-url` or `DATABASE_URL` gives the URL. `connect_timeout` (whole
//! seconds, default 30, also per section) bounds connecting, TLS and login on PostgreSQL
//! and MySQL; `--connect-timeout` overrides it.

use crate::error::CliError;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default configuration file name.
pub const CONFIG_FILE: &str = "migrate.toml";

/// Alembic's default file name template.
pub const DEFAULT_FILE_TEMPLATE: &str = "%(rev)s_%(slug)s";

/// The longest `connect_timeout` accepted, in seconds (a day).
pub const MAX_CONNECT_TIMEOUT: u64 = 86_400;

/// The settings of one database (one section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Section name; `None` for a file without sections.
    pub name: Option<String>,
    /// The versions folder, relative to the current directory (or absolute).
    pub script_location: PathBuf,
    /// The database URL (unmasked; use [`migrate_runtime::mask_url`] to print it).
    pub database_url: String,
    /// Version table name.
    pub version_table: Option<String>,
    /// Version table schema.
    pub version_table_schema: Option<String>,
    /// One transaction per migration (`true`, the default) or one for the whole run.
    pub transaction_per_migration: bool,
    /// File name template: `%(rev)s`, `%(slug)s`, `%(year)d`... (`.sql` is appended).
    pub file_template: String,
    /// The revision template file, if configured.
    pub revision_template: Option<PathBuf>,
    /// The declared schema folder (`schema_location`), if configured.
    pub schema_location: Option<PathBuf>,
    /// Where `database_url` came from (`--database-url`, `$DATABASE_URL`, a section's
    /// `url_env` variable, the file, or the default), printed beside the masked URL.
    pub url_origin: String,
    /// How long to wait for the server to answer when connecting.
    pub connect_timeout: Duration,
    /// Whether several heads are expected (`allow_multiple_heads = true`): otherwise
    /// `verify`, `check` and `current --check-heads` fail on them, as
    /// `embed_migrations!` does.
    pub allow_multiple_heads: bool,
}

/// Values that come from the command line and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `DATABASE_URL`.
    pub env_database_url: Option<String>,
    /// `-x key=value`.
    pub x: Vec<(String, String)>,
    /// `--connect-timeout`.
    pub connect_timeout: Option<Duration>,
}

/// A loaded configuration: the file and its sections.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file read.
    pub path: PathBuf,
    /// The sections in play (all of them, or the one `-n` picked).
    pub sections: Vec<Section>,
    /// Whether the file has named sections.
    pub named: bool,
}

/// Parses `-x key=value` arguments.
///
/// # Errors
/// [`CliError::Usage`] for an argument without `=`.
pub fn parse_x(args: &[String]) -> Result<Vec<(String, String)>, CliError> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(CliError::Usage(format!(
                "invalid -x argument {a:?}: expected key=value"
            ))),
        })
        .collect()
}

/// Why `${...}` could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InterpolateError {
    /// A variable that is not set and has no default.
    #[error("${{{0}}} is not set and has no default (`${{{0}:-default}}`)")]
    Unset(String),
    /// A `${` without its `}`.
    #[error("unclosed `${{` in {0:?}")]
    Unclosed(String),
}

/// Expands `${VAR}` and `${VAR:-default}` in `s`, looking in `x` first, then `env`
/// (an empty environment value counts as unset when there is a default). The one
/// expansion of the project: configuration values and revision templates alike.
///
/// # Errors
/// A variable that is unset and has no default, or an unclosed `${`.
pub fn interpolate(
    s: &str,
    x: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| InterpolateError::Unclosed(s.to_string()))?;
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let value = x
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| env(name).filter(|v| !(default.is_some() && v.is_empty())));
        match (value, default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => return Err(InterpolateError::Unset(name.to_string())),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The process environment, as [`interpolate`] reads it.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The folder a configuration file lives in, as a prefix for relative paths (empty for
/// a file in the current directory).
pub fn config_dir(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

type Table = toml::Table;

impl Config {
    /// Reads and resolves the configuration at `path`; `name` picks one section.
    ///
    /// # Errors
    /// A missing or invalid file, an unset `${VAR}`, a wrong value type, an unknown
    /// section.
    pub fn load(path: &Path, name: Option<&str>, over: &Overrides) -> Result<Config, CliError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CliError::NoConfig {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(CliError::io("read", path, e)),
        };
        Self::parse(path, &text, name, over, &env_var)
    }

    /// Resolves configuration text (the environment is a parameter for tests).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn parse(
        path: &Path,
        text: &str,
        name: Option<&str>,
        over: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, CliError> {
        let table: Table = text.parse().map_err(|source| CliError::ConfigSyntax {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = config_dir(path);
        let mut defaults = Table::new();
        let mut named: Vec<(String, Table)> = Vec::new();
        for (k, v) in table {
            match v {
                toml::Value::Table(t) => named.push((k, t)),
                other => {
                    defaults.insert(k, other);
                }
            }
        }
        let names: Vec<String> = named.iter().map(|(n, _)| n.clone()).collect();
        let has_sections = !named.is_empty();
        let chosen: Vec<(Option<String>, Table)> = match (name, has_sections) {
            (Some(n), true) => {
                let (n, t) = named.into_iter().find(|(k, _)| k == n).ok_or_else(|| {
                    CliError::NoSuchSection {
                        name: n.to_string(),
                        path: path.to_path_buf(),
                        sections: names.clone(),
                    }
                })?;
                vec![(Some(n), t)]
            }
            (Some(n), false) => {
                return Err(CliError::NoSuchSection {
                    name: n.to_string(),
                    path: path.to_path_buf(),
                    sections: Vec::new(),
                })
            }
            (None, true) => named.into_iter().map(|(n, t)| (Some(n), t)).collect(),
            (None, false) => vec![(None, Table::new())],
        };
        let mut sections = Vec::new();
        for (sname, t) in chosen {
            let ctx = Ctx {
                path,
                section: sname.as_deref(),
                own: &t,
                defaults: &defaults,
                x: &over.x,
                env,
            };
            let script_location =
                ctx.string("script_location")?
                    .ok_or_else(|| CliError::Config {
                        path: path.to_path_buf(),
                        message: match &sname {
                            Some(n) => format!(
                                "section [{n}] has no `script_location` (the versions folder)"
                            ),
                            None => "missing `script_location` (the versions folder)".to_string(),
                        },
                    })?;
            let default_url = || {
                let file = match &sname {
                    Some(n) => format!("{n}.db"),
                    None => "migrate.db".to_string(),
                };
                format!("sqlite://{}", dir.join(file).display())
            };
            // A section's own variable (`url_env`), so that one environment can hold
            // the URLs of several databases without one overriding another.
            let url_env = if has_sections {
                ctx.own_string("url_env")?
            } else {
                ctx.string("url_env")?
            }
            .filter(|v| !v.is_empty());
            let from_env = match &url_env {
                Some(var) => env(var)
                    .filter(|u| !u.is_empty())
                    .map(|u| (u, format!("${var}"))),
                // DATABASE_URL names the database of a configuration with one; with
                // sections it would send every section's migrations to one database.
                None if !has_sections => over
                    .env_database_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .map(|u| (u, "$DATABASE_URL".to_string())),
                None => None,
            };
            let overriding = over
                .database_url
                .clone()
                .filter(|u| !u.is_empty())
                .map(|u| (u, "--database-url".to_string()))
                .or(from_env);
            // The configured URL is resolved only when no override wins: its `${VAR}`
            // may name what only the deploy that does not pass a URL sets.
            let (database_url, url_origin) = match overriding {
                Some(found) => found,
                None => match ctx.string("database_url")?.filter(|u| !u.is_empty()) {
                    Some(url) => (url, format!("database_url in {}", path.display())),
                    None => (
                        default_url(),
                        "the default: no URL is configured".to_string(),
                    ),
                },
            };
            let connect_timeout = match over.connect_timeout {
                Some(t) => t,
                None => ctx
                    .seconds("connect_timeout")?
                    .unwrap_or(migrate_runtime::Database::DEFAULT_CONNECT_TIMEOUT),
            };
            let version_table = ctx.string("version_table")?;
            let version_table_schema = ctx
                .string("version_table_schema")?
                .filter(|s| !s.is_empty());
            let transaction_per_migration =
                ctx.boolean("transaction_per_migration")?.unwrap_or(true);
            let allow_multiple_heads = ctx.boolean("allow_multiple_heads")?.unwrap_or(false);
            let file_template = ctx
                .string("file_template")?
                .unwrap_or_else(|| DEFAULT_FILE_TEMPLATE.to_string());
            let revision_template = ctx.string("revision_template")?.map(|p| dir.join(p));
            let schema_location = ctx
                .string("schema_location")?
                .filter(|p| !p.is_empty())
                .map(|p| dir.join(p));
            sections.push(Section {
                name: sname,
                script_location: dir.join(script_location),
                database_url,
                version_table,
                version_table_schema,
                transaction_per_migration,
                file_template,
                revision_template,
                schema_location,
                url_origin,
                connect_timeout,
                allow_multiple_heads,
            });
        }
        Ok(Config {
            path: path.to_path_buf(),
            sections,
            named: has_sections,
        })
    }
}

struct Ctx<'a> {
    path: &'a Path,
    section: Option<&'a str>,
    own: &'a Table,
    defaults: &'a Table,
    x: &'a [(String, String)],
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Ctx<'_> {
    fn where_(&self, key: &str) -> String {
        match self.section {
            Some(s) => format!("[{s}] {key}"),
            None => key.to_string(),
        }
    }

    fn err(&self, key: &str, msg: String) -> CliError {
        CliError::Config {
            path: self.path.to_path_buf(),
            message: format!("{}: {msg}", self.where_(key)),
        }
    }

    fn value(&self, key: &str) -> Option<&toml::Value> {
        self.own.get(key).or_else(|| self.defaults.get(key))
    }

    fn string(&self, key: &str) -> Result<Option<String>, CliError> {
        match self.value(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => interpolate(s, self.x, self.env)
                .map(Some)
                .map_err(|m| self.err(key, m.to_string())),
            Some(other) => Err(self.err(
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    /// A whole number of seconds from 1 to [`MAX_CONNECT_TIMEOUT`].
    fn seconds(&self, key: &str) -> Result<Option<Duration>, CliError> {
        let expected = || format!("expected whole seconds from 1 to {MAX_CONNECT_TIMEOUT}");
        let n = match self.value(key) {
            None => return Ok(None),
            Some(toml::Value::Integer(n)) => *n,
            Some(toml::Value::String(s)) => {
                let v =
                    interpolate(s, self.x, self.env).map_err(|m| self.err(key, m.to_string()))?;
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| self.err(key, format!("{}, found {v:?}", expected())))?
            }
            Some(other) => {
                return Err(self.err(key, format!("{}, found {}", expected(), other.type_str())))
            }
        };
        match u64::try_from(n) {
            Ok(secs) if (1..=MAX_CONNECT_TIMEOUT).contains(&secs) => {
                Ok(Some(Duration::from_secs(secs)))
            }
            _ => Err(self.err(key, format!("{}, found {n}", expected()))),
        }
    }

    /// A string of the section itself, never inherited from the top-level defaults
    /// (for keys that must differ per section, such as `url_env`).
    fn own_string(&self, key: &str) -> Result<Option<String>, CliError> {
        match self.own.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => interpolate(s, self.x, self.env)
                .map(Some)
                .map_err(|m| self.err(key, m.to_string())),
            Some(other) => Err(self.err(
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, CliError> {
        match self.value(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(toml::Value::String(s)) => {
                let v =
                    interpolate(s, self.x, self.env).map_err(|m| self.err(key, m.to_string()))?;
                match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Ok(Some(true)),
                    "false" | "0" | "no" | "off" => Ok(Some(false)),
                    _ => Err(self.err(key, format!("expected true or false, found {v:?}"))),
                }
            }
            Some(other) => Err(self.err(
                key,
                format!("expected true or false, found {}", other.type_str()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DB_HOST" => Some("db.example".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn parse(text: &str, name: Option<&str>, over: &Overrides) -> Result<Config, CliError> {
        Config::parse(Path::new("conf/migrate.toml"), text, name, over, &env)
    }

    #[test]
    fn interpolation() {
        let x = vec![("who".to_string(), "ann".to_string())];
        assert_eq!(
            interpolate("a ${DB_HOST} b", &x, &env).unwrap(),
            "a db.example b"
        );
        assert_eq!(interpolate("${NOPE:-def}", &x, &env).unwrap(), "def");
        assert_eq!(interpolate("${EMPTY:-def}", &x, &env).unwrap(), "def");
        assert_eq!(interpolate("${who}", &x, &env).unwrap(), "ann");
        assert!(interpolate("${NOPE}", &x, &env)
            .unwrap_err()
            .to_string()
            .contains("${NOPE} is not set"));
        assert!(interpolate("${NOPE", &x, &env).is_err());
    }

    #[test]
    fn url_precedence_and_default() {
        let text = "script_location = \"m\"\ndatabase_url = \"postgres://${DB_HOST}/x\"\n";
        let c = parse(text, None, &Overrides::default()).unwrap();
        assert_eq!(c.sections[0].database_url, "postgres://db.example/x");
        assert_eq!(c.sections[0].script_location, Path::new("conf/m"));
        let over = Overrides {
            env_database_url: Some("sqlite://env.db".into()),
            ..Default::default()
        };
        assert_eq!(
            parse(text, None, &over).unwrap().sections[0].database_url,
            "sqlite://env.db"
        );
        let over = Overrides {
            database_url: Some("sqlite://cli.db".into()),
            env_database_url: Some("sqlite://env.db".into()),
            ..Default::default()
        };
        assert_eq!(
            parse(text, None, &over).unwrap().sections[0].database_url,
            "sqlite://cli.db"
        );
        let c = parse("script_location = \"m\"\n", None, &Overrides::default()).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://conf/migrate.db");
    }

    #[test]
    fn url_env_per_section_and_database_url_only_without_sections() {
        let text = "script_location = \"m\"\n[tickets]\nurl_env = \"DB_HOST\"\n[reports]\ndatabase_url = \"sqlite://r.db\"\n";
        let over = Overrides {
            env_database_url: Some("sqlite://env.db".into()),
            ..Default::default()
        };
        // With -n, DATABASE_URL no longer replaces the section's own URL.
        let c = parse(text, Some("reports"), &over).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://r.db");
        assert!(c.sections[0].url_origin.starts_with("database_url in "));
        let c = parse(text, None, &over).unwrap();
        assert_eq!(c.sections[0].database_url, "db.example");
        assert_eq!(c.sections[0].url_origin, "$DB_HOST");
        assert_eq!(c.sections[1].database_url, "sqlite://r.db");
        // --database-url still wins for the one section picked.
        let over = Overrides {
            database_url: Some("sqlite://cli.db".into()),
            ..Default::default()
        };
        let c = parse(text, Some("tickets"), &over).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://cli.db");
        assert_eq!(c.sections[0].url_origin, "--database-url");
        // url_env is the section's own: a top-level one is not inherited by sections.
        let inherited = "url_env = \"DB_HOST\"\nscript_location = \"m\"\n[a]\n";
        let c = parse(inherited, None, &Overrides::default()).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://conf/a.db");
        // Without sections, DATABASE_URL and a top-level url_env both apply.
        let plain = "script_location = \"m\"\nurl_env = \"DB_HOST\"\n";
        assert_eq!(
            parse(plain, None, &Overrides::default()).unwrap().sections[0].database_url,
            "db.example"
        );
    }

    #[test]
    fn sections() {
        let text = "version_table = \"v\"\n[main]\nscript_location = \"m/main\"\n[analytics]\nscript_location = \"m/an\"\ndatabase_url = \"sqlite://a.db\"\n";
        let c = parse(text, None, &Overrides::default()).unwrap();
        assert!(c.named);
        let names: Vec<_> = c
            .sections
            .iter()
            .map(|s| s.name.clone().unwrap_or_default())
            .collect();
        assert_eq!(names, ["main", "analytics"]);
        assert_eq!(c.sections[0].version_table.as_deref(), Some("v"));
        assert_eq!(c.sections[0].database_url, "sqlite://conf/main.db");
        let c = parse(text, Some("analytics"), &Overrides::default()).unwrap();
        assert_eq!(c.sections.len(), 1);
        assert!(matches!(
            parse(text, Some("nope"), &Overrides::default()),
            Err(CliError::NoSuchSection { .. })
        ));
        assert!(matches!(
            parse("[a]\nx = 1\n", None, &Overrides::default()),
            Err(CliError::Config { .. })
        ));
    }

    #[test]
    fn configured_url_is_resolved_only_when_no_override_wins() {
        let text = "script_location = \"m\"\ndatabase_url = \"${UNSET_VAR}\"\n";
        let over = Overrides {
            database_url: Some("sqlite://cli.db".into()),
            ..Default::default()
        };
        assert_eq!(
            parse(text, None, &over).unwrap().sections[0].database_url,
            "sqlite://cli.db"
        );
        let over = Overrides {
            env_database_url: Some("sqlite://env.db".into()),
            ..Default::default()
        };
        assert_eq!(
            parse(text, None, &over).unwrap().sections[0].database_url,
            "sqlite://env.db"
        );
        // An empty DATABASE_URL does not win, so the configured URL is needed.
        let over = Overrides {
            env_database_url: Some(String::new()),
            ..Default::default()
        };
        let err = parse(text, None, &over).unwrap_err().to_string();
        assert!(
            err.contains("database_url: ${UNSET_VAR} is not set"),
            "{err}"
        );
        // With several sections DATABASE_URL applies to none, so each URL is resolved.
        let text = "[main]\nscript_location = \"m\"\ndatabase_url = \"${UNSET_VAR}\"\n[b]\nscript_location = \"b\"\n";
        let over = Overrides {
            env_database_url: Some("sqlite://env.db".into()),
            ..Default::default()
        };
        let err = parse(text, None, &over).unwrap_err().to_string();
        assert!(err.contains("[main] database_url: ${UNSET_VAR}"), "{err}");
    }

    #[test]
    fn connect_timeout_defaults_sections_and_override() {
        let text = "connect_timeout = 5\n[a]\nscript_location = \"a\"\n[b]\nscript_location = \"b\"\nconnect_timeout = \"${T:-7}\"\n";
        let c = parse(text, None, &Overrides::default()).unwrap();
        let secs: Vec<u64> = c
            .sections
            .iter()
            .map(|s| s.connect_timeout.as_secs())
            .collect();
        assert_eq!(secs, [5, 7]);
        let over = Overrides {
            connect_timeout: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let c = parse(text, None, &over).unwrap();
        let secs: Vec<u64> = c
            .sections
            .iter()
            .map(|s| s.connect_timeout.as_secs())
            .collect();
        assert_eq!(secs, [2, 2]);
        let c = parse("script_location = \"m\"\n", None, &Overrides::default()).unwrap();
        assert_eq!(c.sections[0].connect_timeout, Duration::from_secs(30));
        for bad in ["0", "-1", "1.5", "\"soon\"", "100000"] {
            let text = format!("script_location = \"m\"\nconnect_timeout = {bad}\n");
            let err = parse(&text, None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("connect_timeout: expected whole seconds from 1 to 86400"),
                "{bad}: {err}"
            );
        }
    }
}
