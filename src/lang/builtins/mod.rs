//! Built-in functions and the pystemd-compatible namespaces.
//!
//! Each builtin is declared once, as data: its (dotted) name, its parameters and its help.
//! The parameter list is the only list of keyword names: calls are bound against it
//! ([`Args::bind`]), keyword completion offers it and the usage line is made from it.
//! `pystemd.systemd1.Unit` and `unit` share one function, so pasted pystemd code and short
//! shell spellings behave the same.
//!
//! The tables are split by family ([`core`]: Python's builtins and D-Bus types; [`methods`]:
//! methods of values; [`pystemd`]: objects and the pystemd namespaces; [`time`], [`os`],
//! [`sys`]: those modules; [`script`]: running scripts); [`all`] is every builtin. A module is
//! made of the builtins whose names start with its name (`time.sleep` makes `time`), so a new
//! module (`signal`, `subprocess`, `pystemd.daemon`) is a new family file registered in
//! [`TABLES`]: `import` finds it, completion lists it. A module's values (`os.environ`,
//! `sys.argv`, `signal.SIGABRT`) are [`Func::Attr`] entries, computed when read.
//!
//! Parameter syntax: `name` (required), `name=DEFAULT` (optional; DEFAULT is only shown),
//! `*name` (the remaining positional arguments; parameters after it are keyword-only).

pub use methods::{call_value_method, value_method, value_method_names};
pub use os::environ;

use crate::lang::error::{Error, Kind, PyExc};
use crate::lang::interp::{Interp, did_you_mean};
use crate::lang::value::Value;

/// Positional and keyword arguments of a call, as written.
#[derive(Debug, Default)]
pub struct Args {
    pub pos: Vec<Value>,
    pub kw: Vec<(String, Value)>,
}

/// Arguments bound to a builtin's parameters.
#[derive(Debug)]
pub struct Bound {
    pub f: &'static Builtin,
    /// One slot per named parameter, in declaration order (`*rest` excluded).
    slots: Vec<Option<Value>>,
    /// What `*rest` collected.
    pub rest: Vec<Value>,
    /// What `**kwargs` collected.
    pub kwargs: Vec<(String, Value)>,
}

type R<T> = Result<T, Error>;

impl Args {
    /// Bind to `f`'s parameters: positionals fill parameters in order (the rest go to `*rest`
    /// if declared), keywords by name. Unknown, duplicate and missing arguments are errors
    /// that show the usage.
    pub fn bind(self, f: &'static Builtin) -> R<Bound> {
        let names: Vec<&str> = f.named_params().collect();
        let positional = f.positional_count();
        let mut slots: Vec<Option<Value>> = vec![None; names.len()];
        let mut rest = Vec::new();
        for (n, v) in self.pos.into_iter().enumerate() {
            if n < positional {
                slots[n] = Some(v);
            } else if f.has_rest() {
                rest.push(v);
            } else {
                return Err(Error::type_error(format!(
                    "{}() takes at most {positional} positional argument{}, got more (usage: {})",
                    f.name,
                    if positional == 1 { "" } else { "s" },
                    f.usage()
                )));
            }
        }
        let mut kwargs = Vec::new();
        for (k, v) in self.kw {
            let Some(i) = names.iter().position(|n| *n == k) else {
                if f.has_kwargs() {
                    kwargs.push((k, v));
                    continue;
                }
                return Err(Error::type_error(format!(
                    "{}() got an unexpected keyword argument '{k}'{} (usage: {})",
                    f.name,
                    did_you_mean(&k, names.iter().copied()),
                    f.usage()
                )));
            };
            if slots[i].is_some() {
                return Err(Error::type_error(format!(
                    "{}() got multiple values for argument '{k}'",
                    f.name
                )));
            }
            slots[i] = Some(v);
        }
        for (i, p) in f.named_params_raw().enumerate() {
            if slots[i].is_none() && !p.contains('=') {
                return Err(Error::type_error(format!(
                    "{}() is missing argument '{}' (usage: {})",
                    f.name,
                    names[i],
                    f.usage()
                )));
            }
        }
        Ok(Bound {
            f,
            slots,
            rest,
            kwargs,
        })
    }
}

impl Bound {
    /// The argument for parameter `i` (declaration order), if given.
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.slots.get(i).and_then(Option::as_ref)
    }

    /// The argument for the parameter called `name`, if given.
    pub fn named(&self, name: &str) -> Option<&Value> {
        let i = self.f.named_params().position(|n| n == name)?;
        self.get(i)
    }

    /// A required text argument.
    pub fn text(&self, i: usize) -> R<String> {
        let name = self.f.named_params().nth(i).unwrap_or("argument");
        let v = self.get(i).ok_or_else(|| {
            Error::type_error(format!(
                "{}() is missing argument '{name}' (usage: {})",
                self.f.name,
                self.f.usage()
            ))
        })?;
        v.as_text().ok_or_else(|| {
            Error::type_error(format!(
                "{}(): '{name}' must be a string, got {}",
                self.f.name,
                v.type_name()
            ))
        })
    }

    /// Is the named parameter given and true?
    pub fn flag(&self, name: &str) -> bool {
        self.named(name).is_some_and(Value::truthy)
    }

    /// The one required argument of a single-argument builtin.
    pub fn one(&self) -> &Value {
        // `bind` checked it is there.
        self.get(0).unwrap_or(&Value::None)
    }
}

