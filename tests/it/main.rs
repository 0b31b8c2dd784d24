mod dbus_service;
mod support;
