//! A streaming tokenizer for introspection XML: start and end tags with their attributes,
//! everything else (text, comments, processing instructions, DOCTYPE, CDATA) skipped.
//!
//! Why our own rather than an XML crate (zbus_xml builds a whole document tree): `tree` only
//! needs the names of an object's direct children, and systemd answers 160 Introspect calls
//! with 7 MB of XML; building full trees to read a few `<node name=…>` cost more than the calls.
//! Introspection documents use a tiny part of XML (elements and attributes, the five named
//! entities and character references), so the tokenizer is short, allocates nothing, and checks
//! what matters for a peer's garbage: every tag closed, end tags matching, quotes terminated.

use std::borrow::Cow;

/// One tag.
#[derive(Debug, PartialEq)]
pub enum Event<'a> {
    /// `<name attrs>` or `<name attrs/>` (`empty`); an empty element gets no [`Event::End`].
    Start {
        name: &'a str,
        attrs: Attrs<'a>,
        empty: bool,
    },
    End {
        name: &'a str,
    },
}

/// The attributes of a start tag, split once when the tag was read (raw values, entities
/// not yet decoded). Introspection elements have at most three; past [`Attrs::MAX`] the rest
/// are checked but not kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attrs<'a> {
    pairs: [(&'a str, &'a str); Attrs::MAX],
    len: usize,
}

/// The attribute text of a start tag, not yet split.
#[derive(Clone, Copy)]
struct Raw<'a>(&'a str);

impl<'a> Attrs<'a> {
    const MAX: usize = 4;

    fn split(text: &'a str) -> Result<Attrs<'a>, String> {
        let mut a = Attrs {
            pairs: [("", ""); Attrs::MAX],
            len: 0,
        };
        for p in Raw(text).pairs() {
            let p = p?;
            if a.len < Attrs::MAX {
                a.pairs[a.len] = p;
                a.len += 1;
            }
        }
        Ok(a)
    }

    /// The value of attribute `name`, entities decoded.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.pairs[..self.len]
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| unescape(v))
    }
}

impl<'a> Raw<'a> {
    /// Every `(name, raw value)` pair, in order (byte scans: attribute texts are short, and
    /// `str::find` costs more per call than the scan).
    fn pairs(self) -> impl Iterator<Item = Result<(&'a str, &'a str), String>> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            rest = rest.trim_ascii_start();
            if rest.is_empty() {
                return None;
            }
            let b = rest.as_bytes();
            let Some(eq) = b.iter().position(|&c| c == b'=') else {
                return Some(Err(format!(
                    "attribute without a value near '{}'",
                    clip(rest)
                )));
            };
            let name = rest[..eq].trim_ascii_end();
            let mut v = eq + 1;
            while b.get(v).is_some_and(u8::is_ascii_whitespace) {
                v += 1;
            }
            let quote = match b.get(v) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => {
                    return Some(Err(format!(
                        "unquoted attribute value near '{}'",
                        clip(rest)
                    )));
                }
            };
            let Some(len) = b[v + 1..].iter().position(|&c| c == quote) else {
                return Some(Err(format!(
                    "unterminated attribute value near '{}'",
                    clip(rest)
                )));
            };
            if name.is_empty() || name.bytes().any(|c| c.is_ascii_whitespace()) {
                return Some(Err(format!("bad attribute name near '{}'", clip(rest))));
            }
            // Quotes and '=' are ASCII: these are char boundaries.
            let value = &rest[v + 1..v + 1 + len];
            rest = &rest[v + 1 + len + 1..];
            Some(Ok((name, value)))
        })
    }
}

fn clip(s: &str) -> &str {
    let mut end = s.len().min(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Decode `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#…;`; anything else is kept as written.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|end| {
            let ent = &rest[1..end];
            let c = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let n = match ent.strip_prefix("#x") {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => ent.strip_prefix('#')?.parse().ok()?,
                    };
                    char::from_u32(n)?
                }
            };
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Tags of a document, in order; an `Err` ends the iteration.
pub struct Tokenizer<'a> {
    s: &'a str,
    pos: usize,
    open: Vec<&'a str>,
    roots: usize,
    done: bool,
}

impl<'a> Tokenizer<'a> {
    pub fn new(s: &'a str) -> Self {
        Tokenizer {
            s,
            pos: 0,
            open: Vec::new(),
            roots: 0,
            done: false,
        }
    }

