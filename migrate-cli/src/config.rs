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
//! dev_url = "${DEV_DATABASE_URL}"         # a separate database for scratch work
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
//! and MySQL; `--connect-timeout` overrides it. `dev_url` (also per section, `--dev-url`
//! overrides it) names a separate database where the schema commands make their scratch
//! databases; they never run migrations inside the target database.

use crate::error::CliError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default configuration file name.
pub const CONFIG_FILE: &str = "migrate.toml";

/// Alembic's default file name template.
pub const DEFAULT_FILE_TEMPLATE: &str = "%(rev)s_%(slug)s";

/// The origin of the URL when nothing names one (an SQLite file beside the file), which
/// an application that embeds its migrations replaces with its own default.
pub(crate) const NO_URL_ORIGIN: &str = "the default: no URL is configured";

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
    /// The dev database for scratch work (`--dev-url`, else `dev_url`), unmasked.
    pub dev_url: Option<String>,
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
    /// `--dev-url`.
    pub dev_url: Option<String>,
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

/// The keys of the top level (the defaults) and of each section, as written: strings
/// stay raw because they may hold `${VAR}`, expanded only when the value is used, and a
/// value of another type than its key takes is refused only then too, so that one an
/// option overrides does not matter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    script_location: Option<Text>,
    database_url: Option<Text>,
    /// The section's own variable for its URL; never inherited by sections.
    url_env: Option<Text>,
    version_table: Option<Text>,
    version_table_schema: Option<Text>,
    transaction_per_migration: Option<Written<bool>>,
    file_template: Option<Text>,
    revision_template: Option<Text>,
    connect_timeout: Option<Written<i64>>,
    allow_multiple_heads: Option<Written<bool>>,
    schema_location: Option<Text>,
    dev_url: Option<Text>,
}

/// The value of a key that takes a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Text {
    /// A string, which may hold `${VAR}`.
    Text(String),
    /// Any other type, refused when the value is used.
    Other(Other),
}

/// The value of a key that takes a number or a boolean, or a string to expand and read
/// as one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Written<T> {
    /// The key's own type.
    Value(T),
    /// A string, which may hold `${VAR}`.
    Text(String),
    /// Any other type, refused when the value is used.
    Other(Other),
}

/// A value of a type its key does not take, kept only to name its type in the error.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[expect(dead_code, reason = "a variant's value only picks the variant")]
enum Other {
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(toml::value::Datetime),
    Array(Vec<serde::de::IgnoredAny>),
    Table(std::collections::BTreeMap<String, serde::de::IgnoredAny>),
}

impl Other {
    /// The type's name, as TOML names it.
    fn type_str(&self) -> &'static str {
        match self {
            Other::Integer(_) => "integer",
            Other::Float(_) => "float",
            Other::Boolean(_) => "boolean",
            Other::Datetime(_) => "datetime",
            Other::Array(_) => "array",
            Other::Table(_) => "table",
        }
    }
}

/// The whole file: top-level defaults, then the sections in file order.
#[derive(Debug)]
struct File {
    defaults: Settings,
    sections: Vec<(String, Settings)>,
}

impl File {
    /// Reads `text`, whose top-level tables are `sections`: an unknown key, at the top
    /// level or in a section, is an error naming it and its line.
    fn read(path: &Path, text: &str, sections: &[String]) -> Result<File, CliError> {
        use serde::de::DeserializeSeed;
        FileSeed { sections }
            .deserialize(toml::Deserializer::new(text))
            .map_err(|e| CliError::Config {
                path: path.to_path_buf(),
                line: e
                    .span()
                    .map(|s| text.get(..s.start).unwrap_or(text).matches('\n').count() + 1),
                message: e.message().to_string(),
            })
    }
}

/// Deserializes a [`File`], knowing which top-level keys are sections.
struct FileSeed<'a> {
    sections: &'a [String],
}

impl<'de> serde::de::DeserializeSeed<'de> for FileSeed<'_> {
    type Value = File;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<File, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FileSeed<'_> {
    type Value = File;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table of settings and sections")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<File, A::Error> {
        let mut sections = Vec::new();
        // The top-level keys go through the derived `Settings`, so that they are checked
        // as a section's are, with the sections' tables taken out on the way.
        let defaults =
            Settings::deserialize(serde::de::value::MapAccessDeserializer::new(Defaults {
                map,
                names: self.sections,
                sections: &mut sections,
            }))?;
        Ok(File { defaults, sections })
    }
}

