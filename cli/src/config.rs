//! Settings from flags, the environment and the config file (in that order of precedence).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;

use crate::args::GlobalArgs;
use crate::dates::Calendar;
use payamak_emulator::TomlError;

/// Environment variable: base URLs, comma-separated.
pub const ENV_ENDPOINT: &str = "PAYAMAK_ENDPOINT";
/// Environment variable: user name.
pub const ENV_USERNAME: &str = "PAYAMAK_USERNAME";
/// Environment variable: password.
pub const ENV_PASSWORD: &str = "PAYAMAK_PASSWORD";

/// What the command connects with, once every source is merged.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Settings {
    /// Base URLs in failover order; empty means "use a built-in emulator".
    pub endpoints: Vec<String>,
    /// The user name, if any source gave one.
    pub username: Option<String>,
    /// The password, if a source gave one that goes with the user name.
    pub password: Option<Secret>,
    /// SOAP 1.2 instead of 1.1.
    pub soap12: bool,
    /// The per-request timeout.
    pub timeout: Option<Duration>,
    /// The calendar dates are shown in.
    pub calendar: Calendar,
}

/// A password: shown as `***` by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The config file's contents. `Debug` shows the password as `***`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    endpoint: Option<OneOrMany>,
    endpoints: Option<Vec<String>>,
    username: Option<String>,
    password: Option<String>,
    soap12: Option<bool>,
    timeout: Option<u64>,
    calendar: Option<Calendar>,
}

impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("endpoint", &self.endpoint)
            .field("endpoints", &self.endpoints)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("soap12", &self.soap12)
            .field("timeout", &self.timeout)
            .field("calendar", &self.calendar)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl ConfigFile {
    fn endpoints(&self) -> Vec<String> {
        let mut all = match &self.endpoint {
            Some(OneOrMany::One(url)) => vec![url.clone()],
            Some(OneOrMany::Many(urls)) => urls.clone(),
            None => Vec::new(),
        };
        all.extend(self.endpoints.iter().flatten().cloned());
        all
    }
}

/// The environment variables this tool reads (a seam for tests). `Debug` shows the password as `***`.
#[derive(Default, Clone)]
pub struct Env {
    endpoint: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("endpoint", &self.endpoint)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Env {
    /// Reads the process environment; empty values count as unset.
    pub fn from_process() -> Self {
        let read = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        Env { endpoint: read(ENV_ENDPOINT), username: read(ENV_USERNAME), password: read(ENV_PASSWORD) }
    }
}

/// Loads the config file: the one given, else the default one if it exists.
pub fn load_file(explicit: Option<&Path>) -> anyhow::Result<Option<(PathBuf, ConfigFile)>> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None => match default_path() {
            Some(path) if path.is_file() => path,
            _ => return Ok(None),
        },
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("cannot read the config file {}", path.display()))?;
    let file = parse(&text).with_context(|| format!("invalid config file {}", path.display()))?;
    Ok(Some((path, file)))
}

/// Reads the config file's text. Errors say what is wrong and where, never quoting the
/// text: toml's own `Display` shows the offending line, which may hold the password.
fn parse(text: &str) -> anyhow::Result<ConfigFile> {
    TomlError::parse(text).map_err(|error| anyhow!(error))
}

/// `$XDG_CONFIG_HOME/payamak/config.toml`, else `~/.config/payamak/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    let base = non_empty("XDG_CONFIG_HOME").or_else(|| non_empty("HOME").map(|home| home.join(".config")))?;
    Some(base.join("payamak").join("config.toml"))
}

/// Merges flags over the environment over the config file.
///
/// The config file's password is only taken together with the config file's
/// user name, so that `--user other` never gets someone else's password.
pub fn resolve(flags: &GlobalArgs, env: &Env, file: Option<&ConfigFile>) -> anyhow::Result<Settings> {
    let split = |list: &str| -> Vec<String> {
        list.split(',').map(str::trim).filter(|url| !url.is_empty()).map(str::to_owned).collect()
    };
    // A source that is set but names no URL is a mistake, not "use the built-in
    // emulator": that would also hide the endpoints of the sources below it.
    let endpoints = if !flags.endpoints.is_empty() {
        let endpoints: Vec<String> = flags.endpoints.iter().flat_map(|urls| split(urls)).collect();
        if endpoints.is_empty() {
            bail!("--endpoint is empty: give a URL such as https://host/post/");
        }
        endpoints
    } else if let Some(list) = &env.endpoint {
        let endpoints = split(list);
        if endpoints.is_empty() {
            bail!("{ENV_ENDPOINT} names no URL ({list:?}): give a comma-separated list of URLs, or unset it");
        }
        endpoints
    } else if let Some(file) = file.filter(|file| file.endpoint.is_some() || file.endpoints.is_some()) {
        let endpoints: Vec<String> =
            file.endpoints().iter().map(|url| url.trim()).filter(|url| !url.is_empty()).map(str::to_owned).collect();
        if endpoints.is_empty() {
            bail!("the config file's endpoint/endpoints name no URL: give one, or remove the key");
        }
        endpoints
    } else {
        Vec::new()
    };
    refuse_credentials_in_urls(&endpoints, flags, env)?;

    let file_username = file.and_then(|file| file.username.clone());
    let username = flags.user.clone().or_else(|| env.username.clone()).or_else(|| file_username.clone());
    let file_password =
        file.and_then(|file| file.password.clone()).filter(|_| file_username.is_some() && file_username == username);
    let password = flags.password.clone().or_else(|| env.password.clone()).or(file_password).map(Secret);
    if let Some(username) = &username {
        if username.trim().is_empty() {
            bail!("the user name is empty");
        }
    }

    let timeout = match flags.timeout.or_else(|| file.and_then(|file| file.timeout)) {
        Some(0) => bail!("the timeout must be at least 1 second"),
        other => other.map(Duration::from_secs),
    };
    Ok(Settings {
        endpoints,
        username,
        password,
        soap12: if flags.soap12 {
            true
        } else if flags.soap11 {
            false
        } else {
            file.and_then(|file| file.soap12).unwrap_or(false)
        },
        timeout,
        calendar: flags.calendar.or_else(|| file.and_then(|file| file.calendar)).unwrap_or_default(),
    })
}

