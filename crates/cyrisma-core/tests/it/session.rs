//! The session state machine driven by a fake clock through long scripted scenarios.
