pub mod dbus;
pub mod testservice;
