//! Seeded fuzzing of what reads untrusted input: the wire decoder (peers), signatures and
//! busctl's argument notation (people), the lexer and parser (people).
//!
//! Why seeded loops rather than cargo-fuzz: cargo-fuzz needs a nightly toolchain, which this
//! project's machines do not have; a deterministic generator runs everywhere, in `cargo test`,
//! and a failure names the seed and case so it replays exactly. Each target checks properties,
//! not just "no panic": what decodes re-encodes to the same values, what parses as a
//! signature prints back the same.
//!
//! `RUSTEMD_FUZZ_CASES` sets the number of cases per target (default 3000, quick enough for
//! every `cargo test`; `scripts/test` runs a longer pass, and a long run is
//! `RUSTEMD_FUZZ_CASES=10000000 cargo test --lib fuzz`). `RUSTEMD_FUZZ_SEED` picks the seed;
//! `RUSTEMD_FUZZ_TRACE=1` prints each evaluator program before it runs (to find a hang).
//! A crash found becomes a regression test next to the code it broke.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::bus::data::Data;
use crate::bus::sig::Sig;
use crate::bus::wire::{self, Endian};

/// xorshift64*: small, fast, reproducible.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn cases() -> u64 {
    std::env::var("RUSTEMD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

fn seed() -> u64 {
    std::env::var("RUSTEMD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_2026)
}

/// Run `case` for every case number; a panic fails the test naming the seed and case.
fn run(target: &str, mut case: impl FnMut(&mut Rng) -> Option<String>) {
    let seed = seed();
    for n in 0..cases() {
        let mut rng = Rng::new(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        match catch_unwind(AssertUnwindSafe(|| case(&mut rng))) {
            Ok(None) => {}
            Ok(Some(broken)) => panic!("fuzz {target}: seed {seed} case {n}: {broken}"),
            Err(_) => panic!("fuzz {target}: seed {seed} case {n} panicked (see above)"),
        }
    }
}

/// A random complete type, at most `depth` containers deep.
fn gen_sig(r: &mut Rng, depth: usize) -> String {
    const BASIC: &[&str] = &["y", "b", "n", "q", "i", "u", "x", "t", "d", "s", "o", "g"];
    if depth == 0 || r.chance(55) {
        return r.pick(BASIC).to_string();
    }
    match r.below(4) {
        0 => format!("a{}", gen_sig(r, depth - 1)),
        1 => format!("a{{{}{}}}", r.pick(BASIC), gen_sig(r, depth - 1)),
        2 => {
            let n = 1 + r.below(3);
            let fields: String = (0..n).map(|_| gen_sig(r, depth - 1)).collect();
            format!("({fields})")
        }
        _ => "v".to_string(),
    }
}

/// Random bytes, or a small mutation of `base`.
fn gen_bytes(r: &mut Rng, base: &[u8]) -> Vec<u8> {
    if base.is_empty() || r.chance(30) {
        let n = r.below(64);
        return (0..n).map(|_| r.next() as u8).collect();
    }
    let mut b = base.to_vec();
    for _ in 0..1 + r.below(4) {
        match r.below(4) {
            0 if !b.is_empty() => {
                let i = r.below(b.len());
                b[i] = r.next() as u8;
            }
            1 if !b.is_empty() => {
                let i = r.below(b.len());
                b.truncate(i);
            }
            2 => b.push(r.next() as u8),
            _ if !b.is_empty() => {
                let i = r.below(b.len());
                b[i] ^= 0x80;
            }
            _ => {}
        }
    }
    b
}

/// A value of type `sig` (for seeding the decoder with valid encodings).
fn gen_value(r: &mut Rng, sig: &Sig, depth: usize) -> Data {
    match sig {
        Sig::Byte => Data::Byte(r.next() as u8),
        Sig::Bool => Data::Bool(r.chance(50)),
        Sig::I16 => Data::I16(r.next() as i16),
        Sig::U16 => Data::U16(r.next() as u16),
        Sig::I32 => Data::I32(r.next() as i32),
        Sig::U32 => Data::U32(r.next() as u32),
        Sig::I64 => Data::I64(r.next() as i64),
        Sig::U64 => Data::U64(r.next()),
        Sig::Double => Data::Double(f64::from_bits(r.next()).clamp(-1e300, 1e300)),
        Sig::Str => Data::Str(["", "a", "é€", "x y"][r.below(4)].to_string()),
        Sig::Path => Data::Path(["/", "/a", "/a/b_1"][r.below(3)].to_string()),
        Sig::Signature => Data::Signature(["", "s", "a{sv}"][r.below(3)].to_string()),
        Sig::Array(elem) => {
            let n = if depth > 3 { 0 } else { r.below(3) };
            Data::Array {
                elem: (**elem).clone(),
                items: (0..n).map(|_| gen_value(r, elem, depth + 1)).collect(),
            }
        }
        Sig::Dict(k, v) => {
            let n = if depth > 3 { 0 } else { r.below(3) };
            Data::Dict {
                key: (**k).clone(),
                value: (**v).clone(),
                entries: (0..n)
                    .map(|_| (gen_value(r, k, depth + 1), gen_value(r, v, depth + 1)))
                    .collect(),
            }
        }
        Sig::Struct(fields) => {
            Data::Struct(fields.iter().map(|f| gen_value(r, f, depth + 1)).collect())
        }
        Sig::Variant => Data::Variant(Box::new(Data::U32(r.next() as u32))),
        Sig::Fd => Data::U32(0),
    }
}

#[test]
fn fuzz_wire_decoder_never_panics_and_round_trips() {
    run("wire", |r| {
        let text: String = (0..1 + r.below(3)).map(|_| gen_sig(r, 4)).collect();
        let sigs = Sig::parse_list(&text).ok()?;
        // A valid encoding of random values, then (mostly) a mutation of it.
        let values: Vec<Data> = sigs.iter().map(|s| gen_value(r, s, 0)).collect();
        let (valid, _fds) = wire::encode(&values).ok()?;
        let endian = if r.chance(50) {
            Endian::Little
        } else {
            Endian::Big
        };
        let bytes = if r.chance(20) {
            valid.clone()
        } else {
            gen_bytes(r, &valid)
        };
        let bytes = if endian == Endian::Big && bytes == valid {
            // Our encoder writes little-endian; only compare values for that case.
            return None;
        } else {
            bytes
        };
        match wire::decode(&bytes, endian, &sigs, &[]) {
            Ok(decoded)
                if bytes == valid
                    && endian == Endian::Little
                    && wire::encode(&decoded).ok().map(|e| e.0) != Some(valid.clone()) =>
            {
                Some(format!("{text}: decoded {decoded:?}, encoded {values:?}"))
            }
            Ok(decoded) => {
                // Whatever decodes, encodes back to the same values (compared as bytes:
                // a NaN is not equal to itself).
                let (again, _) = wire::encode(&decoded).ok()?;
                let back = wire::decode(&again, Endian::Little, &sigs, &[]).ok()?;
                let (twice, _) = wire::encode(&back).ok()?;
                (twice != again).then(|| format!("{text}: {decoded:?} came back as {back:?}"))
            }
            Err(_) => None,
        }
    });
}

#[test]
fn fuzz_signatures_parse_or_refuse_and_print_back() {
    const CHARS: &[u8] = b"ybnqiuxtdsogvha(){}";
    run("signature", |r| {
        let text: String = if r.chance(50) {
            (0..r.below(40)).map(|_| *r.pick(CHARS) as char).collect()
        } else {
            (0..1 + r.below(3)).map(|_| gen_sig(r, 6)).collect()
        };
        let sigs = Sig::parse_list(&text).ok()?;
        let printed = crate::bus::sig::sig_list_string(&sigs);
        (printed != text).then(|| format!("{text:?} printed back as {printed:?}"))
    });
}

#[test]
fn fuzz_busctl_notation_never_panics() {
    const WORDS: &[&str] = &[
        "0",
        "1",
        "2",
        "-1",
        "0x10",
        "1e400",
        "nan",
        "true",
        "maybe",
        "s",
        "v",
        "as",
        "a{sv}",
        "(s)",
        "/a",
        "relative",
        "",
        "é",
        "18446744073709551616",
        "--",
        "ay",
    ];
    run("busctl notation", |r| {
        let sig = if r.chance(70) {
            gen_sig(r, 4)
        } else {
            (0..r.below(10))
                .map(|_| *r.pick(b"asv{}()iuyx") as char)
                .collect()
        };
        let words: Vec<String> = (0..r.below(12))
            .map(|_| r.pick(WORDS).to_string())
            .collect();
        let _ = crate::busctl::args::parse_args(&sig, &words);
        None
    });
}

#[test]
fn fuzz_lexer_and_parser_are_total() {
    const PIECES: &[&str] = &[
        "x", "1", "(", ")", "[", "]", "{", "}", ",", ".", ":", ";", "=", "==", "<", "+", "-", "*",
        "**", "/", "//", "%", "'a'", "\"b", "b'c'", "#c", "\n", " ", "\t", "not", "in", "and",
        "or", "with", "as", "import", "from", "True", "None", "!ls", "call", "busctl", "tree",
        "--", "-q", "é", "\\", "0x", "1e", "_", "lambda", "def", "if", "else",
    ];
    let is_command = |w: &str| matches!(w, "call" | "busctl" | "tree");
    run("lexer/parser", |r| {
        let src: String = (0..r.below(30)).map(|_| *r.pick(PIECES)).collect();
        let toks = crate::lang::lexer::lex(&src, &is_command);
        // Spans are in bounds and ordered.
        let mut last = 0;
        for t in &toks {
            if t.span.start < last || t.span.end > src.len() || t.span.start > t.span.end {
                return Some(format!("{src:?}: bad span {:?}", t.span));
            }
            last = t.span.start;
        }
        let _ = crate::lang::parser::parse(&src, &is_command);
        None
    });
}

/// A random expression over a small vocabulary (no objects: nothing reaches a bus).
fn gen_expr(r: &mut Rng, depth: usize) -> String {
    const ATOMS: &[&str] = &[
        "0", "1", "2", "-3", "7", "2**62", "2**127", "-2**127", "1.5", "-0.0", "1e308", "None",
        "True", "False", "'x'", "'ab c'", "b'\\x00'", "''", "a", "b", "c", "[]", "{}", "()",
        "[1, 2]", "{'k': 1}", "(1,)", "{1, 2}", "range(5)", "'%s'",
    ];
    const UNARY: &[&str] = &["-", "not ", "+", "~"];
    const BINARY: &[&str] = &[
        " + ", " - ", " * ", " / ", " // ", " % ", " ** ", " == ", " < ", " >= ", " and ", " or ",
        " in ", " not in ", " is ", " & ", " | ", " ^ ", " << ", " >> ",
    ];
    const CALLS: &[&str] = &[
        "len",
        "str",
        "int",
        "float",
        "repr",
        "sorted",
        "list",
        "tuple",
        "set",
        "abs",
        "min",
        "max",
        "sum",
        "bool",
        "hex",
        "range",
        "enumerate",
        "zip",
        "reversed",
        "any",
        "all",
        "dict",
        "round",
        "chr",
        "ord",
        "type",
        "hash",
    ];
    const METHODS: &[&str] = &[
        "split()",
        "upper()",
        "join(['a'])",
        "strip()",
        "append(1)",
        "pop()",
        "keys()",
        "items()",
        "get(1)",
        "count(1)",
        "index(1)",
        "format(1)",
        "replace('a', 'b')",
        "copy()",
        "extend([1])",
        "startswith('a')",
        "add(1)",
        "update({})",
        "find('a')",
    ];
    if depth == 0 || r.chance(30) {
        return r.pick(ATOMS).to_string();
    }
    let d = depth - 1;
    match r.below(12) {
        0 => format!("{}({})", r.pick(UNARY), gen_expr(r, d)),
        1..=3 => format!("({}{}{})", gen_expr(r, d), r.pick(BINARY), gen_expr(r, d)),
        4 => format!("{}({})", r.pick(CALLS), gen_expr(r, d)),
        5 => format!("({}).{}", gen_expr(r, d), r.pick(METHODS)),
        6 => format!("[{} for x in range({})]", gen_expr(r, d), r.below(4)),
        7 => format!("({})[{}]", gen_expr(r, d), gen_expr(r, d)),
        8 => format!("({})[{}:{}]", gen_expr(r, d), r.below(5), gen_expr(r, d)),
        9 => format!(
            "({} if {} else {})",
            gen_expr(r, d),
            gen_expr(r, d),
            gen_expr(r, d)
        ),
        10 => format!("(lambda x, *y: {})({})", gen_expr(r, d), gen_expr(r, d)),
        _ => format!("f'{{{}}}{{{}!r:>5}}'", gen_expr(r, d), gen_expr(r, d)),
    }
}

/// A random statement (bounded loops only, so every program ends).
fn gen_stmt(r: &mut Rng, depth: usize) -> String {
    const NAMES: &[&str] = &["a", "b", "c"];
    let ind = |s: String| -> String {
        s.lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let d = depth.saturating_sub(1);
    match r.below(if depth == 0 { 4 } else { 10 }) {
        0 | 1 => format!("{} = {}", r.pick(NAMES), gen_expr(r, 3)),
        2 => format!("{} += {}", r.pick(NAMES), gen_expr(r, 2)),
        3 => gen_expr(r, 3),
        4 => format!(
            "if {}:\n{}\nelse:\n{}",
            gen_expr(r, 2),
            ind(gen_stmt(r, d)),
            ind(gen_stmt(r, d))
        ),
        5 => format!(
            "for {} in range({}):\n{}",
            r.pick(NAMES),
            r.below(5),
            ind(gen_stmt(r, d))
        ),
        6 => format!(
            "try:\n{}\nexcept Exception as e:\n    a = str(e)\nfinally:\n    pass",
            ind(gen_stmt(r, d))
        ),
        7 => format!(
            "def f(x, y=1):\n{}\n    return x\nf({})",
            ind(gen_stmt(r, d)),
            gen_expr(r, 2)
        ),
        8 => format!("del {}", r.pick(NAMES)),
        _ => format!("{}, *{} = {}", r.pick(NAMES), r.pick(NAMES), gen_expr(r, 2)),
    }
}

#[test]
fn fuzz_evaluator_never_panics() {
    use std::rc::Rc;

    use crate::bus::connection::BusTarget;
    use crate::bus::session::Session;
    use crate::lang::interp::Interp;
    use crate::term::Term;

    struct NoCommands;
    impl crate::lang::command::Commands for NoCommands {
        fn is_command(&self, _: &str) -> bool {
            false
        }
        fn run(
            &self,
            _: &mut crate::lang::command::Context<'_>,
            name: &str,
            _: &[String],
        ) -> Result<crate::lang::value::Value, crate::lang::error::Error> {
            Err(crate::lang::error::Error::new(format!("no command {name}")))
        }
    }
    // The interpreter's recursion needs the main thread's stack, as the program has.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let session = Session::new(
                BusTarget::Address("unix:path=/nonexistent/rustemd-fuzz".into()),
                std::time::Duration::from_millis(100),
            );
            let term = Term {
                color: false,
                color_err: false,
                tty: false,
                full: false,
            };
            let mut it = Interp::new(Rc::new(session), Rc::new(NoCommands), term);
            it.out = Box::new(std::io::sink());
            it.stack_budget = 200 << 20;
            let (mut ok, mut failed) = (0u64, 0u64);
            // Some programs run for ever (`sum(range(2**62))`, as in Python): a watchdog presses
            // Ctrl-C for this thread when a case has run for 300 ms, which also checks that
            // Ctrl-C stops whatever the evaluator is doing.
            let me = std::thread::current().id();
            let started = std::sync::Arc::new(std::sync::Mutex::new(None::<std::time::Instant>));
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let watchdog = {
                let (started, done) = (started.clone(), done.clone());
                std::thread::spawn(move || {
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        let mut s = started.lock().unwrap_or_else(|e| e.into_inner());
                        if s.is_some_and(|t| t.elapsed() > std::time::Duration::from_millis(300)) {
                            crate::term::signals::raise_interrupt(me);
                            *s = None;
                        }
                    }
                })
            };
            let (mut stopped, mut slowest) = (0u64, std::time::Duration::ZERO);
            let seed = seed();
            // Programs are costlier than decoding: one per 40 cases.
            for n in 0..cases().div_ceil(40) {
                let mut r = Rng::new(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let src: Vec<String> = (0..1 + r.below(4)).map(|_| gen_stmt(&mut r, 2)).collect();
                let src = src.join("\n");
                let _ = it.run_source("a = 1; b = 'xy'; c = [1, 2]");
                if std::env::var_os("RUSTEMD_FUZZ_TRACE").is_some() {
                    eprintln!("--- case {n}\n{src}");
                }
                let t0 = std::time::Instant::now();
                *started.lock().unwrap_or_else(|e| e.into_inner()) = Some(t0);
                let r = catch_unwind(AssertUnwindSafe(|| it.run_source(&src)));
                *started.lock().unwrap_or_else(|e| e.into_inner()) = None;
                crate::term::signals::take_interrupt();
                slowest = slowest.max(t0.elapsed());
                match r {
                    Ok(Ok(())) => ok += 1,
                    Ok(Err(e)) if e.kind == crate::lang::error::Kind::Interrupted => stopped += 1,
                    Ok(Err(_)) => failed += 1,
                    Err(_) => panic!("fuzz evaluator: seed {seed} case {n} panicked on:\n{src}"),
                }
                // Ctrl-C must end any program quickly (the watchdog fires at 300 ms).
                assert!(
                    t0.elapsed() < std::time::Duration::from_secs(5),
                    "fuzz evaluator: seed {seed} case {n} ignored Ctrl-C:\n{src}"
                );
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = watchdog.join();
            eprintln!(
                "fuzz evaluator: {} programs: {ok} ran, {failed} raised, {stopped} stopped by \
                 Ctrl-C; the slowest took {slowest:?}",
                ok + failed + stopped
            );
        })
        .expect("thread")
        .join()
        .expect("the evaluator fuzz thread");
}
