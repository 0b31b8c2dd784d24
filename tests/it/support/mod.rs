//! Shared test fixtures.
pub mod dbus;
pub mod sandbox;
pub mod shell;
pub mod testservice;
pub mod tools;
