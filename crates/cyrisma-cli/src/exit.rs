//! Exit codes, the CLI's own error type, and how an error is shown on stderr.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | error |
//! | 2 | usage: bad flags, arguments or configuration |
//! | 3 | partial failure across instances (the output lists which) |
//! | 4 | authentication: missing or refused credentials |
//! | 5 | rate limited or timed out |
//! | 6 | ambiguous outcome: a change may have happened, check before retrying |
//! | 130 | interrupted by Ctrl-C |
//!
//! An error is printed uv-style: `error: <message>`, one `caused by:` line per cause, then a
//! blank line and a `hint:` when there is one. Every line goes through the terminal escaping of
//! `output`, since messages can carry server text.

use std::fmt;
use std::io::Write;

use crate::output::neutralize;
use crate::ui::Ui;

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    /// 0: success.
    Success = 0,
    /// 1: any other error.
    Error = 1,
    /// 2: usage.
    Usage = 2,
    /// 3: some instances failed.
    Partial = 3,
    /// 4: authentication.
    Auth = 4,
    /// 5: rate limited or timed out.
    Throttled = 5,
    /// 6: ambiguous outcome.
    Ambiguous = 6,
    /// 130: interrupted by Ctrl-C (the shell convention).
    Interrupted = 130,
}

impl From<Code> for std::process::ExitCode {
    fn from(code: Code) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// An error raised by the CLI itself, with its exit code and an optional hint.
#[derive(Debug)]
pub(crate) struct CliError {
    message: String,
    code: Code,
    hint: Option<String>,
}

impl CliError {
    /// An error with an explicit code.
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Self { message: message.into(), code, hint: None }
    }

    /// A usage error (exit code 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message)
    }

    /// An authentication error (exit code 4).
    pub(crate) fn auth(message: impl Into<String>) -> Self {
        Self::new(Code::Auth, message)
    }

    /// A general error (exit code 1).
    pub(crate) fn error(message: impl Into<String>) -> Self {
        Self::new(Code::Error, message)
    }

    /// Adds a hint.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Some instances of a fan-out failed; the rest of the output was written.
#[derive(Debug)]
pub(crate) struct PartialFailure {
    /// How many instances were covered in all.
    pub(crate) total: usize,
    /// The failed instances and why, as shown to the user.
    pub(crate) failed: Vec<(String, String)>,
    /// The exit code: 3 when some instances succeeded; when none did, the failures' common code.
    pub(crate) code: Code,
}

impl fmt::Display for PartialFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.failed.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "{} of {} instances failed: {}", self.failed.len(), self.total, ids.join(", "))
    }
}

impl std::error::Error for PartialFailure {}

impl PartialFailure {
    /// `Ok` when nothing failed; else the partial-failure error over the fleet's failure records:
    /// exit code 3 when some instances succeeded, and when none did, the failures' common code.
    pub(crate) fn check(succeeded: usize, failures: &[cyrisma_fleet::InstanceFailure]) -> anyhow::Result<()> {
        if failures.is_empty() {
            return Ok(());
        }
        let code = if succeeded > 0 {
            Code::Partial
        } else {
            let mut codes = failures.iter().map(|failure| failure_code(failure.kind));
            let first = codes.next().unwrap_or(Code::Error);
            if codes.all(|code| code == first) { first } else { Code::Error }
        };
        Err(PartialFailure {
            total: succeeded + failures.len(),
            failed: failures.iter().map(|failure| (failure.instance_id.clone(), failure.error.clone())).collect(),
            code,
        }
        .into())
    }
}

/// The exit code of one instance's failure (as [`transport_code`] maps its error).
fn failure_code(kind: cyrisma_fleet::FailureKind) -> Code {
    use cyrisma_fleet::FailureKind;
    match kind {
        FailureKind::Ambiguous => Code::Ambiguous,
        FailureKind::Auth => Code::Auth,
        FailureKind::RateLimited | FailureKind::Timeout => Code::Throttled,
        _ => Code::Error,
    }
}

/// A fleet error as the CLI reports it: a transport error as itself (so that its exit code and
/// hint are found), anything else as it is.
pub(crate) fn fleet_error(error: cyrisma_fleet::Error) -> anyhow::Error {
    match error {
        cyrisma_fleet::Error::Transport(error) => error.into(),
        other @ (cyrisma_fleet::Error::NoSuchRun(_)
        | cyrisma_fleet::Error::TooFewRuns { .. }
        | cyrisma_fleet::Error::RunOrder { .. }) => CliError::usage(other.to_string())
            .with_hint("`cyrisma history runs` lists the complete runs; `cyrisma snapshot` adds one")
            .into(),
        other => other.into(),
    }
}

/// An error already reported (by clap): exit with its code and print nothing more.
#[derive(Debug)]
pub(crate) struct Silent(pub(crate) Code);

