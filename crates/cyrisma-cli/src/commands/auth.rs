//! `cyrisma auth ...`: storing, checking, rotating and removing credentials.
//!
//! The secret never comes from an argument: `--secret-stdin`, `CYRISMA_API_SECRET`, or a hidden
//! prompt when stdin is a terminal (never a prompt otherwise). `rotate-secret` protects the one
//! moment when access can be lost for good: CYRISMA returns the new secret once.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use cyrisma_core::ApiSecret;
use cyrisma_core::api::auth::login;
use cyrisma_transport::{ErrorKind, NewSecret};

use crate::args::{AuthCommand, AuthSetupArgs, StorageChoice};
use crate::commands::{Context, Credentials, SecretSource};
use crate::config::{ConfigFile, Profile};
use crate::credentials::{ROTATION_ROOM, StoreKind, StoreLock, write_new_private_file};
use crate::exit::{CliError, Code};
use crate::output::rows::{LogoutRow, RotateRow, SetupRow, StatusRow};

/// Runs an `auth` command.
pub(crate) async fn run(context: &Context, command: AuthCommand) -> anyhow::Result<()> {
    match command {
        AuthCommand::Setup(args) => setup(context, args).await,
        AuthCommand::Status => status(context).await,
        AuthCommand::RotateSecret => rotate(context).await,
        AuthCommand::Logout => logout(context),
    }
}

async fn setup(context: &Context, args: AuthSetupArgs) -> anyhow::Result<()> {
    context.refuse_with_emulator("auth setup")?;
    let stdin_tty = std::io::stdin().is_terminal();
    let api_key = match context.api_key() {
        Some(key) => key.trim().to_owned(),
        None if stdin_tty && !args.secret_stdin => prompt_line("api key: ")?,
        None => {
            return Err(CliError::auth("no api key given")
                .with_hint("pass `--api-key KEY` or set `CYRISMA_API_KEY`")
                .into());
        }
    };
    if api_key.is_empty() {
        return Err(CliError::usage("the api key is empty").into());
    }
    let api_secret = read_secret(&args, stdin_tty)?;
    let credentials = Credentials { api_key: api_key.clone(), api_secret, source: SecretSource::Env };
    if args.verify {
        let client = context.client_with(&credentials)?;
        client
            .send(&login::Request::password(api_key.clone(), credentials.api_secret.clone()))
            .await
            .context("the api did not accept these credentials; nothing was stored")?;
    }
    let store = context.store();
    let kind = store.preflight(args.storage)?;
    // Under the store's lock: the secret and the profile, each re-read and rewritten, so that
    // concurrent commands keep what each of them stored.
    let lock = store.lock()?;
    store.write(&lock, &context.profile_name, &credentials.api_secret, kind).context("cannot store the api secret")?;
    update_profile(context, &lock, |profile| {
        profile.api_key = Some(api_key.clone());
        profile.secret_store = Some(kind);
        if let Some(url) = &context.global.base_url {
            profile.base_url = Some(url.clone());
        }
        if !context.global.resolve.is_empty() {
            profile.resolve = context.global.resolve.clone();
        }
        if let Some(path) = &context.global.ca_cert {
            profile.ca_cert = Some(absolute(path));
        }
        if let Some(domain) = &context.global.allowed_domain {
            profile.allowed_domain = Some(domain.clone());
        }
        true
    })?;
    drop(lock);
    context.ui.note(&format!(
        "stored the credentials of profile `{}`; if this is the temporary secret of a new integration, run `cyrisma auth rotate-secret` next",
        context.profile_name
    ));
    context.out.one(&SetupRow {
        profile: context.profile_name.clone(),
        api_key,
        secret_store: kind.label(),
        verified: args.verify,
    })
}

/// Reads the secret: `--secret-stdin`, else `CYRISMA_API_SECRET`, else a hidden prompt on a
/// terminal. Never prompts when stdin is not a terminal.
fn read_secret(args: &AuthSetupArgs, stdin_tty: bool) -> anyhow::Result<ApiSecret> {
    let secret = if args.secret_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the secret from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if let Some(secret) = std::env::var("CYRISMA_API_SECRET").ok().filter(|secret| !secret.is_empty()) {
        secret
    } else if stdin_tty {
        rpassword::prompt_password("api secret (hidden): ").context("cannot read the secret from the terminal")?
    } else {
        return Err(CliError::auth("no api secret given, and stdin is not a terminal to ask for one")
            .with_hint("pipe it in with `--secret-stdin`, or set `CYRISMA_API_SECRET`")
            .into());
    };
    if secret.is_empty() {
        return Err(CliError::usage("the api secret is empty").into());
    }
    Ok(ApiSecret::new(secret))
}

