//! Provisional webhook signature signing and verification.
