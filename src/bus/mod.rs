//! Talking D-Bus on our own terms.
//!
//! zbus's dynamic `Variant`/`Structure` types lose information a busctl clone must keep: its
//! `Dict` is a `BTreeMap` (wire order and duplicate keys are lost) and `(so)` and `so` parse to the
//! same signature. So we keep our own exact model of signatures ([`sig`]) and values ([`data`]),
//! marshal and unmarshal the wire format ourselves ([`wire`]) and hand zbus raw bodies over one
//! [`connection`], on a current-thread runtime of our own making ([`runtime`]) that the main
//! thread drives. Introspection XML is read by our streaming tokenizer ([`xml`]), parsed into
//! [`introspect`] and cached per object, bounded ([`cache`]); a [`session`] bundles the
//! connection, the cache and the async runtime.
//!
//! This layer knows nothing of the shell: no commands, no hints for people, no output.

pub mod cache;
pub mod connection;
pub mod data;
pub mod introspect;
pub mod monitor;
pub mod names;
pub mod path;
pub mod remote;
pub mod runtime;
pub mod session;
pub mod sig;
pub mod signals;
pub mod wire;
pub mod xml;