/// Changes the current profile in `config.toml` as read now, under the store's lock (not the copy
/// read at start-up, which another command may have replaced since). `change` returns whether
/// anything changed; the file is written only then.
fn update_profile(
    context: &Context,
    _lock: &StoreLock,
    change: impl FnOnce(&mut Profile) -> bool,
) -> anyhow::Result<()> {
    let mut config = ConfigFile::load(&context.config_dir)?;
    let profile = config.profiles.entry(context.profile_name.clone()).or_default();
    if change(profile) { config.save(&context.config_dir) } else { Ok(()) }
}

fn prompt_line(prompt: &str) -> anyhow::Result<String> {
    crate::ui::write_stderr(prompt);
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read from the terminal")?;
    Ok(line.trim().to_owned())
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

async fn status(context: &Context) -> anyhow::Result<()> {
    let credentials = context.credentials()?;
    let client = context.client_with(&credentials)?;
    let answer = client
        .send(&login::Request::password(credentials.api_key.clone(), credentials.api_secret.clone()))
        .await
        .context("cannot log in with these credentials")?;
    // A server's `expires_in` beyond what the clock holds is shown as no time rather than a panic.
    let expires_at =
        answer.expires_in.and_then(|seconds| SystemTime::now().checked_add(Duration::from_secs(seconds))).map(rfc3339);
    context.out.one(&StatusRow {
        profile: if context.emulator.is_some() { "(emulator)".to_owned() } else { context.profile_name.clone() },
        api_key: credentials.api_key,
        base_url: client.base_url().as_str().to_owned(),
        secret_source: credentials.source.label(),
        logged_in: true,
        token_type: answer.token_type,
        expires_in_seconds: answer.expires_in,
        expires_at,
    })
}

async fn rotate(context: &Context) -> anyhow::Result<()> {
    context.refuse_with_emulator("auth rotate-secret")?;
    let credentials = context.credentials()?;
    let store = context.store();
    // Check the store can take the new secret before the one call that cannot be repeated.
    let choice = match context.profile.secret_store {
        Some(StoreKind::File) => StorageChoice::File,
        Some(StoreKind::Keyring) => StorageChoice::Keyring,
        None => StorageChoice::Auto,
    };
    let kind = store.preflight(choice).context("the credential store cannot take the new secret; nothing was sent")?;
    // Prove there is room for what the answer must become (the rewritten files and the new secret
    // or raw answer): a full disk refuses here, before the call, not after it.
    store.prove_room(store.rewritten_size(crate::config::CONFIG_FILE) + ROTATION_ROOM)?;
    let client = context.client_with(&credentials)?;
    let raw_body_path: Mutex<Option<Recovery>> = Mutex::new(None);
    let profile_name = context.profile_name.clone();
    let sink = |new_secret: NewSecret| {
        let store = &store;
        let raw_body_path = &raw_body_path;
        let profile_name = &profile_name;
        let config_dir = &context.config_dir;
        async move {
            match &new_secret {
                NewSecret::Secret(secret) => {
                    store.lock().and_then(|lock| store.write(&lock, profile_name, secret, kind))
                }
                NewSecret::RawBody(body) if body.iter().all(u8::is_ascii_whitespace) => {
                    // Nothing to keep: say so, rather than point at an empty file.
                    *raw_body_path.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Recovery::Empty);
                    Ok(())
                }
                NewSecret::RawBody(body) => {
                    // A name of its own per answer: rotations in a row never overwrite each other.
                    let path = write_new_private_file(config_dir, RECOVERY_PREFIX, ".txt", body)
                        .with_context(|| format!("cannot save the raw answer in `{}`", config_dir.display()))?;
                    *raw_body_path.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(Recovery::Saved(path));
                    Ok(())
                }
                _ => Err(anyhow::anyhow!("an unknown kind of secret was returned")),
            }
            .map_err(|error| -> Box<dyn std::error::Error + Send + Sync> { error.into() })?;
            // Crash injection (debug builds only): the process dies right after persisting.
            crate::credentials::failpoint("rotate:after-store", "");
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }
    };
    let result = run_to_the_end(context, client.rotate_secret(sink)).await;
    let saved_raw = raw_body_path.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    match result {
        Ok(_) => {
            record_store(context, kind);
            if credentials.source == SecretSource::Env {
                context.ui.alert(
                    "`CYRISMA_API_SECRET` still holds the old secret, which no longer works: unset or update it",
                );
            }
            context.ui.note(&format!(
                "rotated the api secret of profile `{}`; the new secret is stored and verified",
                context.profile_name
            ));
            context.out.one(&RotateRow {
                profile: context.profile_name.clone(),
                secret_store: kind.label(),
                verified: true,
            })
        }
        Err(error) => rotate_failure(context, kind, error, saved_raw),
    }
}

