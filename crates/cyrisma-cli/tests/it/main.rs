//! Integration tests of the `cyrisma` binary, run as a separate process against an in-process
//! emulator on 127.0.0.1 with a private HOME and config dir.

mod api_json;
mod chromium;
mod commands;
mod config_vars;
mod credentials;
mod docs_examples;
mod e2e;
mod exit_codes;
mod faults;
mod help;
mod history;
mod hostile;
mod killed;
mod limits;
mod not_ours;
mod report_html;
mod rotation;
mod rotation_safety;
mod secrets;
mod support;
mod tap;
mod webhooks;
