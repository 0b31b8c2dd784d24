//! The one integration-test binary: D-Bus edge cases against a private dbus-daemon
//! (`dbus_service`, `shell_bus`), the terminal (`pty`), and real systemd in a throwaway
//! sandbox (`sandbox`, `workshop`).
mod dbus_service;
mod pty;
mod sandbox;
mod shell_bus;
mod support;
mod workshop;
