//! Evaluator tests: each construct and each error, without a bus.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use super::Interp;
use crate::bus::connection::BusTarget;
use crate::bus::session::Session;
use crate::lang::command::{Commands, Context};
use crate::lang::error::{Error, Kind, PyExc};
use crate::lang::value::Value;
use crate::term::Term;

/// Commands that print their name and words.
struct Echo;

impl Commands for Echo {
    fn is_command(&self, word: &str) -> bool {
        matches!(word, "list" | "tree" | "ls" | "env")
    }

    fn run(&self, ctx: &mut Context<'_>, name: &str, words: &[String]) -> Result<Value, Error> {
        writeln!(ctx.out, "<{name} {}>", words.join(" "))?;
        Ok(Value::None)
    }
}

#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn interp() -> (Interp, Buf) {
    let session = Session::new(
        BusTarget::Address("unix:path=/nonexistent/rustemd-test".into()),
        Duration::from_secs(1),
    );
    let term = Term {
        color: false,
        color_err: false,
        tty: false,
        full: false,
    };
    let mut it = Interp::new(Rc::new(session), Rc::new(Echo), term);
    let buf = Buf::default();
    it.out = Box::new(buf.clone());
    (it, buf)
}

/// Run `src` (inputs separated by `\n###\n` run one after the other, as typed at the
/// prompt); its output, or `error: CLASS: message`. It runs on a thread with a large stack,
/// as the program's main thread has (debug builds use far more stack per call).
fn run(src: &str) -> String {
    let src = src.to_string();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let (mut it, buf) = interp();
            it.stack_budget = 200 << 20;
            let mut r = Ok(());
            let mut last = "";
            for chunk in src.split("\n###\n") {
                last = chunk;
                r = it.run_source(chunk);
                if r.is_err() {
                    break;
                }
            }
            let mut out = String::from_utf8_lossy(&buf.0.borrow()).into_owned();
            if let Err(e) = r {
                out.push_str(&format!("error: {}", e.render(last, false)));
            }
            out
        })
        .expect("thread")
        .join()
        .expect("no panic")
}