impl fmt::Display for Silent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit code {}", self.0 as u8)
    }
}

impl std::error::Error for Silent {}

/// The exit code of an error: the CLI's own code when it set one, else what the transport's
/// error says about the failure.
pub(crate) fn code_of(error: &anyhow::Error) -> Code {
    if let Some(silent) = error.downcast_ref::<Silent>() {
        return silent.0;
    }
    // `downcast_ref` on the `anyhow::Error` also finds types attached with `.context(...)`,
    // outermost first.
    if let Some(cli) = error.downcast_ref::<CliError>() {
        return cli.code;
    }
    if let Some(partial) = error.downcast_ref::<PartialFailure>() {
        return partial.code;
    }
    for cause in error.chain() {
        if let Some(transport) = cause.downcast_ref::<cyrisma_transport::Error>() {
            return transport_code(transport);
        }
    }
    Code::Error
}

/// The exit code that a transport error maps to.
pub(crate) fn transport_code(error: &cyrisma_transport::Error) -> Code {
    if is_redirect(error) {
        // Not the credentials' fault: the address (or a proxy) is wrong.
        Code::Error
    } else if error.is_ambiguous() {
        Code::Ambiguous
    } else if error.is_auth() {
        Code::Auth
    } else if error.is_rate_limited() || error.is_timeout() {
        Code::Throttled
    } else {
        Code::Error
    }
}

/// The hint for an error: the CLI's own, else one derived from the transport error.
fn hint_of(error: &anyhow::Error) -> Option<String> {
    if let Some(cli) = error.downcast_ref::<CliError>()
        && cli.hint.is_some()
    {
        return cli.hint.clone();
    }
    for cause in error.chain() {
        if let Some(transport) = cause.downcast_ref::<cyrisma_transport::Error>() {
            return transport_hint(transport);
        }
    }
    None
}

/// Whether the server answered with a redirect (a `3xx` status), at login or on a call: the API
/// never redirects, so the base URL or a proxy is wrong, whatever the credentials.
fn is_redirect(error: &cyrisma_transport::Error) -> bool {
    error.status().is_some_and(|status| status.is_redirection())
}

/// The hint of an ambiguous outcome: the change may have happened.
const AMBIGUOUS_HINT: &str = "the request was sent but no answer came back: it may have taken effect. do not retry it blindly; \
     check the current state first (for example with `cyrisma instances list` or `cyrisma users list`)";

/// Whether a command changes something at the api (creates, converts, suspends, reactivates,
/// sets mfa, disables, registers or deletes a webhook, or an `api` call other than `GET` or
/// `HEAD`): when such a call is cut after its bytes may have left, its outcome is unknown.
pub(crate) fn is_change(command: &crate::args::Command) -> bool {
    use crate::args::{Command, InstancesCommand, UsersCommand, WebhooksCommand};
    match command {
        Command::Instances(command) => matches!(
            command,
            InstancesCommand::Create(_)
                | InstancesCommand::Convert(_)
                | InstancesCommand::Suspend(_)
                | InstancesCommand::Reactivate(_)
                | InstancesCommand::SetMfa(_)
        ),
        Command::Users(command) => matches!(command, UsersCommand::Create(_) | UsersCommand::Disable(_)),
        Command::Webhooks(command) => matches!(command, WebhooksCommand::Create(_) | WebhooksCommand::Delete(_)),
        Command::Api(args) => !["GET", "HEAD"].iter().any(|method| args.method.eq_ignore_ascii_case(method)),
        Command::Emulator(command) => matches!(command, crate::args::EmulatorCommand::Advance(_)),
        _ => false,
    }
}

/// The error of a command interrupted by Ctrl-C: exit code 130, or 6 with the "check before
/// retrying" hint for a command that changes something ([`is_change`]), since its call may
/// already have reached the api.
pub(crate) fn interrupted(change: bool) -> anyhow::Error {
    if change {
        CliError::new(Code::Ambiguous, "interrupted while the change may already have reached the api")
            .with_hint(AMBIGUOUS_HINT)
            .into()
    } else {
        CliError::new(Code::Interrupted, "interrupted").into()
    }
}

/// For a command that changes something ([`is_change`]): a call cut by a timeout once it may
/// have been sent (the total `--timeout`, or one attempt's) is an ambiguous outcome, exit code 6
/// with the "check before retrying" hint, not a "try again" timeout. A connection that never
/// opened and the `--wait` of provisioning stay timeouts.
pub(crate) fn ambiguous_if_cut(error: anyhow::Error) -> anyhow::Error {
    let cut = error.chain().any(|cause| {
        cause.downcast_ref::<cyrisma_transport::Error>().is_some_and(|transport| {
            // `is_retryable` is false for the activation wait's timeout, true for a call's.
            transport.is_timeout() && !transport.is_connect() && transport.is_retryable()
        })
    });
    if cut {
        error.context(
            CliError::new(Code::Ambiguous, "the change timed out after it may have reached the api")
                .with_hint(AMBIGUOUS_HINT),
        )
    } else {
        error
    }
}

