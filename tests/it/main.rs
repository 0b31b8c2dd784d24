//! The one integration-test binary: D-Bus edge cases against a private dbus-daemon
//! (`dbus_service`, `shell_bus`, `busctl_echo`), the terminal (`pty`), and real systemd in a throwaway
//! sandbox (`sandbox`, `workshop`).
mod busctl_echo;
mod busctl_rest;
mod cli;
mod daemons;
mod dbus_service;
mod demos;
mod futures;
mod language;
mod misbehaving;
mod pty;
mod run_pty;
mod sandbox;
mod shell_bus;
mod signals;
mod support;
mod transient;
mod workshop;
