//! Newtypes for every secret the API handles: redacted `Debug`, no `Display`, zeroed on drop.
//!
//! A secret is read only through `expose_secret()`, so every place that reveals one is easy to
//! find with a search. `Serialize` writes the real value: it exists so that the emulator can
//! answer with the wire types and so that credential stores can persist them. Never serialize a
//! secret-bearing value for display; front ends build their own output types.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        ///
        /// `Default` is the empty secret, so that wire models can derive `Default`.
        #[derive(Clone, Default)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// Reveals the secret. Call this only where the value goes on the wire or into a
            /// credential store.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// Whether the secret is the empty string.
            pub fn is_empty(&self) -> bool {
                self.0.expose_secret().is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            /// Compares in constant time with respect to the contents.
            fn eq(&self, other: &Self) -> bool {
                use subtle::ConstantTimeEq;
                self.expose_secret().as_bytes().ct_eq(other.expose_secret().as_bytes()).into()
            }
        }

        impl Eq for $name {}

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.expose_secret())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::wire::lenient_string(deserializer).map(Self::new)
            }
        }

        impl crate::wire::Lenient for $name {
            fn deserialize_lenient<'de, D: Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                Self::deserialize(deserializer)
            }
        }
    };
}

secret_type! {
    /// The partner API secret (the "password" that goes with the API key).
    ApiSecret
}

secret_type! {
    /// An access token, sent as `Authorization: access_token <token>`.
    AccessToken
}

secret_type! {
    /// A refresh token from the login response.
    RefreshToken
}

secret_type! {
    /// The signing secret of a webhook registration (provisional contract).
    WebhookSecret
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = ApiSecret::new("canary-value");
        assert_eq!(format!("{secret:?}"), "ApiSecret(<redacted>)");
        assert_eq!(format!("{:#?}", AccessToken::new("canary-value")), "AccessToken(<redacted>)");
        assert_eq!(secret.expose_secret(), "canary-value");
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(RefreshToken::new("a"), RefreshToken::new("a"));
        assert_ne!(RefreshToken::new("a"), RefreshToken::new("b"));
    }

    #[test]
    fn deserializes_liberally() {
        let token: AccessToken = serde_json::from_str("12345").unwrap();
        assert_eq!(token.expose_secret(), "12345");
    }
}