/// How a builtin runs.
pub enum Func {
    /// Builds a value from its arguments alone: no bus traffic, no output. Completion runs
    /// these to know what `unit('x.service').` is.
    Pure(fn(&Bound) -> R<Value>),
    /// Needs the interpreter: the bus, output, variables.
    Eval(fn(&mut Interp, Bound) -> R<Value>),
    /// A module's value rather than a function (`os.environ`, `sys.argv`), computed when
    /// read.
    Attr(fn(&mut Interp) -> R<Value>),
}

pub struct Builtin {
    /// Full dotted name: `unit`, `pystemd.systemd1.Unit`, `os.getpid`.
    pub name: &'static str,
    /// Parameters in order (see the module docs for the syntax).
    pub params: &'static [&'static str],
    pub help: &'static str,
    pub func: Func,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<builtin {}>", self.name)
    }
}

impl Builtin {
    /// Declared parameters other than `*rest`, as written (`bus=None`).
    fn named_params_raw(&self) -> impl Iterator<Item = &'static str> {
        self.params.iter().copied().filter(|p| !p.starts_with('*'))
    }

    /// Names of the parameters other than `*rest` (`bus`): what keywords may be given.
    pub fn named_params(&self) -> impl Iterator<Item = &'static str> {
        self.named_params_raw()
            .map(|p| p.split('=').next().unwrap_or(p))
    }

    fn has_rest(&self) -> bool {
        self.params
            .iter()
            .any(|p| p.starts_with('*') && !p.starts_with("**"))
    }

    fn has_kwargs(&self) -> bool {
        self.params.iter().any(|p| p.starts_with("**"))
    }

    /// How many parameters positional arguments fill (those before `*rest`).
    fn positional_count(&self) -> usize {
        self.params
            .iter()
            .position(|p| p.starts_with('*'))
            .unwrap_or(self.params.len())
    }

    /// `unit(name, bus=None, _autoload=False)`; a module value is just its name.
    pub fn usage(&self) -> String {
        match self.func {
            Func::Attr(_) => self.name.to_string(),
            _ => format!("{}({})", self.name, self.params.join(", ")),
        }
    }
}

/// Modules bound at start, as the workshop's pystemd-shell has them imported.
pub const PRELOADED: &[&str] = &["pystemd", "os", "sys", "subprocess"];

/// The exception a call of class `c` makes (`ValueError("bad")`).
pub fn make_exception(c: PyExc, args: Vec<Value>) -> Error {
    let message = match args.as_slice() {
        [] => String::new(),
        [one] => one.to_display(),
        many => Value::tuple(many.to_vec()).repr(),
    };
    let kind = match c {
        PyExc::SystemExit => Kind::Exit(match args.first() {
            None | Some(Value::None) => 0,
            Some(Value::Int(i, _)) => i32::try_from(*i).unwrap_or(1),
            Some(_) => 1,
        }),
        PyExc::KeyboardInterrupt => Kind::Interrupted,
        c => Kind::Py(c),
    };
    Error {
        kind,
        args,
        ..Error::new(message)
    }
}

/// A builtin name: a function, or an exception class.
pub fn root(name: &str) -> Option<Value> {
    if let Some(b) = all().find(|b| b.name == name) {
        return Some(Value::Builtin(b));
    }
    PyExc::from_name(name).map(Value::ExcClass)
}

/// Every builtin name (for completion and "did you mean").
pub fn root_names() -> impl Iterator<Item = &'static str> {
    all()
        .map(|b| b.name)
        .filter(|n| !n.contains('.'))
        .chain(crate::lang::prelude::ROOT_NAMES.iter().copied())
        .chain(PyExc::ALL.iter().map(|c| c.name()))
}

macro_rules! pure {
    ($name:expr, [$($p:expr),*], $help:expr, $f:expr) => {
        Builtin { name: $name, params: &[$($p),*], help: $help, func: Func::Pure($f) }
    };
}
macro_rules! attr {
    ($name:expr, $help:expr, $f:expr) => {
        Builtin {
            name: $name,
            params: &[],
            help: $help,
            func: Func::Attr($f),
        }
    };
}
macro_rules! eval {
    ($name:expr, [$($p:expr),*], $help:expr, $f:expr) => {
        Builtin { name: $name, params: &[$($p),*], help: $help, func: Func::Eval($f) }
    };
}

mod core;
mod daemon;
mod futures;
mod menu;
mod methods;
mod os;
mod pystemd;
mod run;
mod script;
mod signal;
mod subprocess;
mod sys;
mod time;

