use crate::support::dbus::{busctl, stderr, stdout};

#[test]
fn dump() {
    let o = busctl(&["introspect", "org.rustemd.Test", "/org/rustemd/Test"]);
    println!("{}\n{}\n{:?}", stdout(&o), stderr(&o), o.status);
}