/// The start of the names of the files that keep unreadable rotation answers.
const RECOVERY_PREFIX: &str = "regen-pass-response-";

/// What became of an unreadable rotation answer.
#[derive(Clone, Debug)]
enum Recovery {
    /// Saved to this private file.
    Saved(PathBuf),
    /// The answer was empty: nothing to keep.
    Empty,
}

/// What a stop request during the rotation says.
const NOT_INTERRUPTED: &str = "the secret rotation is in progress and is not interrupted: stopping now could lose the \
                               new secret. it ends on its own within the timeout";

/// Runs the rotation to its end whatever Ctrl-C, SIGTERM (`timeout`, `kill`, a service manager's
/// stop) or SIGHUP (a closed terminal or SSH session) say: once regen-pass may have been sent, the
/// new secret exists only in its answer, and dropping the call would lose it for good. The call
/// is bounded by the client's timeouts, so this never hangs. (SIGKILL cannot be caught.)
async fn run_to_the_end<T>(context: &Context, rotation: impl std::future::Future<Output = T>) -> T {
    tokio::pin!(rotation);
    // The handlers are installed before the rotation is first polled, so before any byte.
    let mut stops = StopSignals::install();
    loop {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => context.ui.alert(NOT_INTERRUPTED),
            name = stops.next() => context.ui.alert(&format!("{name} received: {NOT_INTERRUPTED}")),
            result = &mut rotation => return result,
        }
    }
}

/// SIGTERM and SIGHUP, caught for as long as this lives (Unix; elsewhere, nothing).
struct StopSignals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self { terminate: signal(SignalKind::terminate()).ok(), hangup: signal(SignalKind::hangup()).ok() }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The name of the next stop signal received; pending forever if none can be.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn wait(signal: &mut Option<tokio::signal::unix::Signal>) {
                // `recv` gives `None` only once the stream ends, which it does not while the runtime runs.
                if let Some(signal) = signal
                    && signal.recv().await.is_some()
                {
                    return;
                }
                std::future::pending().await
            }
            tokio::select! {
                () = wait(&mut self.terminate) => "SIGTERM",
                () = wait(&mut self.hangup) => "SIGHUP",
            }
        }
        #[cfg(not(unix))]
        std::future::pending().await
    }
}

