//! Talking D-Bus: names, signatures, our own wire codec, the connection, introspection.
pub mod busctl_format;
pub mod cache;
pub mod connection;
pub mod data;
pub mod introspect;
pub mod names;
pub mod path;
pub mod sig;
pub mod wire;
