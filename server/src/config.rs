//! Typed configuration, layered: built-in defaults, then `simpul.toml` (or the file given with
//! `--config` / `SIMPUL_CONFIG`), then `SIMPUL_*` environment variables (nested keys with a
//! double underscore: `SIMPUL_HUB__URL`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use simpul_domain::office::BoxRole;

/// Name of the config file looked for in the working directory when none is given.
pub const DEFAULT_CONFIG_FILE: &str = "simpul.toml";

/// Everything the binary can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port of the web UI and API (`SIMPUL_LISTEN`).
    pub listen: SocketAddr,
    /// Folder holding the database and blobs (`SIMPUL_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `office` (a kecamatan box) or `hub` (the regency hub) (`SIMPUL_ROLE`).
    pub role: BoxRole,
    /// The link to the regency hub.
    pub hub: HubConfig,
    /// Login sessions.
    pub session: SessionConfig,
    /// Logging.
    pub log: LogConfig,
    /// The office queue.
    pub queue: QueueConfig,
    /// Printers and scanners.
    pub devices: DevicesConfig,
    /// Where the key of the box's encrypted data is kept.
    pub key: KeyConfig,
}

/// Where the key that encrypts the database and the files is kept (see `simpul key init`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyConfig {
    /// Folder of the key in its stored form (`SIMPUL_KEY__DIR`; default `DATA_DIR/keys`). Never
    /// part of a backup.
    pub dir: Option<PathBuf>,
    /// How `tpm2-tools` reach the TPM, e.g. `device:/dev/tpmrm0` (`SIMPUL_KEY__TPM_TCTI`); unset,
    /// a TPM is used only through `systemd-creds`.
    pub tpm_tcti: Option<String>,
    /// The regency's recovery key, the public half (`age1…`; `SIMPUL_KEY__RECOVERY`): backups
    /// and the hub's CA in escrow are encrypted to it. `simpul key recovery` makes a pair;
    /// `doctor` and `backup` check it.
    pub recovery: Option<String>,
}

/// How the box looks after its devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicesConfig {
    /// Seconds between two looks at the network printers and scanners (their state and supplies
    /// on the devices page), 2 to 3600 (`SIMPUL_DEVICES__WATCH_SECS`).
    pub watch_secs: u64,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        DevicesConfig { watch_secs: 60 }
    }
}

/// How the counters call the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// Priority tickets (elderly, pregnant or nursing, disabled) a counter calls in a row at
    /// most while general tickets wait (`SIMPUL_QUEUE__MAX_PRIORITY_IN_ROW`), 1 to 20.
    pub max_priority_in_row: u8,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { max_priority_in_row: simpul_domain::queue::CallPolicy::default().max_priority_in_row }
    }
}

/// Where the regency hub is and how often to check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// Base URL of the hub, e.g. `https://hub.badungkab.go.id:8443` (`SIMPUL_HUB__URL`).
    pub url: Option<String>,
    /// Seconds between link checks.
    pub check_interval_secs: u64,
    /// Seconds before a check gives up.
    pub timeout_secs: u64,
    /// Hub role: address of the mutual-TLS sync listener boxes connect to.
    pub sync_listen: SocketAddr,
    /// Hub role: DNS names and IP addresses written into the hub's TLS certificate.
    pub tls_names: Vec<String>,
    /// Office role: seconds between sync sessions while the link is up.
    pub sync_interval_secs: u64,
    /// Office role: longest wait between attempts while the link is down (the wait doubles
    /// from 0.5 s up to this).
    pub retry_max_secs: u64,
}

/// Session lifetimes and cookie settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Minutes without a request before a session ends.
    pub idle_minutes: u64,
    /// Hours after login when a session ends regardless of activity.
    pub absolute_hours: u64,
    /// Mark the cookie `Secure` (only when the UI is served over HTTPS).
    pub secure_cookie: bool,
}

/// Log output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `simpul_server=debug,info` (`RUST_LOG` wins).
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("simpul-data"),
            role: BoxRole::Office,
            hub: HubConfig::default(),
            session: SessionConfig::default(),
            log: LogConfig::default(),
            queue: QueueConfig::default(),
            devices: DevicesConfig::default(),
            key: KeyConfig::default(),
        }
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            url: None,
            check_interval_secs: 15,
            timeout_secs: 5,
            sync_listen: SocketAddr::from(([0, 0, 0, 0], 3443)),
            tls_names: vec!["localhost".into(), "127.0.0.1".into()],
            sync_interval_secs: 30,
            retry_max_secs: 300,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { idle_minutes: 30, absolute_hours: 12, secure_cookie: false }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, level: "info".to_string() }
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named with `--config` does not exist.
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    /// A file or variable could not be read or holds a wrong value.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Top-level keys, so that other `SIMPUL_*` variables (such as `SIMPUL_CONFIG`) are not taken
/// for configuration.
const KEYS: [&str; 9] = ["listen", "data_dir", "role", "hub", "session", "log", "queue", "devices", "key"];

