pub mod dbus;
pub mod shell;
pub mod testservice;