/// Refuses base URLs that carry a user name or password (`https://user:pw@host/`),
/// naming where the URL came from but never showing it: the password would reach
/// error messages and logs.
fn refuse_credentials_in_urls(endpoints: &[String], flags: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let Some(position) = endpoints.iter().position(|url| has_user_info(url)) else { return Ok(()) };
    let source = if !flags.endpoints.is_empty() {
        "--endpoint"
    } else if env.endpoint.is_some() {
        ENV_ENDPOINT
    } else {
        "the config file's endpoint"
    };
    bail!(
        "{source}: URL #{} holds a user name or password before an `@` (not shown here); remove it from the URL \
         and give the credentials with --user and --password, {ENV_USERNAME} and {ENV_PASSWORD}, or the config file",
        position + 1
    )
}

/// Whether the authority of `url` (scheme optional) has a user-info part.
fn has_user_info(url: &str) -> bool {
    let rest = url.trim().split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '\\', '?', '#']).next().is_some_and(|authority| authority.contains('@'))
}

/// Warns when a config file holding a password can be read by others (Unix only).
pub fn permission_warning(path: &Path, file: &ConfigFile) -> Option<String> {
    file.password.as_ref()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return Some(format!(
                "{} holds a password and can be read by other users; run: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn flags(args: &[&str]) -> GlobalArgs {
        let mut argv = vec!["payamak"];
        argv.extend_from_slice(args);
        argv.push("credit");
        crate::args::Cli::parse_from(argv).global
    }

    fn file(text: &str) -> ConfigFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = file("endpoint = 'http://file/post/'\nusername = 'fileuser'\npassword = 'filepass'");
        let env = Env { endpoint: Some("http://env1/post/, http://env2/post/".into()), ..Env::default() };

        let settings = resolve(&flags(&[]), &Env::default(), Some(&file)).unwrap();
        assert_eq!(settings.endpoints, ["http://file/post/"]);
        assert_eq!(settings.username.as_deref(), Some("fileuser"));
        assert_eq!(settings.password, Some(Secret("filepass".into())));

        let settings = resolve(&flags(&[]), &env, Some(&file)).unwrap();
        assert_eq!(settings.endpoints, ["http://env1/post/", "http://env2/post/"]);

        let settings =
            resolve(&flags(&["--endpoint", "http://a/post/", "--endpoint", "http://b/post/"]), &env, Some(&file))
                .unwrap();
        assert_eq!(settings.endpoints, ["http://a/post/", "http://b/post/"]);
    }

    #[test]
    fn the_file_password_only_goes_with_the_file_user() {
        let file = file("username = 'fileuser'\npassword = 'filepass'");
        let settings = resolve(&flags(&["--user", "other"]), &Env::default(), Some(&file)).unwrap();
        assert_eq!(settings.username.as_deref(), Some("other"));
        assert_eq!(settings.password, None);

        let env = Env { password: Some("envpass".into()), ..Env::default() };
        let settings = resolve(&flags(&["--user", "other"]), &env, Some(&file)).unwrap();
        assert_eq!(settings.password, Some(Secret("envpass".into())));
    }

    #[test]
    fn endpoints_may_be_a_list_and_unknown_keys_are_refused() {
        let config = file("endpoints = ['http://a/post/', 'http://b/post/']\nsoap12 = true");
        let settings = resolve(&flags(&[]), &Env::default(), Some(&config)).unwrap();
        assert_eq!(settings.endpoints.len(), 2);
        assert!(settings.soap12);
        assert!(toml::from_str::<ConfigFile>("usernme = 'typo'").is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret("hunter2".into())), "***");
        let shown = format!("{:?}", file("username = 'u'\npassword = 'hunter2'"));
        assert!(shown.contains("\"***\"") && !shown.contains("hunter2"), "{shown}");
        let env = Env { username: Some("u".into()), password: Some("hunter2".into()), ..Env::default() };
        let shown = format!("{env:?}");
        assert!(shown.contains("\"***\"") && shown.contains("\"u\"") && !shown.contains("hunter2"), "{shown}");
        let cli = crate::args::Cli::parse_from(["payamak", "--user", "u", "--password", "hunter2", "credit"]);
        for shown in [format!("{cli:?}"), format!("{:?}", cli.global), format!("{:#?}", cli)] {
            assert!(shown.contains("\"***\"") && shown.contains("\"u\"") && !shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn a_source_naming_no_endpoint_is_an_error_naming_it() {
        let config = file("endpoint = 'http://file/post/'");
        let error = resolve(&flags(&["--endpoint", ""]), &Env::default(), Some(&config)).unwrap_err().to_string();
        assert!(error.contains("--endpoint is empty"), "{error}");
        let error = resolve(&flags(&["--endpoint", " , "]), &Env::default(), Some(&config)).unwrap_err().to_string();
        assert!(error.contains("--endpoint is empty"), "{error}");
        let env = Env { endpoint: Some(",".into()), ..Env::default() };
        let error = resolve(&flags(&[]), &env, Some(&config)).unwrap_err().to_string();
        assert!(error.contains("PAYAMAK_ENDPOINT names no URL"), "{error}");
        for text in ["endpoint = ''", "endpoints = []", "endpoints = [' ']"] {
            let error = resolve(&flags(&[]), &Env::default(), Some(&file(text))).unwrap_err().to_string();
            assert!(error.contains("config file's endpoint"), "{text}: {error}");
        }
        // One empty --endpoint among others is harmless; no source at all means the built-in emulator.
        let settings = resolve(&flags(&["--endpoint", "", "--endpoint", "http://a/post/"]), &Env::default(), None);
        assert_eq!(settings.unwrap().endpoints, ["http://a/post/"]);
        assert!(resolve(&flags(&[]), &Env::default(), Some(&file("username = 'u'"))).unwrap().endpoints.is_empty());
    }

    #[test]
    fn the_calendar_comes_from_the_flag_then_the_file() {
        assert_eq!(resolve(&flags(&[]), &Env::default(), None).unwrap().calendar, Calendar::Jalali);
        let config = file("calendar = 'gregorian'");
        assert_eq!(resolve(&flags(&[]), &Env::default(), Some(&config)).unwrap().calendar, Calendar::Gregorian);
        let flagged = flags(&["--calendar", "jalali"]);
        assert_eq!(resolve(&flagged, &Env::default(), Some(&config)).unwrap().calendar, Calendar::Jalali);
        assert!(toml::from_str::<ConfigFile>("calendar = 'julian'").is_err());
    }

    #[test]
    fn urls_with_user_info_are_refused_without_being_shown() {
        assert!(has_user_info("https://u:s3cret@panel.example/post/"));
        assert!(has_user_info("u:s3cret@panel.example/post/"));
        assert!(has_user_info("https://u@panel.example"));
        assert!(!has_user_info("https://panel.example/post/?a=b@c"));
        assert!(!has_user_info("https://panel.example/p@th/"));
        let config = file("endpoint = 'https://u:s3cret@file.example/post/'");
        for (flags, env, file, source) in [
            (
                flags(&["--endpoint", "https://a/post/,https://u:s3cret@b/post/"]),
                Env::default(),
                None,
                "--endpoint: URL #2",
            ),
            (
                flags(&[]),
                Env { endpoint: Some("https://u:s3cret@env/post/".into()), ..Env::default() },
                None,
                "PAYAMAK_ENDPOINT: URL #1",
            ),
            (flags(&[]), Env::default(), Some(&config), "the config file's endpoint: URL #1"),
        ] {
            let error = resolve(&flags, &env, file).unwrap_err().to_string();
            assert!(error.starts_with(source) && !error.contains("s3cret"), "{error}");
        }
    }

    #[test]
    fn soap11_on_the_command_line_beats_the_config_file() {
        let config = file("soap12 = true");
        assert!(resolve(&flags(&[]), &Env::default(), Some(&config)).unwrap().soap12);
        assert!(!resolve(&flags(&["--soap11"]), &Env::default(), Some(&config)).unwrap().soap12);
        assert!(resolve(&flags(&["--soap12"]), &Env::default(), Some(&file("soap12 = false"))).unwrap().soap12);
        assert!(crate::args::Cli::try_parse_from(["payamak", "--soap11", "--soap12", "credit"]).is_err());
    }

    #[test]
    fn config_file_errors_do_not_show_the_password() {
        let dir = std::env::temp_dir().join(format!("payamak-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text, password) in [
            ("numeric.toml", "username = 'u'\npassword = 98765432\n", "98765432"),
            ("unterminated.toml", "username = 'u'\npassword = \"S3cret!pw\n", "S3cret!pw"),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let error = load_file(Some(&path)).unwrap_err();
            let failure = crate::failure::Failure::from(error);
            for shown in [
                failure.message(),
                failure.error.to_string(),
                format!("{:#}", failure.error),
                format!("{:?}", failure.error),
                format!("{failure:?}"),
            ] {
                assert!(!shown.contains(password), "{shown}");
            }
            let message = failure.message();
            assert!(message.contains("invalid config file") && message.contains("line 2"), "{message}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
