//! Shared test fixtures.
pub mod sandbox;
