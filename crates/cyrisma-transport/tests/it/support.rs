//! Shared helpers: start an emulator and build a client configured from the environment it
//! prints.

use cyrisma_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use cyrisma_transport::{Client, ClientBuilder, ClientConfig};

/// Starts a TLS emulator with `config`.
pub(crate) async fn emulator(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("the emulator starts")
}

/// A TLS emulator with the default (small) seed.
pub(crate) async fn default_emulator() -> EmulatorHandle {
    emulator(EmulatorConfig::default()).await
}

/// A builder configured exactly as a front end would from the emulator's printed variables, with
/// the system trust store off (the emulator's CA is the only root).
pub(crate) fn builder(emulator: &EmulatorHandle) -> ClientBuilder {
    let env = emulator.env();
    let mut config = ClientConfig::default();
    config
        .apply_vars(|name| env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone()))
        .expect("the emulator's variables are valid");
    ClientBuilder::from_config(config).native_roots(false)
}

/// A client for the emulator.
pub(crate) fn client(emulator: &EmulatorHandle) -> Client {
    builder(emulator).build().expect("the client builds")
}

/// The ids of the standard, active, non-consulting instances.
pub(crate) fn reportable_ids(emulator: &EmulatorHandle) -> Vec<String> {
    emulator
        .instances()
        .into_iter()
        .filter(|instance| !instance.is_organization() && !instance.is_suspended())
        .map(|instance| instance.instance_id)
        .collect()
}