/// The top level's entries without its sections, which are read into `sections`.
struct Defaults<'a, A> {
    map: A,
    names: &'a [String],
    sections: &'a mut Vec<(String, Settings)>,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for Defaults<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = seed;
        loop {
            let key = self.map.next_key_seed(KeySeed {
                seed,
                sections: self.names,
            })?;
            match key {
                None => return Ok(None),
                Some(Key::Setting(k)) => return Ok(Some(k)),
                Some(Key::Section(name, unused)) => {
                    let settings: Settings = self.map.next_value()?;
                    self.sections.push((name, settings));
                    seed = unused;
                }
            }
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A top-level key: a setting (checked by the derived seed while the parser still knows
/// where the key is, so that an error names its line) or a section, which hands the seed
/// back for the next key.
enum Key<V, K> {
    Setting(V),
    Section(String, K),
}

struct KeySeed<'a, K> {
    seed: K,
    sections: &'a [String],
}

impl<'de, K: serde::de::DeserializeSeed<'de>> serde::de::DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = Key<K::Value, K>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        use serde::de::IntoDeserializer;
        let key = String::deserialize(d)?;
        if self.sections.contains(&key) {
            return Ok(Key::Section(key, self.seed));
        }
        self.seed
            .deserialize(key.into_deserializer())
            .map(Key::Setting)
    }
}

impl Config {
    /// Reads and resolves the configuration at `path`; `name` picks one section.
    ///
    /// # Errors
    /// A missing or invalid file, an unknown key, an unset `${VAR}`, a wrong value type,
    /// an unknown section.
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
        // Syntax first, and which top-level keys are tables: those are the sections.
        let table: toml::Table = text.parse().map_err(|source| CliError::ConfigSyntax {
            path: path.to_path_buf(),
            source,
        })?;
        let names: Vec<String> = table
            .iter()
            .filter(|(_, v)| v.is_table())
            .map(|(k, _)| k.clone())
            .collect();
        let File { defaults, sections } = File::read(path, text, &names)?;
        let has_sections = !sections.is_empty();
        let chosen: Vec<(Option<String>, Settings)> = match (name, has_sections) {
            (Some(n), true) => {
                let (n, s) = sections.into_iter().find(|(k, _)| k == n).ok_or_else(|| {
                    CliError::NoSuchSection {
                        name: n.to_string(),
                        path: path.to_path_buf(),
                        sections: names.clone(),
                    }
                })?;
                vec![(Some(n), s)]
            }
            (Some(n), false) => {
                return Err(CliError::NoSuchSection {
                    name: n.to_string(),
                    path: path.to_path_buf(),
                    sections: Vec::new(),
                })
            }
            (None, true) => sections.into_iter().map(|(n, s)| (Some(n), s)).collect(),
            (None, false) => vec![(None, Settings::default())],
        };
        let sections = chosen
            .iter()
            .map(|(sname, own)| {
                Ctx {
                    path,
                    section: sname.as_deref(),
                    own,
                    defaults: &defaults,
                    x: &over.x,
                    env,
                }
                .section(has_sections, over)
            })
            .collect::<Result<_, _>>()?;
        Ok(Config {
            path: path.to_path_buf(),
            sections,
            named: has_sections,
        })
    }
}

/// One key's value where a section is resolved: the section's own, else the top level's.
macro_rules! setting {
    ($ctx:expr, $key:ident) => {
        $ctx.setting(
            stringify!($key),
            $ctx.own.$key.as_ref().or($ctx.defaults.$key.as_ref()),
        )
    };
}

/// Resolves one section against the top-level defaults.
struct Ctx<'a> {
    path: &'a Path,
    section: Option<&'a str>,
    own: &'a Settings,
    defaults: &'a Settings,
    x: &'a [(String, String)],
    env: &'a dyn Fn(&str) -> Option<String>,
}

/// A key and its value, if set.
struct Setting<'a, V> {
    key: &'static str,
    value: Option<&'a V>,
}

