//! Round trips of every model keep unknown fields (proptest).
