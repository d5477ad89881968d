//! Tests of the rendering.
