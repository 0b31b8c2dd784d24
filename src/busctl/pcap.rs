//! busctl's capture file: pcapng with the D-Bus link type (231), as `busctl capture` writes it
//! (systemd 252, `bus_pcap_header()` and `bus_message_pcap_frame()` in `bus-dump.c`).
//!
//! One section header (options: the OS's PRETTY_NAME and the writing program), one interface
//! (link type 231, snap length `--size`, default 4096), then one enhanced packet block per
//! message: microsecond timestamp, the original length, and the message's bytes cut to the
//! snap length, padded to 4 bytes. Everything in host byte order, as busctl writes it;
//! tshark and Wireshark read it with their D-Bus dissector.

/// LINKTYPE_DBUS.
pub const LINKTYPE_DBUS: u16 = 231;
/// busctl's default `--size`.
pub const DEFAULT_SNAPLEN: u32 = 4096;

const SECTION_BLOCK: u32 = 0x0A0D_0D0A;
const INTERFACE_BLOCK: u32 = 1;
const ENHANCED_PACKET_BLOCK: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const SHB_OS: u16 = 3;
const SHB_USERAPPL: u16 = 4;

fn u16s(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_ne_bytes());
}

fn u32s(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_ne_bytes());
}

fn opt_len(len: usize) -> usize {
    (len + 4).next_multiple_of(4)
}

fn option(out: &mut Vec<u8>, code: u16, data: &[u8]) {
    u16s(out, code);
    u16s(out, data.len() as u16);
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The section header and the one interface description: the start of every capture.
pub fn header(snaplen: u32, os: Option<&str>, app: &str) -> Vec<u8> {
    // Options are at most 65535 bytes.
    let os = os.map(|o| &o.as_bytes()[..o.len().min(0xfff0)]);
    let app = &app.as_bytes()[..app.len().min(0xfff0)];
    let len = 24 + os.map_or(0, |o| opt_len(o.len())) + opt_len(app.len()) + opt_len(0) + 4;
    let mut out = Vec::with_capacity(len + 20);
    u32s(&mut out, SECTION_BLOCK);
    u32s(&mut out, len as u32);
    u32s(&mut out, BYTE_ORDER_MAGIC);
    u16s(&mut out, 1);
    u16s(&mut out, 0);
    out.extend_from_slice(&u64::MAX.to_ne_bytes());
    if let Some(o) = os {
        option(&mut out, SHB_OS, o);
    }
    option(&mut out, SHB_USERAPPL, app);
    option(&mut out, OPT_END, &[]);
    u32s(&mut out, len as u32);
    // Interface description, no options.
    let ilen: u32 = 16 + 4;
    u32s(&mut out, INTERFACE_BLOCK);
    u32s(&mut out, ilen);
    u16s(&mut out, LINKTYPE_DBUS);
    u16s(&mut out, 0);
    u32s(&mut out, snaplen);
    u32s(&mut out, ilen);
    out
}

/// One message, received at `usec` (microseconds since the epoch), appended to `out`.
pub fn frame(out: &mut Vec<u8>, message: &[u8], usec: u64, snaplen: u32) {
    let caplen = message.len().min(snaplen as usize);
    let pad = caplen.next_multiple_of(4) - caplen;
    let length = (28 + caplen + pad + 4) as u32;
    u32s(out, ENHANCED_PACKET_BLOCK);
    u32s(out, length);
    u32s(out, 0);
    u32s(out, (usec >> 32) as u32);
    u32s(out, usec as u32);
    u32s(out, caplen as u32);
    u32s(out, message.len() as u32);
    out.extend_from_slice(&message[..caplen]);
    out.extend(std::iter::repeat_n(0, pad));
    u32s(out, length);
}

/// busctl's `--size=SIZE` (systemd's `parse_size()` with base 1024: `4096`, `64K`, `1.5M`),
/// with busctl's messages.
pub fn parse_size(s: &str) -> Result<u32, String> {
    let size = crate::systemd::syntax::parse_size(s)
        .ok_or_else(|| format!("Failed to parse size '{s}': Invalid argument"))?;
    match u32::try_from(size) {
        Ok(0) => Err(format!(
            "--size={s}: a capture needs at least one byte per message"
        )),
        Ok(v) => Ok(v),
        Err(_) => Err("Size out of range.".into()),
    }
}

/// PRETTY_NAME from os-release, as busctl puts it in the section header.
pub fn os_pretty_name() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .ok()?;
    text.lines().find_map(|l| {
        let v = l.strip_prefix("PRETTY_NAME=")?;
        Some(v.trim_matches(|c| c == '"' || c == '\'').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_well_formed() {
        let h = header(
            4096,
            Some("Debian GNU/Linux 12 (bookworm)"),
            "rustemd-shell",
        );
        let len = u32::from_ne_bytes(h[4..8].try_into().unwrap()) as usize;
        assert_eq!(
            &h[len - 4..len],
            &h[4..8],
            "trailing length repeats the leading one"
        );
        assert_eq!(len % 4, 0);
        assert_eq!(
            u16::from_ne_bytes(h[len + 8..len + 10].try_into().unwrap()),
            231
        );
        assert_eq!(h.len(), len + 20);
        let mut f = Vec::new();
        frame(&mut f, &[1, 2, 3, 4, 5], 0x1_0000_0002, 3);
        assert_eq!(f.len(), 28 + 4 + 4);
        assert_eq!(u32::from_ne_bytes(f[12..16].try_into().unwrap()), 1);
        assert_eq!(u32::from_ne_bytes(f[16..20].try_into().unwrap()), 2);
        // Captured length, then original length (pcapng's order, and busctl's).
        assert_eq!(u32::from_ne_bytes(f[20..24].try_into().unwrap()), 3);
        assert_eq!(u32::from_ne_bytes(f[24..28].try_into().unwrap()), 5);
        assert_eq!(&f[28..32], &[1, 2, 3, 0]);
    }

    #[test]
    fn sizes_like_systemd() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1.5M"), Ok(1_572_864));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
        assert!(parse_size("-1").is_err());
        assert_eq!(parse_size("8G"), Err("Size out of range.".into()));
    }
}