pub use menu::shown as menu_demo;

/// Builtins that run when their name is typed alone (the menu, `daemon_demo_service`).
pub fn autocall(b: &Builtin) -> bool {
    menu::autocall(b) || daemon::autocall(b)
}

pub use futures::worker;
pub use run::{confirm_self_stop, property_unit, unit_name_of, unit_property_list};
pub use signal::{signal_frame, signal_handler};
pub use subprocess::{Waited, wait_child};

/// The tables of builtins, by family.
static TABLES: &[&[Builtin]] = &[
    core::BUILTINS,
    pystemd::BUILTINS,
    run::BUILTINS,
    menu::BUILTINS,
    time::BUILTINS,
    os::BUILTINS,
    sys::BUILTINS,
    script::BUILTINS,
    daemon::BUILTINS,
    signal::BUILTINS,
    subprocess::BUILTINS,
    futures::BUILTINS,
];

/// Every builtin.
pub fn all() -> impl Iterator<Item = &'static Builtin> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// The builtin with this full dotted name.
pub fn find(name: &str) -> Option<&'static Builtin> {
    all().find(|b| b.name == name)
}

/// Attribute `name` of module `m`: a builtin or a deeper namespace.
pub fn module_attr(m: &str, name: &str) -> Option<Value> {
    let full = format!("{m}.{name}");
    if let Some(b) = all().find(|b| b.name == full) {
        return Some(Value::Builtin(b));
    }
    let prefix = format!("{full}.");
    all()
        .find(|b| b.name.starts_with(&prefix))
        .map(|b| Value::Module(&b.name[..full.len()]))
}

/// A dotted name such as `pystemd.systemd1.Unit` or `os`: a builtin or a namespace.
pub fn resolve_dotted(name: &str) -> Option<Value> {
    let mut parts = name.split('.');
    let root = parts.next()?;
    let prefix = format!("{root}.");
    let module = all().find_map(|b| {
        b.name
            .strip_prefix(prefix.as_str())
            .map(|_| &b.name[..root.len()])
    })?;
    let mut v = Value::Module(module);
    for p in parts {
        let Value::Module(m) = v else { return None };
        v = module_attr(m, p)?;
    }
    Some(v)
}

/// Names directly inside module `m` (for completion and `dir`).
pub fn module_names(m: &str) -> Vec<&'static str> {
    let prefix = format!("{m}.");
    let mut out: Vec<&'static str> = all()
        .filter_map(|b| b.name.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split('.').next().unwrap_or(rest))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pos: Vec<Value>, kw: Vec<(&str, Value)>) -> Args {
        Args {
            pos,
            kw: kw.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }

    fn find(name: &str) -> &'static Builtin {
        super::find(name).unwrap()
    }

    #[test]
    fn binding_follows_the_declared_parameters() {
        let unit = find("unit");
        assert_eq!(
            unit.usage(),
            "unit(name, bus=None, _autoload=False, machine=None, host=None)"
        );
        let b = args(
            vec![Value::str("x.service")],
            vec![("_autoload", Value::Bool(true))],
        )
        .bind(unit)
        .unwrap();
        assert_eq!(b.text(0).unwrap(), "x.service");
        assert!(b.flag("_autoload"));
        let pyunit = find("pystemd.systemd1.Unit");
        let b = args(vec![], vec![("external_id", Value::str("y.service"))])
            .bind(pyunit)
            .unwrap();
        assert_eq!(b.text(0).unwrap(), "y.service");
        let errors = [
            (args(vec![], vec![]), "is missing argument 'name'"),
            (
                args(
                    vec![
                        Value::str("a"),
                        Value::None,
                        Value::None,
                        Value::None,
                        Value::None,
                        Value::None,
                    ],
                    vec![],
                ),
                "takes at most 5 positional arguments",
            ),
            (
                args(vec![], vec![("nmae", Value::str("a"))]),
                "unexpected keyword argument 'nmae' (did you mean name?)",
            ),
            (
                args(vec![Value::str("a")], vec![("name", Value::str("b"))]),
                "multiple values for argument 'name'",
            ),
            // The spelling pystemd uses for Unit is not a keyword of unit().
            (
                args(vec![], vec![("external_id", Value::str("a"))]),
                "unexpected keyword argument 'external_id'",
            ),
        ];
        for (a, want) in errors {
            let e = a.bind(unit).unwrap_err().message;
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn star_parameters_collect_the_rest() {
        let print = find("print");
        let b = args(
            vec![Value::int(1), Value::int(2)],
            vec![("sep", Value::str("-"))],
        )
        .bind(print)
        .unwrap();
        assert_eq!(b.rest.len(), 2);
        assert_eq!(b.named("sep"), Some(&Value::str("-")));
        assert_eq!(
            print.named_params().collect::<Vec<_>>(),
            ["sep", "end", "file", "flush"]
        );
    }

    #[test]
    fn every_builtin_has_a_distinct_name() {
        let mut names: Vec<&str> = all().map(|b| b.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
