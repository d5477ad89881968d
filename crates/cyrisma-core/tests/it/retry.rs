//! The retry policy driven through scripted failures.