    /// How many elements are open around the next tag (0 outside the root element).
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    fn err(&mut self, what: String) -> Option<Result<Event<'a>, String>> {
        self.done = true;
        Some(Err(what))
    }

    /// Skip past `end`, or fail with `what` when it never comes.
    fn skip_past(&mut self, end: &str, what: &str) -> Result<(), String> {
        match self.s[self.pos..].find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(format!("unterminated {what}")),
        }
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Result<Event<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            // std's search (no CPU feature probing, which costs a one-shot process more than
            // the search).
            let Some(lt) = self.s[self.pos..].find('<') else {
                self.done = true;
                if let Some(name) = self.open.last() {
                    return Some(Err(format!("element <{name}> is never closed")));
                }
                if self.roots == 0 {
                    return Some(Err("no root element".into()));
                }
                return None;
            };
            self.pos += lt;
            let rest = &self.s[self.pos..];
            let skipped = if rest.starts_with("<!--") {
                self.skip_past("-->", "comment")
            } else if rest.starts_with("<![CDATA[") {
                self.skip_past("]]>", "CDATA section")
            } else if rest.starts_with("<?") {
                self.skip_past("?>", "processing instruction")
            } else if rest.starts_with("<!") {
                // DOCTYPE, possibly with an internal subset in brackets.
                let end = match (rest.find('['), rest.find('>')) {
                    (Some(b), Some(g)) if b < g => rest.find("]>").map(|i| i + 2),
                    (_, g) => g.map(|i| i + 1),
                };
                match end {
                    Some(e) => {
                        self.pos += e;
                        Ok(())
                    }
                    None => Err("unterminated declaration".into()),
                }
            } else {
                break;
            };
            if let Err(e) = skipped {
                return self.err(e);
            }
        }
        // A tag: find its end outside quoted attribute values.
        let bytes = self.s.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut quote = 0u8;
        while i < bytes.len() {
            match bytes[i] {
                b'"' | b'\'' if quote == 0 => quote = bytes[i],
                q if q == quote => quote = 0,
                b'>' if quote == 0 => break,
                b'<' if quote == 0 => return self.err(format!("'<' inside a tag at byte {i}")),
                _ => {}
            }
            i += 1;
        }
        if i >= bytes.len() {
            return self.err(format!("unterminated tag at byte {}", self.pos));
        }
        let inner = &self.s[start..i];
        self.pos = i + 1;
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim_ascii_end();
            return match self.open.pop() {
                Some(open) if open == name => Some(Ok(Event::End { name })),
                Some(open) => self.err(format!("</{name}> closes <{open}>")),
                None => self.err(format!("</{name}> closes nothing")),
            };
        }
        let (inner, empty) = match inner.strip_suffix('/') {
            Some(i) => (i, true),
            None => (inner, false),
        };
        let name_end = inner
            .bytes()
            .position(|c| c.is_ascii_whitespace())
            .unwrap_or(inner.len());
        let name = &inner[..name_end];
        if name.is_empty() {
            return self.err(format!("a tag without a name at byte {start}"));
        }
        let attrs = match Attrs::split(&inner[name_end..]) {
            Ok(a) => a,
            Err(e) => return self.err(e),
        };
        if self.open.is_empty() {
            self.roots += 1;
        }
        if !empty {
            self.open.push(name);
        }
        Some(Ok(Event::Start { name, attrs, empty }))
    }
}

/// The names of the direct children of the document's root `<node>` (`<node name="x"/>`),
/// without building anything else: what `tree` needs.
pub fn child_names(xml: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut tok = Tokenizer::new(xml);
    loop {
        let depth = tok.depth();
        match tok.next() {
            None => return Ok(out),
            Some(Err(e)) => return Err(e),
            Some(Ok(Event::Start { name, attrs, .. })) => {
                if depth == 1
                    && name == "node"
                    && let Some(n) = attrs.get("name")
                {
                    out.push(n.into_owned());
                }
            }
            Some(Ok(Event::End { .. })) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_at_depth_one_only() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<!-- <node name="commented"/> -->
<node name="/x">
 <interface name="a.b"><method name="M"><arg type="s" direction='in'/></method></interface>
 <node name="one"/>
 <node name='two'><node name="grandchild"/></node>
 <![CDATA[ <node name="cdata"/> ]]>
 <node name="th&#114;ee" />
</node>"#;
        assert_eq!(child_names(xml).unwrap(), ["one", "two", "three"]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let bad = [
            "",
            "<node>",
            "<node><interface name=",
            "not xml",
            "<node></interface>",
            "<node><!-- never ends",
            "<node name=\"x></node>",
            "<node name=x/>",
            "</node>",
            "<node><a <b></a></node>",
        ];
        for b in bad {
            assert!(child_names(b).is_err(), "{b:?}");
        }
        for good in ["<node/>", "<node></node>", " <node > </node > "] {
            assert_eq!(child_names(good).unwrap(), Vec::<String>::new(), "{good:?}");
        }
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            unescape("&lt;a&gt; &amp; &quot;&apos; &#65;&#x42; &bogus; &"),
            "<a> & \"' AB &bogus; &"
        );
    }

    #[test]
    fn deep_and_long_documents_are_linear() {
        // 100,000 siblings and 10,000 levels: no recursion, no quadratic scans.
        let mut xml = String::from("<node>");
        for i in 0..100_000 {
            xml.push_str(&format!("<node name=\"n{i}\"/>"));
        }
        for _ in 0..10_000 {
            xml.push_str("<node name=\"d\">");
        }
        for _ in 0..10_000 {
            xml.push_str("</node>");
        }
        xml.push_str("</node>");
        assert_eq!(child_names(&xml).unwrap().len(), 100_001);
    }
}