fn rotate_failure(
    context: &Context,
    kind: StoreKind,
    error: cyrisma_transport::Error,
    saved_raw: Option<Recovery>,
) -> anyhow::Result<()> {
    if let Some(unsaved) = error.unsaved_secret() {
        // The one copy of the new secret is in this process: show it rather than lose it.
        let shown = match unsaved {
            NewSecret::Secret(secret) => secret.expose_secret().to_owned(),
            NewSecret::RawBody(body) => String::from_utf8_lossy(body).into_owned(),
            _ => String::new(),
        };
        let reason = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        context.ui.alert(&format!(
            "the api secret was rotated, but storing the new secret failed ({reason}). the old secret no longer works and \
             CYRISMA cannot show the new one again: copy it now, it is shown only this once"
        ));
        crate::ui::write_stderr(&format!("\n    {shown}\n\n"));
        return Err(CliError::error("the new api secret could not be stored; it was shown above")
            .with_hint("store it with `cyrisma auth setup --secret-stdin` (fix the credential store first), then run `cyrisma auth status`")
            .into());
    }
    match error.kind() {
        ErrorKind::SecretUnreadable if matches!(saved_raw, Some(Recovery::Empty)) => Err(CliError::new(
            Code::Ambiguous,
            "the api answered the rotation with an empty body: the secret may have been replaced, and if so there is no new \
             secret to recover",
        )
        .with_hint(
            "do not run `cyrisma auth rotate-secret` again. run `cyrisma auth status`: if it logs in, nothing changed; if it \
             fails with an authentication error, the old secret was replaced: ask CYRISMA Support for a new temporary secret",
        )
        .into()),
        ErrorKind::SecretUnreadable => {
            let place = match saved_raw {
                Some(Recovery::Saved(path)) => format!(" to `{}` (mode 0600)", path.display()),
                _ => String::new(),
            };
            Err(CliError::error(format!(
                "the api secret was rotated, but the answer could not be read: the raw answer was saved{place}"
            ))
            .with_hint("read the new secret from that file, store it with `cyrisma auth setup --secret-stdin`, then delete the file")
            .into())
        }
        ErrorKind::SecretNotVerified { .. } => {
            record_store(context, kind);
            let code = crate::exit::transport_code(&error);
            let code = if code == Code::Error { Code::Auth } else { code };
            Err(anyhow::Error::new(error).context(
                CliError::new(code, format!("the new secret was stored in the {}, but logging in with it failed", kind.label()))
                    .with_hint("run `cyrisma auth status` in a moment; do not rotate again until it logs in"),
            ))
        }
        _ if error.is_ambiguous() => Err(anyhow::Error::new(error).context(
            CliError::new(
                Code::Ambiguous,
                "the rotation request was sent but no answer came back: the secret may have been replaced, and if so the new one was lost",
            )
            .with_hint(
                "do not run `cyrisma auth rotate-secret` again. run `cyrisma auth status`: if it logs in, nothing changed and you \
                 can rotate again; if it fails with an authentication error, the old secret was replaced: ask CYRISMA Support for \
                 a new temporary secret",
            ),
        )),
        _ if error.is_connect() => Err(anyhow::Error::new(error)
            .context(CliError::new(Code::Error, "cannot reach the api: nothing was sent and the old secret still works"))),
        _ => {
            let code = crate::exit::transport_code(&error);
            Err(anyhow::Error::new(error).context(CliError::new(
                code,
                "the api refused to rotate the secret: nothing changed, the old secret still works",
            )))
        }
    }
}

/// Records in `config.toml` where the profile's secret now is (re-read under the store's lock);
/// a failure only warns, since the secret itself is safe.
fn record_store(context: &Context, kind: StoreKind) {
    // Already recorded when the command started: nothing to write.
    if context.config.profile(&context.profile_name).secret_store == Some(kind) {
        return;
    }
    let recorded = context.store().lock().and_then(|lock| {
        update_profile(context, &lock, |profile| {
            if profile.secret_store == Some(kind) {
                return false;
            }
            profile.secret_store = Some(kind);
            if let Some(key) = context.api_key() {
                profile.api_key.get_or_insert(key);
            }
            true
        })
    });
    if let Err(error) = recorded {
        context.ui.warn(&format!("the secret is stored, but `config.toml` could not be updated: {error:#}"));
    }
}

fn logout(context: &Context) -> anyhow::Result<()> {
    context.refuse_with_emulator("auth logout")?;
    let store = context.store();
    let lock = store.lock()?;
    let removed = store.delete(&lock, &context.profile_name, context.profile.secret_store)?;
    if ConfigFile::load(&context.config_dir)?.profiles.contains_key(&context.profile_name) {
        update_profile(context, &lock, |profile| {
            profile.api_key = None;
            profile.secret_store = None;
            true
        })?;
    }
    drop(lock);
    if removed.is_empty() {
        context.ui.note(&format!("no secret was stored for profile `{}`", context.profile_name));
    }
    let removed_from: Vec<&str> = removed.iter().map(|kind| kind.label()).collect();
    context.out.one(&LogoutRow {
        profile: context.profile_name.clone(),
        removed_from: if removed_from.is_empty() { "nothing".to_owned() } else { removed_from.join(", ") },
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time (UTC).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3_600, rest % 3_600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_750_032_000 + 3_661)), "2025-06-16T01:01:01Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
    }
}
