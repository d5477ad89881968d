//! Findings history, sans-IO: a stable identity per finding ([`fingerprint`]), the rules that
//! classify what changed between two runs ([`diff`]), and each finding's lifecycle over many runs
//! ([`lifecycle`]).
//!
//! These are the rules behind `cyrisma diff`, `cyrisma history` and Python's `cyrisma.History`;
//! the snapshot dataset stores the inputs they need (findings with their fingerprint, which
//! instances were pulled, and which assets each completed scan covered), and the readers feed them
//! here. Nothing in this module reads a file or a clock: times are Unix seconds passed in.
//!
//! The one rule that matters most: a finding is only ever called **fixed** when the later run
//! pulled that instance successfully *and* a completed scan of the same class covered that asset
//! *and* that scan does not look truncated. Anything else that disappears is **not covered**.

pub mod diff;
pub mod fingerprint;
pub mod hash;
pub mod lifecycle;

pub use diff::{
    Change, ChangeKind, Diff, GradeChange, Located, Run, Symbol, Symbols, TruncatedScan, diff, grade_changes,
    grade_rank,
};
pub use fingerprint::{AssetFingerprints, AssetIdentity, FindingKind, Fingerprint, FingerprintInput, ScanClass};
pub use hash::{FastBuild, FingerprintMap, FingerprintSet};
pub use lifecycle::{FindingLifecycle, Lifecycle, TimeToFix};
