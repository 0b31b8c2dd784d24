//! The one integration-test binary: D-Bus edge cases against a private dbus-daemon, the shell
//! end to end, and (in `sandbox`) real systemd in a throwaway container.
mod dbus_service;
mod shell_bus;
mod support;
