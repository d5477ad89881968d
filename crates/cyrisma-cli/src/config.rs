//! The config dir and `config.toml`: named profiles with connection settings and the API key
//! (never the secret, which lives in the credential store).
//!
//! The config dir is `--config-dir` / `CYRISMA_CONFIG_DIR`, else `$XDG_CONFIG_HOME/cyrisma`,
//! else `~/.config/cyrisma` (`%APPDATA%\cyrisma` on Windows). It is created with mode 0700.
//!
//! ```toml
//! [profiles.default]
//! api_key = "407cc078-46c7-11ed-8e42-000d3a3ba598"
//! base_url = "https://api.cyrisma.com/app"
//! secret_store = "keyring"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::args::OutputFormat;
use crate::credentials::{self, StoreKind};
use crate::exit::CliError;

/// The profile used when none is named.
pub(crate) const DEFAULT_PROFILE: &str = "default";

/// The file name of the configuration.
pub(crate) const CONFIG_FILE: &str = "config.toml";

/// The whole `config.toml`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// Profiles by name.
    #[serde(default)]
    pub(crate) profiles: BTreeMap<String, Profile>,
}

/// One profile's settings. Every field is optional; flags and environment variables win.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    /// The API key (not a secret: the "username").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_key: Option<String>,
    /// The central base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base_url: Option<String>,
    /// Host-name overrides (`HOST=ADDR`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) resolve: Vec<String>,
    /// An extra CA certificate (PEM file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// The domain instance hosts must belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) allowed_domain: Option<String>,
    /// The default output format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<OutputFormat>,
    /// Instances queried at once by fan-out commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) concurrency: Option<u16>,
    /// Limit for each API call, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout: Option<f64>,
    /// The history dataset's location (`snapshot`, `diff`, `history`), kept as text: today a
    /// directory, later also an object-store URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) history_dir: Option<String>,
    /// Where the secret of this profile was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secret_store: Option<StoreKind>,
    /// The title of `report html`'s pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) report_title: Option<String>,
    /// The MSP's name on `report html`'s pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) report_msp_name: Option<String>,
    /// The logo file embedded in `report html`'s pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) report_logo: Option<PathBuf>,
}

/// Finds the config dir: the flag or `CYRISMA_CONFIG_DIR` (already in `explicit`), else the
/// platform's user configuration directory.
pub(crate) fn config_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    if cfg!(windows) {
        if let Some(app_data) = var("APPDATA") {
            return Ok(app_data.join("cyrisma"));
        }
    } else if let Some(xdg) = var("XDG_CONFIG_HOME").filter(|path| path.is_absolute()) {
        return Ok(xdg.join("cyrisma"));
    }
    if let Some(home) = var("HOME").or_else(|| var("USERPROFILE")) {
        return Ok(home.join(".config").join("cyrisma"));
    }
    Err(CliError::usage("cannot find a config directory: neither `HOME` nor `XDG_CONFIG_HOME` is set")
        .with_hint("set `CYRISMA_CONFIG_DIR` or pass `--config-dir`")
        .into())
}

impl ConfigFile {
    /// Reads `config.toml` from the config dir; a missing file is an empty configuration.
    pub(crate) fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(CONFIG_FILE);
        let Some(bytes) = crate::ownfile::read(&path)? else {
            return Ok(Self::default());
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            CliError::usage(format!("`{}` is not valid utf-8", path.display()))
                .with_hint("fix or remove the file; `cyrisma auth setup` writes a fresh profile")
        })?;
        toml::from_str(&text).map_err(|error| {
            anyhow::Error::from(
                CliError::usage(format!("`{}` is not a valid configuration: {}", path.display(), error.message()))
                    .with_hint("fix or remove the file; `cyrisma auth setup` writes a fresh profile"),
            )
        })
    }

    /// Writes `config.toml` atomically (mode 0600 in a 0700 directory).
    pub(crate) fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let text = toml::to_string_pretty(self).context("cannot serialize the configuration")?;
        let text = format!("# cyrisma configuration: profiles and connection settings (no secrets).\n\n{text}");
        credentials::write_private_file(dir, CONFIG_FILE, text.as_bytes())
            .with_context(|| format!("cannot write `{}`", dir.join(CONFIG_FILE).display()))
    }

    /// A profile by name (empty settings when it does not exist).
    pub(crate) fn profile(&self, name: &str) -> Profile {
        self.profiles.get(name).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_round_trip_and_unknown_keys_are_refused() {
        let mut config = ConfigFile::default();
        config.profiles.insert(
            "default".into(),
            Profile { api_key: Some("key".into()), resolve: vec!["*.x.test=127.0.0.1".into()], ..Profile::default() },
        );
        let text = toml::to_string_pretty(&config).unwrap();
        let back: ConfigFile = toml::from_str(&text).unwrap();
        assert_eq!(back.profile("default"), config.profile("default"));
        assert!(toml::from_str::<ConfigFile>("[profiles.a]\napi_secret = \"x\"\n").is_err());
        let with_dir: ConfigFile = toml::from_str("[profiles.a]\nhistory_dir = \"/srv/cyrisma/history\"\n").unwrap();
        assert_eq!(with_dir.profile("a").history_dir.as_deref(), Some("/srv/cyrisma/history"));
    }
}
