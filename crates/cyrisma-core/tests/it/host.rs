//! Instance host validation: unit cases, the bypass corpus and generated hosts.