impl Config {
    /// Loads defaults, then the file, then the environment, and checks the result.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, Env::prefixed("SIMPUL_"))
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Config, ConfigError> {
        let file = match file {
            Some(path) if !path.exists() => return Err(ConfigError::Missing(path.to_path_buf())),
            Some(path) => path.to_path_buf(),
            None => PathBuf::from(DEFAULT_CONFIG_FILE),
        };
        // Keys reach the filter before figment lower-cases them.
        let env = env.split("__").filter(|key| {
            key.as_str().split('.').next().is_some_and(|first| KEYS.iter().any(|k| first.eq_ignore_ascii_case(k)))
        });
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Checks what serde cannot.
    fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.hub.url {
            let parsed = reqwest::Url::parse(url).map_err(|e| ConfigError::Invalid(format!("hub.url '{url}': {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(ConfigError::Invalid(format!("hub.url '{url}' must be an http(s) address with a host")));
            }
        }
        if self.hub.check_interval_secs == 0 || self.hub.timeout_secs == 0 {
            return Err(ConfigError::Invalid("hub.check_interval_secs and hub.timeout_secs must be above 0".into()));
        }
        if self.session.idle_minutes == 0 || self.session.absolute_hours == 0 {
            return Err(ConfigError::Invalid("session.idle_minutes and session.absolute_hours must be above 0".into()));
        }
        if !(2..=3600).contains(&self.devices.watch_secs) {
            return Err(ConfigError::Invalid("devices.watch_secs must be from 2 to 3600".into()));
        }
        if !(1..=20).contains(&self.queue.max_priority_in_row) {
            return Err(ConfigError::Invalid("queue.max_priority_in_row must be from 1 to 20".into()));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::Invalid("data_dir must not be empty".into()));
        }
        Ok(())
    }

    /// Path of the SQLite database inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("simpul.sqlite3")
    }

    /// The folder of the box's key (`key.dir`, default `DATA_DIR/keys`).
    pub fn key_dir(&self) -> PathBuf {
        self.key.dir.clone().unwrap_or_else(|| self.data_dir.join("keys"))
    }
}

/// A commented example configuration with every key at its default.
pub fn example() -> &'static str {
    include_str!("../simpul.example.toml")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn the_example_is_the_defaults() {
        let parsed: Config = Figment::from(Toml::string(example())).extract().unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn the_priority_limit_is_configurable_within_bounds() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SIMPUL_QUEUE__MAX_PRIORITY_IN_ROW", "5");
            let config = Config::load_from(None, Env::prefixed("SIMPUL_")).unwrap();
            assert_eq!(config.queue.max_priority_in_row, 5);
            jail.set_env("SIMPUL_QUEUE__MAX_PRIORITY_IN_ROW", "0");
            let refused = Config::load_from(None, Env::prefixed("SIMPUL_")).unwrap_err().to_string();
            assert!(refused.contains("max_priority_in_row"), "{refused}");
            Ok(())
        });
    }

    #[test]
    fn file_then_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("simpul.toml", "listen = \"0.0.0.0:8080\"\nrole = \"hub\"\n[hub]\ntimeout_secs = 9\n")?;
            jail.set_env("SIMPUL_LISTEN", "127.0.0.1:4000");
            jail.set_env("SIMPUL_DATA_DIR", "/tmp/x");
            jail.set_env("SIMPUL_HUB__URL", "https://hub.example:8443");
            jail.set_env("SIMPUL_CONFIG", "ignored-here");
            jail.set_env("SIMPUL_FIXTURES", "not-a-config-key");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.listen.to_string(), "127.0.0.1:4000");
            assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
            assert_eq!(c.role, BoxRole::Hub);
            assert_eq!(c.hub.timeout_secs, 9);
            assert_eq!(c.hub.url.as_deref(), Some("https://hub.example:8443"));
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("simpul.toml", "listen = \"nowhere\"\n")?;
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("listen"), "{e}");
            jail.create_file("simpul.toml", "lisen = \"127.0.0.1:1\"\n")?;
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("lisen"), "{e}");
            jail.create_file("simpul.toml", "[hub]\nurl = \"ftp://x\"\n")?;
            let e = Config::load(None).unwrap_err().to_string();
            assert!(e.contains("hub.url"), "{e}");
            jail.create_file("simpul.toml", "this is not toml")?;
            assert!(Config::load(None).is_err());
            Ok(())
        });
        assert!(matches!(Config::load(Some(Path::new("/nonexistent/simpul.toml"))), Err(ConfigError::Missing(_))));
    }
}
