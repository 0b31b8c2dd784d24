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

/// The attributes of a start tag, read with it (raw values, entities not yet decoded). Introspection elements have at most three; past [`Attrs::MAX`] the rest
/// are checked but not kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attrs<'a> {
    pairs: [(&'a str, &'a str); Attrs::MAX],
    len: usize,
}

impl<'a> Attrs<'a> {
    const MAX: usize = 4;
    const EMPTY: Attrs<'static> = Attrs {
        pairs: [("", ""); Attrs::MAX],
        len: 0,
    };

    fn push(&mut self, pair: (&'a str, &'a str)) {
        if self.len < Attrs::MAX {
            self.pairs[self.len] = pair;
            self.len += 1;
        }
    }

    /// The value of attribute `name`, entities decoded.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.pairs[..self.len]
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| unescape(v))
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
    // A byte loop: values are a few bytes, shorter than a searcher takes to set up.
    if !s.bytes().any(|c| c == b'&') {
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
            // A byte loop: between tags there is a newline and some indentation, shorter than
            // a searcher takes to set up (and no CPU feature probing, which would cost a
            // one-shot process more than the search).
            let Some(lt) = self.s.as_bytes()[self.pos..]
                .iter()
                .position(|&c| c == b'<')
            else {
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
        self.tag()
    }
}

impl<'a> Tokenizer<'a> {
    /// The tag at `self.pos` (a `<` that opens no comment or declaration), read in one pass:
    /// name, attributes, end. Each byte is looked at once (the tokenizer is most of what
    /// parsing a 35 KB introspection costs a one-shot process).
    fn tag(&mut self) -> Option<Result<Event<'a>, String>> {
        let s = self.s;
        let b = s.as_bytes();
        let at = self.pos;
        let mut i = at + 1;
        let end_tag = b.get(i) == Some(&b'/');
        if end_tag {
            i += 1;
        }
        let name_start = i;
        while b
            .get(i)
            .is_some_and(|&c| !c.is_ascii_whitespace() && !matches!(c, b'>' | b'/' | b'<'))
        {
            i += 1;
        }
        // Delimiters are ASCII: every index here is a char boundary.
        let name = &s[name_start..i];
        let mut attrs = Attrs::EMPTY;
        let empty = loop {
            while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match b.get(i) {
                None => return self.err(format!("unterminated tag at byte {at}")),
                Some(b'>') => {
                    i += 1;
                    break false;
                }
                Some(b'/') if !end_tag && b.get(i + 1) == Some(&b'>') => {
                    i += 2;
                    break true;
                }
                Some(b'<') => return self.err(format!("'<' inside a tag at byte {i}")),
                Some(_) if end_tag => {
                    return self.err(format!("an end tag with attributes at byte {at}"));
                }
                Some(_) => match attribute(s, i) {
                    Ok((pair, next)) => {
                        attrs.push(pair);
                        i = next;
                    }
                    Err(e) => return self.err(e),
                },
            }
        };
        if name.is_empty() {
            return self.err(format!("a tag without a name at byte {}", at + 1));
        }
        self.pos = i;
        if end_tag {
            return match self.open.pop() {
                Some(open) if open == name => Some(Ok(Event::End { name })),
                Some(open) => self.err(format!("</{name}> closes <{open}>")),
                None => self.err(format!("</{name}> closes nothing")),
            };
        }
        if self.open.is_empty() {
            self.roots += 1;
        }
        if !empty {
            self.open.push(name);
        }
        Some(Ok(Event::Start { name, attrs, empty }))
    }
}

/// The attribute that starts at byte `i` of `s` (not whitespace, not a tag's end): its name
/// and raw value, and where the text after it starts.
fn attribute(s: &str, mut i: usize) -> Result<((&str, &str), usize), String> {
    let b = s.as_bytes();
    let at = i;
    let near = |j: usize| clip(&s[j..]).to_string();
    while b.get(i).is_some_and(|&c| {
        !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'<' | b'/' | b'"' | b'\'')
    }) {
        i += 1;
    }
    let name = &s[at..i];
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    if name.is_empty() {
        return Err(format!("bad attribute name near '{}'", near(at)));
    }
    if b.get(i) != Some(&b'=') {
        return Err(format!("attribute without a value near '{}'", near(at)));
    }
    i += 1;
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    let quote = match b.get(i) {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => return Err(format!("unquoted attribute value near '{}'", near(at))),
    };
    let Some(len) = b[i + 1..].iter().position(|&c| c == quote) else {
        return Err(format!("unterminated attribute value near '{}'", near(at)));
    };
    let value = &s[i + 1..i + 1 + len];
    Ok(((name, value), i + len + 2))
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

    /// The attributes one start tag gives, as `(name, raw value)`.
    fn attrs_of(tag: &str) -> Result<Vec<(String, String)>, String> {
        match Tokenizer::new(tag).next() {
            Some(Ok(Event::Start { attrs, .. })) => Ok(attrs.pairs[..attrs.len]
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()),
            Some(Err(e)) => Err(e),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn attributes_are_read_in_one_pass() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        let good: [(&str, &[(&str, &str)]); 7] = [
            ("<a/>", &[]),
            ("<a x=\"1\"/>", &[("x", "1")]),
            ("<a x = '1' y=\"2\">", &[("x", "1"), ("y", "2")]),
            ("<a\tx=\"1\"\ny='2'  />", &[("x", "1"), ("y", "2")]),
            // '>' and '/' inside a quoted value, a quote of the other kind
            (
                "<a x=\"b>c/d\" y='say \"hi\"'>",
                &[("x", "b>c/d"), ("y", "say \"hi\"")],
            ),
            ("<a x=\"1\"y=\"2\"/>", &[("x", "1"), ("y", "2")]),
            ("<a x=\"\">", &[("x", "")]),
        ];
        for (tag, want) in good {
            assert_eq!(attrs_of(tag), Ok(pairs(want)), "{tag}");
        }
        let bad = [
            "<a x>",
            "<a x=1>",
            "<a x=\"1>",
            "<a =\"1\">",
            "<a x=\"1\" / >",
            "<a <b>",
            "<>",
            "<a x=\"1\"",
            "<node></node x=\"1\">",
        ];
        for tag in bad {
            let mut t = Tokenizer::new(tag);
            let errs = std::iter::from_fn(|| t.next())
                .filter(Result::is_err)
                .count();
            assert_eq!(errs, 1, "{tag}");
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