#[test]
fn evaluation_table() {
    let rows: &[(&str, &str)] = &[
        // blocks
        (
            "if 1 < 2:\n    print('yes')\nelse:\n    print('no')",
            "yes\n",
        ),
        (
            "x = 5\nif x < 3: print('a')\nelif x < 10: print('b')\nelse: print('c')",
            "b\n",
        ),
        (
            "i = 0\nwhile i < 3:\n    i += 1\nelse:\n    print('done', i)",
            "done 3\n",
        ),
        (
            "i = 0\nwhile True: i += 1; print(i) if i == 2 else None; break\ni",
            "1\n",
        ),
        ("for i in range(3): print(i)", "0\n1\n2\n"),
        (
            "for k, v in {'a': 1, 'b': 2}.items():\n    print(k, v)",
            "a 1\nb 2\n",
        ),
        (
            "for i in range(10):\n    if i % 2: continue\n    if i > 4: break\n    print(i)\nelse:\n    print('no')",
            "0\n2\n4\n",
        ),
        ("for (a, b), c in [((1, 2), 3)]: print(a + b + c)", "6\n"),
        // functions
        (
            "def f(a, b=2, *rest, c=3, **kw):\n    return (a, b, rest, c, kw)\nf(1)",
            "(1, 2, (), 3, {})\n",
        ),
        (
            "def f(a, b=2, *rest, c=3, **kw):\n    return (a, b, rest, c, kw)\nf(1, 5, 6, 7, c=8, d=9)",
            "(1, 5, (6, 7), 8, {'d': 9})\n",
        ),
        (
            "def f(*a, **k): return a, k\nf(*[1, 2], **{'x': 3})",
            "((1, 2), {'x': 3})\n",
        ),
        (
            "def fact(n): return 1 if n <= 1 else n * fact(n - 1)\nfact(20)",
            "2432902008176640000\n",
        ),
        (
            "def adder(n):\n    return lambda x: x + n\nadder(3)(4)",
            "7\n",
        ),
        (
            "def counter():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n        return n\n    return inc\nc = counter(); c(); c()",
            "1\n2\n",
        ),
        ("x = 1\ndef f():\n    global x\n    x = 2\nf(); x", "2\n"),
        (
            "f = lambda *x: print('time to eventually die', *x)\nf(6, None)",
            "time to eventually die 6 None\n",
        ),
        ("def f():\n    pass\nprint(f())", "None\n"),
        // expressions
        ("x = 3\n'big' if x > 2 else 'small'", "'big'\n"),
        ("[x * x for x in range(5) if x % 2 == 0]", "[0, 4, 16]\n"),
        (
            "{k: v for k, v in [('a', 1), ('b', 2)]}",
            "{'a': 1, 'b': 2}\n",
        ),
        ("{x % 3 for x in range(10)}", "{0, 1, 2}\n"),
        ("sum(x for x in range(101))", "5050\n"),
        (
            "[(x, y) for x in range(2) for y in 'ab']",
            "[(0, 'a'), (0, 'b'), (1, 'a'), (1, 'b')]\n",
        ),
        (
            "'hello'[1:4], 'hello'[::-1], [1, 2, 3][-2:]",
            "('ell', 'olleh', [2, 3])\n",
        ),
        ("a, *b, c = range(5)\nprint(a, b, c)", "0 [1, 2, 3] 4\n"),
        ("a = b = [1]\nb.append(2)\na", "[1, 2]\n"),
        ("x = 10\nx -= 3; x *= 2; x //= 3; x **= 2; x", "16\n"),
        ("l = [1]\nm = l\nl += [2]\nm", "[1, 2]\n"),
        (
            "d = {}\nd['k'] = d.get('k', 0) + 1\nd['k'] += 1\nd",
            "{'k': 2}\n",
        ),
        (
            "'ell' in 'hello', 3 not in [1, 2], 'a' in {'a': 1}",
            "(True, True, True)\n",
        ),
        (
            "x = 42\nf'{x} {x:>5} {x:#x} {x=} {x*2!r} {3.14159:.2f} {{}}'",
            "'42    42 0x2a x=42 84 3.14 {}'\n",
        ),
        ("w = 6\nf'[{\"ab\":^{w}}]'", "'[  ab  ]'\n"),
        ("'''a\nb''' + \"\"\"c\"\"\"", "'a\\nbc'\n"),
        (
            "1 < 2 < 3, 1 < 3 < 2, 5 > 4 >= 4 != 3",
            "(True, False, True)\n",
        ),
        (
            "n = 0\ndef f():\n    global n\n    n += 1\n    return 5\n1 < f() < 10\nn",
            "True\n1\n",
        ),
        ("7 & 3 | 8 ^ 1, ~5, 1 << 4, -17 >> 2", "(11, -6, 16, -5)\n"),
        ("'%s is %d (%.1f%%)' % ('x', 3, 99.5)", "'x is 3 (99.5%)'\n"),
        ("'{} and {name}'.format(1, name='b')", "'1 and b'\n"),
        // builtins
        (
            "list(enumerate('ab', 1)), list(zip([1, 2], 'xy'))",
            "([(1, 'a'), (2, 'b')], [(1, 'x'), (2, 'y')])\n",
        ),
        (
            "sorted([3, 1, 2], reverse=True), sorted(['bb', 'a'], key=len)",
            "([3, 2, 1], ['a', 'bb'])\n",
        ),
        (
            "min(3, 1, 2), max([4, 9, 2]), max('ab', 'c', key=len)",
            "(1, 9, 'ab')\n",
        ),
        ("any([0, 1]), all([]), all([1, 0])", "(True, True, False)\n"),
        (
            "isinstance(1, int), isinstance('x', (int, str)), isinstance(uint32(1), int)",
            "(True, True, True)\n",
        ),
        (
            "abs(-3), round(2.5), round(3.14159, 2), hex(255), hex(-1)",
            "(3, 2, 3.14, '0xff', '-0x1')\n",
        ),
        (
            "dict(a=1), tuple([1]), set([1, 1]), list('ab')",
            "({'a': 1}, (1,), {1}, ['a', 'b'])\n",
        ),
        (
            "hasattr('x', 'upper'), getattr([], 'nope', 7)",
            "(True, 7)\n",
        ),
        (
            "list(map(lambda x: x + 1, [1, 2])), list(filter(None, [0, 1, 2]))",
            "([2, 3], [1, 2])\n",
        ),
        (
            "len(range(10**12)), range(3)[-1], 4 in range(0, 10, 2)",
            "(1000000000000, 2, True)\n",
        ),
        (
            "int('ff', 16), int(' 7 '), int(-2.9), float('1e3')",
            "(255, 7, -2, 1000.0)\n",
        ),
        // methods
        (
            "' a b '.split(), 'a,b'.split(','), '-'.join(['a', 'b']), ' x '.strip()",
            "(['a', 'b'], ['a', 'b'], 'a-b', 'x')\n",
        ),
        (
            "'abc'.startswith(('x', 'a')), 'a b c'.split(None, 1), 'a b c'.rsplit(None, 1)",
            "(True, ['a', 'b c'], ['a b', 'c'])\n",
        ),
        (
            "l = [3, 1]\nl.append(2); l.sort(); l.insert(0, 9); l.pop(), l",
            "(3, [9, 1, 2])\n",
        ),
        (
            "d = {'a': 1}\nd.update(b=2); d.setdefault('c', 3); d.pop('a'), sorted(d.keys())",
            "3\n(1, ['b', 'c'])\n",
        ),
        (
            "s = {1}\ns.add(2); s.discard(5); s | {7}, s & {2}",
            "({1, 2, 7}, {2})\n",
        ),
        // exceptions
        (
            "try:\n    {}['x']\nexcept KeyError as e:\n    print('missing', e)",
            "missing 'x'\n",
        ),
        (
            "try:\n    1 / 0\nexcept (TypeError, ZeroDivisionError):\n    print('caught')\nfinally:\n    print('always')",
            "caught\nalways\n",
        ),
        (
            "try:\n    pass\nexcept Exception:\n    print('no')\nelse:\n    print('else')",
            "else\n",
        ),
        (
            "try:\n    raise ValueError('bad', 3)\nexcept ValueError as e:\n    print(e.args, type(e))",
            "('bad', 3) ValueError\n",
        ),
        (
            "def f():\n    try:\n        return 1\n    finally:\n        print('fin')\nf()",
            "fin\n1\n",
        ),
        (
            "try:\n    try:\n        raise KeyError('k')\n    except KeyError:\n        raise\nexcept LookupError as e:\n    print('outer', e)",
            "outer k\n",
        ),
        (
            "try:\n    exit(3)\nexcept Exception:\n    print('wrong')\nexcept SystemExit as e:\n    print('exit', e.code)",
            "exit 3\n",
        ),
        (
            "try:\n    undefined_name\nexcept NameError:\n    print('name')",
            "name\n",
        ),
        (
            "try:\n    import signal_not_there\nexcept ImportError as e:\n    print(e)",
            "module signal_not_there is not available in rustemd-shell\n",
        ),
        (
            "try:\n    assert 1 == 2, 'math'\nexcept AssertionError as e:\n    print(e)",
            "math\n",
        ),
        // commands inside blocks, variables win over commands
        ("for i in range(2): list", "<list >\n<list >\n"),
        ("if True:\n    tree a b\n    list", "<tree a b>\n<list >\n"),
        ("ls = 3\n###\nls", "3\n"),
        // modules
        (
            "import time\nt = time.time(); time.sleep(0.01); time.time() > t",
            "True\n",
        ),
        (
            "import os\nisinstance(os.environ, dict), os.getpid() == pid()",
            "(True, True)\n",
        ),
        (
            "import sys\nsys.stdout.write('hi\\n')\nsys.argv",
            "hi\n3\n[]\n",
        ),
        ("from time import sleep as zz\nzz(0)", ""),
        ("del_me = 1\ndel del_me\n'del_me' in dir()", "False\n"),
    ];
    let mut bad = Vec::new();
    for (src, want) in rows {
        let got = run(src);
        if got != *want {
            bad.push(format!("{src:?}\n   got: {got:?}\n  want: {want:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Errors name the class and the place; (src, fragment of the rendered error).
#[test]
fn error_table() {
    let rows: &[(&str, &str)] = &[
        ("x = 1\ny = x +", "line 2"),
        ("undefined", "NameError: name 'undefined' is not defined"),
        ("prnt(1)", "(did you mean print?)"),
        ("{}['k']", "KeyError: 'k'"),
        ("[1][5]", "IndexError: index 5 out of range"),
        ("1 / 0", "ZeroDivisionError"),
        (
            "'a' + 1",
            "TypeError: unsupported operand types for +: str and int",
        ),
        ("def f(a): pass\nf()", "f() is missing argument 'a'"),
        (
            "def f(a): pass\nf(1, 2)",
            "takes 1 positional argument but 2 were given",
        ),
        ("def f(a): pass\nf(b=1)", "unexpected keyword argument 'b'"),
        ("def f(): return f()\nf()", "RecursionError"),
        (
            "a, b = [1, 2, 3]",
            "ValueError: cannot unpack 3 values into 2 names",
        ),
        ("raise ValueError('boom')", "ValueError: boom"),
        ("raise", "no active exception"),
        (
            "import socket",
            "module socket is not available in rustemd-shell",
        ),
        (
            "import nosuch.thing",
            "module nosuch.thing is not available",
        ),
        (
            "from os import nothing",
            "cannot import name 'nothing' from os",
        ),
        ("[].pop()", "pop from an empty list"),
        ("int(-1e300) // -1", "OverflowError"),
        ("int(-1e300) % -1", "OverflowError"),
        ("-int(-1e300)", "OverflowError"),
        (
            "-(-170141183460469231731687303715884105727 - 1)",
            "OverflowError",
        ),
        (
            "(-170141183460469231731687303715884105727 - 1) // -1",
            "OverflowError",
        ),
        ("a = 'x' * 1048576\na * 1048576", "MemoryError"),
        (
            "('x' * 1048576).replace('x', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy')",
            "MemoryError",
        ),
        ("s = 'x' * 1048576\nwhile True: s = s + s", "MemoryError"),
        ("[0] * (1 << 40)", "MemoryError"),
        ("list(range(10**9))", "MemoryError"),
        ("{[1]: 2}", "unhashable type: 'list'"),
        (
            "except_me = 1\ntry:\n    1/0\nexcept nosuchlower:\n    pass",
            "name 'nosuchlower' is not defined",
        ),
        (
            "x = 5\nx.foo",
            "AttributeError: a int has no attribute 'foo'",
        ),
        ("time.sleep(-1)", "NameError"),
        ("import time\ntime.sleep(-1)", "non-negative"),
        ("def f():\n    x\nf()", "NameError"),
    ];
    let mut bad = Vec::new();
    for (src, frag) in rows {
        let got = run(src);
        if !got.contains(frag) {
            bad.push(format!("{src:?}\n   got: {got:?}\n  want: ..{frag}.."));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Issue 12, item 1: a comparison chain evaluates its middle operand once, so nesting costs
/// linear time and memory (this line took 2.3 GB and 6 s).
#[test]
fn nested_comparison_chains_evaluate_the_middle_operand_once() {
    let mut src = String::from("1");
    for _ in 0..22 {
        src = format!("1<({src})<1");
    }
    let (mut it, _) = interp();
    it.run_source(&src).expect("runs");
    // And a call in the middle runs once.
    assert_eq!(
        run("n = []\ndef f():\n    n.append(1)\n    return 2\n1 < f() < 3 < 4\nlen(n)"),
        "True\n1\n"
    );
}

/// Issue 12, item 6: Ctrl-C during CPU-bound evaluation raises KeyboardInterrupt at the
/// next loop iteration or call, which `except Exception` does not catch.
#[test]
fn ctrl_c_during_evaluation_raises_keyboard_interrupt() {
    let (mut it, _) = interp();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let me = std::thread::current().id();
    let t = std::thread::spawn(move || {
        while !s2.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
            crate::term::signals::raise_interrupt(me);
        }
    });
    let r =
        it.run_source("while True:\n    try:\n        x = 1\n    except Exception:\n        pass");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    t.join().unwrap();
    let e = r.unwrap_err();
    assert_eq!(e.kind, Kind::Interrupted);
    assert!(e.is_a(PyExc::KeyboardInterrupt) && !e.is_a(PyExc::Exception));
    crate::term::signals::clear_interrupt();
}

#[test]
fn deep_recursion_is_an_error_not_a_crash() {
    let r = run("def f(n): return f(n + 1)\nf(0)");
    assert!(r.contains("RecursionError"), "{r}");
    let r = run("x = []\nfor i in range(100000): x = [x]\nlen(x)");
    assert_eq!(r, "1\n");
}

#[test]
fn the_prelude_and_provided_objects() {
    let rows: &[(&str, &str)] = &[
        (
            "cpu_waste",
            "<function cpu_waste at src/lang/prelude/futures.rsh:6>\n",
        ),
        ("cpu_waste(0)\ntype(_)", "18446744073709551615\n'uint64'\n"),
        // Each prelude module sees its own names first: this `run` is not the builtin run().
        ("future_cpucap_pool.run(0)", "0\n"),
        (
            "future_cpucap_pool.main",
            "<function main at src/lang/prelude/future_cpucap_pool.rsh:15>\n",
        ),
        (
            "import future_cpucap_process as p\np.waste(0)\np.main.__name__",
            "'main'\n",
        ),
        // A variable of the same name wins.
        ("cpu_waste = 1\ncpu_waste", "1\n"),
        (
            "import signal\nsignal.SIG_DFL == 0, signal.SIG_IGN, type(signal.SIG_DFL), signal.SIGABRT",
            "(True, <Handlers.SIG_IGN: 1>, 'Handlers', 6)\n",
        ),
        (
            "import subprocess\np = subprocess.Popen(['true'])\np.wait(), type(p), p.returncode",
            "(0, 'Popen', 0)\n",
        ),
        (
            "import subprocess\nsubprocess.run(['echo', 'hi'], capture_output=True).stdout",
            "b'hi\\n'\n",
        ),
    ];
    for (src, want) in rows {
        assert_eq!(run(src), *want, "{src:?}");
    }
}

#[test]
fn functions_travel_as_their_dedented_source() {
    let (mut it, _buf) = interp();
    it.run_source("if True:\n    def f(x):\n        return x + 1\ng = lambda y: (y,\n    2)")
        .unwrap();
    let f = it.vars.borrow().get("f").cloned();
    let Some(Value::Function(f)) = f else {
        panic!("f is not a function")
    };
    assert_eq!(
        crate::lang::portable::function_source(&f),
        "def f(x):\n    return x + 1"
    );
    let g = it.vars.borrow().get("g").cloned();
    let Some(Value::Function(g)) = g else {
        panic!("g is not a function")
    };
    assert_eq!(
        crate::lang::portable::function_source(&g),
        "lambda y: (y,\n    2)"
    );
}

/// Found by the evaluator fuzzer: `() * 2**62` looped 2**62 times (and ignored Ctrl-C).
#[test]
fn repeating_an_empty_sequence_a_huge_number_of_times_is_empty() {
    assert_eq!(
        run("len(() * 2**62), len([] * 2**100), len('' * 2**62), len(b'' * 2**62)"),
        "(0, 0, 0, 0)\n"
    );
}

/// Found by the evaluator fuzzer: a list inside itself, several times over, printed as an
/// ever longer text (3**100 items) until memory ran out. Cycles print as `[...]`, as in
/// Python, and any repr stops at the text limit.
#[test]
fn a_container_inside_itself_prints_as_ellipsis_and_repr_is_bounded() {
    assert_eq!(
        run("c = [1, 2]\nc += [c for x in range(3)]\nc\nd = {}\nd['me'] = d\nd"),
        "[1, 2, [...], [...], [...]]\n{'me': {...}}\n"
    );
    let r = run("x = [1]\nfor i in range(80): x = [x, x]\nlen(repr(x)) < 70_000_000");
    assert_eq!(r, "True\n");
}
