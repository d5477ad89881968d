//! Wire models shared by several endpoints, and the enums of the contract.
//!
//! Models are declared with `model!`: public fields, a liberal single-pass parser, and an `extra`
//! map that keeps every field the server sent that the model does not know. They derive
//! `Default` so that callers (the emulator, tests) can build them with `..Default::default()`.

mod enums;
mod error_body;
mod instance;
mod reporting;
mod user;
mod webhook;

pub use enums::*;
pub use error_body::*;
pub use instance::*;
pub use reporting::*;
pub use user::*;
pub use webhook::*;
