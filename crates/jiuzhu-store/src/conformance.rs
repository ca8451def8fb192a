//! Placeholder module: the conformance suite is being written.
