//! Talking D-Bus on our own terms.
//!
//! zbus's dynamic `Variant`/`Structure` types lose information a busctl clone must keep: its
//! `Dict` is a `BTreeMap` (wire order and duplicate keys are lost) and `(so)` and `so` parse to the
//! same signature. So we keep our own exact model of signatures ([`sig`]) and values ([`data`]),
//! marshal and unmarshal the wire format ourselves ([`wire`]) and hand zbus raw bodies over one
//! [`connection`], and print and parse values exactly the way `busctl` does ([`busctl_format`]).
//! Introspection is parsed into [`introspect`] and cached per object ([`cache`]).

pub mod busctl_format;
pub mod cache;
pub mod connection;
pub mod data;
pub mod introspect;
pub mod names;
pub mod path;
pub mod sig;
pub mod wire;