impl<'a> Ctx<'a> {
    fn section(&self, has_sections: bool, over: &Overrides) -> Result<Section, CliError> {
        let path = self.path;
        let dir = config_dir(path);
        let sname = self.section;
        let script_location = self
            .string(setting!(self, script_location))?
            .ok_or_else(|| {
                self.config_error(match sname {
                    Some(n) => {
                        format!("section [{n}] has no `script_location` (the versions folder)")
                    }
                    None => "missing `script_location` (the versions folder)".to_string(),
                })
            })?;
        // A section's own variable (`url_env`), so that one environment can hold the
        // URLs of several databases without one overriding another.
        let url_env = if has_sections {
            self.string(self.setting("url_env", self.own.url_env.as_ref()))?
        } else {
            self.string(setting!(self, url_env))?
        }
        .filter(|v| !v.is_empty());
        let from_env = match &url_env {
            Some(var) => (self.env)(var)
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
        // The configured URL is resolved only when no override wins: its `${VAR}` may
        // name what only the deploy that does not pass a URL sets.
        let (database_url, url_origin) = match overriding {
            Some(found) => found,
            None => match self
                .string(setting!(self, database_url))?
                .filter(|u| !u.is_empty())
            {
                Some(url) => (url, format!("database_url in {}", path.display())),
                None => {
                    let file = format!("{}.db", sname.unwrap_or("migrate"));
                    (
                        format!("sqlite://{}", dir.join(file).display()),
                        NO_URL_ORIGIN.to_string(),
                    )
                }
            },
        };
        let connect_timeout = match over.connect_timeout {
            Some(t) => t,
            None => self
                .seconds(setting!(self, connect_timeout))?
                .unwrap_or(migrate_runtime::Database::DEFAULT_CONNECT_TIMEOUT),
        };
        Ok(Section {
            name: sname.map(str::to_string),
            script_location: dir.join(script_location),
            database_url,
            version_table: self.string(setting!(self, version_table))?,
            version_table_schema: self
                .string(setting!(self, version_table_schema))?
                .filter(|s| !s.is_empty()),
            transaction_per_migration: self
                .boolean(setting!(self, transaction_per_migration))?
                .unwrap_or(true),
            file_template: self
                .string(setting!(self, file_template))?
                .unwrap_or_else(|| DEFAULT_FILE_TEMPLATE.to_string()),
            revision_template: self
                .string(setting!(self, revision_template))?
                .map(|p| dir.join(p)),
            schema_location: self
                .string(setting!(self, schema_location))?
                .filter(|p| !p.is_empty())
                .map(|p| dir.join(p)),
            url_origin,
            connect_timeout,
            allow_multiple_heads: self
                .boolean(setting!(self, allow_multiple_heads))?
                .unwrap_or(false),
            // As `database_url`: the file's value is resolved only when no option wins.
            dev_url: match over.dev_url.clone().filter(|u| !u.is_empty()) {
                Some(u) => Some(u),
                None => self
                    .string(setting!(self, dev_url))?
                    .filter(|u| !u.is_empty()),
            },
        })
    }

    fn setting<V>(&self, key: &'static str, value: Option<&'a V>) -> Setting<'a, V> {
        Setting { key, value }
    }

    fn config_error(&self, message: String) -> CliError {
        CliError::Config {
            path: self.path.to_path_buf(),
            line: None,
            message,
        }
    }

    /// An error about `key`, named with its section.
    fn err(&self, key: &str, msg: impl std::fmt::Display) -> CliError {
        self.config_error(match self.section {
            Some(s) => format!("[{s}] {key}: {msg}"),
            None => format!("{key}: {msg}"),
        })
    }

    /// A string value with `${VAR}` expanded.
    fn expand(&self, key: &str, s: &str) -> Result<String, CliError> {
        interpolate(s, self.x, self.env).map_err(|m| self.err(key, m))
    }