/// What to do about a transport error.
pub(crate) fn transport_hint(error: &cyrisma_transport::Error) -> Option<String> {
    if let Some(status) = error.status().filter(|status| status.is_redirection()) {
        return Some(format!(
            "the server answered with a redirect ({}), which the api never sends, so the credentials were not checked: \
             check `--base-url` (`https://`, the host and the `/app` path) and any proxy in between",
            status.as_u16()
        ));
    }
    let hint = if error.is_ambiguous() {
        AMBIGUOUS_HINT
    } else if error.is_auth() {
        "check the credentials with `cyrisma auth status`, or store new ones with `cyrisma auth setup`"
    } else if error.is_rate_limited() {
        "the api asked to slow down: try again later, or lower `--concurrency`"
    } else if error.is_timeout() {
        "the api did not answer in time: try again, or raise `--timeout`"
    } else if error.is_tls() {
        "the server's certificate is not trusted: pass its certificate authority with `--ca-cert` (`CYRISMA_CA_CERT`)"
    } else if error.is_connect() {
        "check the network and `--base-url`; for the emulator, also `--resolve` and `--ca-cert`"
    } else if error.is_host_refused() {
        "an instance host is outside the allowed domain: check `--allowed-domain` (`CYRISMA_ALLOWED_DOMAIN`)"
    } else if error.is_config() {
        "check `--base-url`, `--resolve`, `--ca-cert` and `--allowed-domain` (or their `CYRISMA_*` variables)"
    } else if error.is_not_found() {
        "check the id with `cyrisma instances list` or `cyrisma users list`"
    } else {
        return None;
    };
    Some(hint.to_owned())
}

/// Prints an error to stderr and returns its exit code.
pub(crate) fn report(error: &anyhow::Error, ui: &Ui) -> Code {
    let code = code_of(error);
    if error.downcast_ref::<Silent>().is_some() {
        return code;
    }
    let mut text = String::new();
    let mut lines = error.chain().map(ToString::to_string).filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or_else(|| "unknown error".to_owned());
    text.push_str(&format!("{}: {}\n", ui.paint_error("error"), neutralize(&first)));
    let mut previous = first;
    for cause in lines {
        // Some errors repeat their source's message; show each message once.
        if previous.contains(&cause) {
            continue;
        }
        text.push_str(&format!("  {}: {}\n", ui.paint_dim("caused by"), neutralize(&cause)));
        previous = cause;
    }
    if let Some(failure) = error.downcast_ref::<PartialFailure>() {
        for (id, reason) in &failure.failed {
            text.push_str(&format!("  {}: {}\n", neutralize(id), neutralize(reason)));
        }
    }
    if let Some(hint) = hint_of(error) {
        text.push_str(&format!("\n{}: {}\n", ui.paint_hint("hint"), neutralize(&hint)));
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
    code
}

#[cfg(test)]
mod tests {
    use cyrisma_fleet::{FailureKind, InstanceFailure};

    use super::*;

    fn failure(id: &str, kind: FailureKind) -> InstanceFailure {
        InstanceFailure {
            instance_id: id.to_owned(),
            error: format!("{id} failed"),
            kind,
            ..InstanceFailure::default()
        }
    }

    fn code(succeeded: usize, failures: &[InstanceFailure]) -> Option<Code> {
        PartialFailure::check(succeeded, failures).err().map(|error| code_of(&error))
    }

    #[test]
    fn failure_records_give_the_documented_exit_codes() {
        assert_eq!(code(3, &[]), None);
        assert_eq!(code(1, &[failure("cc1", FailureKind::Auth)]), Some(Code::Partial), "some succeeded");
        assert_eq!(code(0, &[failure("cc1", FailureKind::Auth), failure("cc2", FailureKind::Auth)]), Some(Code::Auth));
        assert_eq!(
            code(0, &[failure("cc1", FailureKind::RateLimited), failure("cc2", FailureKind::Timeout)]),
            Some(Code::Throttled),
            "rate limits and timeouts share exit code 5"
        );
        assert_eq!(code(0, &[failure("cc1", FailureKind::Ambiguous)]), Some(Code::Ambiguous));
        assert_eq!(
            code(0, &[failure("cc1", FailureKind::Auth), failure("cc2", FailureKind::UnknownInstance)]),
            Some(Code::Error),
            "different codes: a plain error"
        );
        let error = PartialFailure::check(1, &[failure("cc2", FailureKind::Other)]).unwrap_err();
        assert_eq!(error.to_string(), "1 of 2 instances failed: cc2");
    }
}
