//! Shared test fixtures.
pub mod checkpoints;
pub mod dbus;
pub mod sandbox;
pub mod shell;
pub mod testservice;
pub mod tools;