    fn string(&self, s: Setting<'_, Text>) -> Result<Option<String>, CliError> {
        match s.value {
            None => Ok(None),
            Some(Text::Text(v)) => self.expand(s.key, v).map(Some),
            Some(Text::Other(other)) => Err(self.err(
                s.key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    /// A whole number of seconds from 1 to [`MAX_CONNECT_TIMEOUT`].
    fn seconds(&self, s: Setting<'_, Written<i64>>) -> Result<Option<Duration>, CliError> {
        let expected = format!("expected whole seconds from 1 to {MAX_CONNECT_TIMEOUT}");
        let n = match s.value {
            None => return Ok(None),
            Some(Written::Value(n)) => *n,
            Some(Written::Text(v)) => {
                let v = self.expand(s.key, v)?;
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| self.err(s.key, format!("{expected}, found {v:?}")))?
            }
            Some(Written::Other(other)) => {
                return Err(self.err(s.key, format!("{expected}, found {}", other.type_str())))
            }
        };
        match u64::try_from(n) {
            Ok(secs) if (1..=MAX_CONNECT_TIMEOUT).contains(&secs) => {
                Ok(Some(Duration::from_secs(secs)))
            }
            _ => Err(self.err(s.key, format!("{expected}, found {n}"))),
        }
    }

    fn boolean(&self, s: Setting<'_, Written<bool>>) -> Result<Option<bool>, CliError> {
        match s.value {
            None => Ok(None),
            Some(Written::Value(b)) => Ok(Some(*b)),
            Some(Written::Text(v)) => {
                let v = self.expand(s.key, v)?;
                match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Ok(Some(true)),
                    "false" | "0" | "no" | "off" => Ok(Some(false)),
                    _ => Err(self.err(s.key, format!("expected true or false, found {v:?}"))),
                }
            }
            Some(Written::Other(other)) => Err(self.err(
                s.key,
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

    /// `DATABASE_URL` set to `url`.
    fn with_env(url: &str) -> Overrides {
        Overrides {
            env_database_url: Some(url.to_string()),
            ..Default::default()
        }
    }

    /// `--database-url url`.
    fn with_cli(url: &str) -> Overrides {
        Overrides {
            database_url: Some(url.to_string()),
            ..Default::default()
        }
    }

    /// The URL the only section resolves to.
    fn url_of(text: &str, over: &Overrides) -> String {
        parse(text, None, over).unwrap().sections[0]
            .database_url
            .clone()
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
        let over = with_env("sqlite://env.db");
        assert_eq!(url_of(text, &over), "sqlite://env.db");
        let over = Overrides {
            database_url: Some("sqlite://cli.db".into()),
            env_database_url: Some("sqlite://env.db".into()),
            ..Default::default()
        };
        assert_eq!(url_of(text, &over), "sqlite://cli.db");
        let c = parse("script_location = \"m\"\n", None, &Overrides::default()).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://conf/migrate.db");
    }

    #[test]
    fn url_env_per_section_and_database_url_only_without_sections() {
        let text = "script_location = \"m\"\n[tickets]\nurl_env = \"DB_HOST\"\n[reports]\ndatabase_url = \"sqlite://r.db\"\n";
        let over = with_env("sqlite://env.db");
        // With -n, DATABASE_URL no longer replaces the section's own URL.
        let c = parse(text, Some("reports"), &over).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://r.db");
        assert!(c.sections[0].url_origin.starts_with("database_url in "));
        let c = parse(text, None, &over).unwrap();
        assert_eq!(c.sections[0].database_url, "db.example");
        assert_eq!(c.sections[0].url_origin, "$DB_HOST");
        assert_eq!(c.sections[1].database_url, "sqlite://r.db");
        // --database-url still wins for the one section picked.
        let over = with_cli("sqlite://cli.db");
        let c = parse(text, Some("tickets"), &over).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://cli.db");
        assert_eq!(c.sections[0].url_origin, "--database-url");
        // url_env is the section's own: a top-level one is not inherited by sections.
        let inherited = "url_env = \"DB_HOST\"\nscript_location = \"m\"\n[a]\n";
        let c = parse(inherited, None, &Overrides::default()).unwrap();
        assert_eq!(c.sections[0].database_url, "sqlite://conf/a.db");
        // Without sections, DATABASE_URL and a top-level url_env both apply.
        let plain = "script_location = \"m\"\nurl_env = \"DB_HOST\"\n";
        assert_eq!(url_of(plain, &Overrides::default()), "db.example");
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
        let over = with_cli("sqlite://cli.db");
        assert_eq!(url_of(text, &over), "sqlite://cli.db");
        let over = with_env("sqlite://env.db");
        assert_eq!(url_of(text, &over), "sqlite://env.db");
        // An empty DATABASE_URL does not win, so the configured URL is needed.
        let over = with_env("");
        let err = parse(text, None, &over).unwrap_err().to_string();
        assert!(
            err.contains("database_url: ${UNSET_VAR} is not set"),
            "{err}"
        );
        // With several sections DATABASE_URL applies to none, so each URL is resolved.
        let text = "[main]\nscript_location = \"m\"\ndatabase_url = \"${UNSET_VAR}\"\n[b]\nscript_location = \"b\"\n";
        let over = with_env("sqlite://env.db");
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

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let top = "script_location = \"m\"\nversion_tabel = \"v\"\n";
        let err = parse(top, None, &Overrides::default()).unwrap_err();
        assert!(
            matches!(err, CliError::Config { line: Some(2), .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("conf/migrate.toml:2: unknown field `version_tabel`, expected one of `script_location`"),
            "{text}"
        );
        let in_section = "version_table = \"v\"\n[main]\nscript_location = \"m\"\n\nversion_tabel = \"x\"\n[b]\nscript_location = \"b\"\n";
        let text = parse(in_section, None, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            text.starts_with("conf/migrate.toml:5: unknown field `version_tabel`"),
            "{text}"
        );
        // Refused even when the section is not the one picked.
        assert!(parse(in_section, Some("b"), &Overrides::default()).is_err());
        // A table inside a section is no key either.
        let nested = "[main]\nscript_location = \"m\"\n[main.more]\nx = 1\n";
        let text = parse(nested, None, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(text.contains("unknown field `more`"), "{text}");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_only_when_used() {
        let text = "script_location = \"m\"\ndatabase_url = 1979-05-27\n";
        let err = parse(text, None, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database_url: expected a string, found datetime"),
            "{err}"
        );
        assert!(parse(text, None, &with_cli("sqlite://cli.db")).is_ok());
        let text = "[a]\nscript_location = \"a\"\nallow_multiple_heads = [1]\n[b]\nscript_location = \"b\"\nconnect_timeout = { s = 1 }\n";
        assert!(parse(text, Some("a"), &Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("[a] allow_multiple_heads: expected true or false, found array"));
        assert!(parse(text, Some("b"), &Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("[b] connect_timeout: expected whole seconds from 1 to 86400, found table"));
    }

    #[test]
    fn every_key_of_the_readme_is_read() {
        let text = "script_location = \"m\"\ndatabase_url = \"sqlite://x.db\"\nurl_env = \"NOPE\"\nversion_table = \"v\"\nversion_table_schema = \"s\"\ntransaction_per_migration = \"off\"\nfile_template = \"%(rev)s\"\nrevision_template = \"t.tmpl\"\nconnect_timeout = 9\nallow_multiple_heads = true\nschema_location = \"schema\"\ndev_url = \"sqlite::memory:\"\n";
        let c = parse(text, None, &Overrides::default()).unwrap();
        let s = &c.sections[0];
        assert_eq!(s.database_url, "sqlite://x.db");
        assert_eq!(s.version_table.as_deref(), Some("v"));
        assert_eq!(s.version_table_schema.as_deref(), Some("s"));
        assert!(!s.transaction_per_migration);
        assert_eq!(s.file_template, "%(rev)s");
        assert_eq!(
            s.revision_template.as_deref(),
            Some(Path::new("conf/t.tmpl"))
        );
        assert_eq!(s.connect_timeout, Duration::from_secs(9));
        assert!(s.allow_multiple_heads);
        assert_eq!(s.schema_location.as_deref(), Some(Path::new("conf/schema")));
        assert_eq!(s.dev_url.as_deref(), Some("sqlite::memory:"));
        assert!(!c.named);
    }

    #[test]
    fn dev_url_per_section_expanded_and_overridden() {
        let text = "dev_url = \"postgres://${DB_HOST}/dev\"\n[a]\nscript_location = \"a\"\n[b]\nscript_location = \"b\"\ndev_url = \"postgres://b/dev\"\n[c]\nscript_location = \"c\"\ndev_url = \"\"\n";
        let c = parse(text, None, &Overrides::default()).unwrap();
        let dev: Vec<Option<&str>> = c.sections.iter().map(|s| s.dev_url.as_deref()).collect();
        assert_eq!(
            dev,
            [
                Some("postgres://db.example/dev"),
                Some("postgres://b/dev"),
                None
            ]
        );
        let over = Overrides {
            dev_url: Some("postgres://cli/dev".into()),
            ..Default::default()
        };
        let c = parse(text, None, &over).unwrap();
        assert!(c
            .sections
            .iter()
            .all(|s| s.dev_url.as_deref() == Some("postgres://cli/dev")));
        // An unset variable is an error naming the key, unless the option wins.
        let unset = "script_location = \"m\"\ndev_url = \"${NOPE}\"\n";
        let err = parse(unset, None, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("dev_url: ${NOPE} is not set"), "{err}");
        assert!(parse(unset, None, &over).is_ok());
    }
}
