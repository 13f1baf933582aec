//! What the globals a pickle names may do.
//!
//! Nothing is imported or run. A global pushed on the stack is only a name; it
//! matters when it is called (REDUCE), instantiated (NEWOBJ) or given a state
//! (BUILD):
//!
//! - the data constructors torch files need are interpreted: the tensor rebuild
//!   functions of `torch._utils`, `collections.OrderedDict`, `builtins.set`,
//!   `torch.Size`, NumPy scalars and dtypes (with `_codecs.encode` for their
//!   bytes), `copyreg._reconstructor` of a plain class;
//! - a class (a name that starts with a capital, from a module that is not
//!   blocked) instantiated without arguments becomes an inert [`Obj::Object`]:
//!   modules of any package path (`core.MLPActorCritic`, `torch.nn.modules.linear.Linear`)
//!   are recorded with their state, never constructed;
//! - anything else used as a callable is refused, naming it; globals of modules
//!   that can reach the system (`os`, `subprocess`, `builtins.eval`, ...) are refused
//!   as soon as they are named.

use super::pickle::{Arena, Dtype, Failure, Global, Id, Obj, TensorRef};

/// Modules no global may come from (the first dotted component is matched).
const BLOCKED_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "sys",
    "subprocess",
    "_posixsubprocess",
    "shutil",
    "socket",
    "pty",
    "runpy",
    "importlib",
    "imp",
    "ctypes",
    "cffi",
    "pickle",
    "_pickle",
    "cPickle",
    "dill",
    "marshal",
    "code",
    "codeop",
    "commands",
    "webbrowser",
    "multiprocessing",
    "threading",
    "_thread",
    "signal",
    "asyncio",
    "pdb",
    "bdb",
    "timeit",
    "trace",
    "cProfile",
    "profile",
    "tempfile",
    "io",
    "_io",
    "zipimport",
    "pkgutil",
    "functools",
    "operator",
    "types",
    "inspect",
    "glob",
    "pathlib",
    "urllib",
    "urllib2",
    "http",
    "httplib",
    "ftplib",
    "smtplib",
    "telnetlib",
    "requests",
    "sysconfig",
    "distutils",
    "setuptools",
    "pip",
    "gc",
    "site",
    "platform",
    "posixpath",
    "ntpath",
    "genericpath",
    "fileinput",
    "linecache",
    "tarfile",
    "zipfile",
    "sqlite3",
    "xmlrpc",
    "venv",
    "ensurepip",
];

/// The only `builtins` names allowed (as values or constructors).
const BUILTINS_ALLOWED: &[&str] = &["set", "frozenset", "object", "bytearray"];

/// Check a GLOBAL's module and name (mapping Python 2 names as Python 3's
/// unpickler does) and refuse it at once when it comes from a blocked module.
pub fn resolve(module: String, name: String) -> Result<Global, Failure> {
    let module = match module.as_str() {
        "__builtin__" => "builtins".to_string(),
        "copy_reg" => "copyreg".to_string(),
        _ => module,
    };
    let global = Global { module, name };
    let root = global.module.split('.').next().unwrap_or("");
    if BLOCKED_MODULES.contains(&root) {
        return Err(Failure::refused(
            global.full_name(),
            format!("module {root} is never allowed in a model file"),
        ));
    }
    if root == "builtins" && !BUILTINS_ALLOWED.contains(&global.name.as_str()) {
        return Err(Failure::refused(
            global.full_name(),
            "only set, frozenset, object and bytearray are allowed from builtins",
        ));
    }
    Ok(global)
}

/// A name that reads as a class: its last component starts with a capital.
fn is_class_name(global: &Global) -> bool {
    let last = global.name.rsplit('.').next().unwrap_or("");
    last.starts_with(|c: char| c.is_ascii_uppercase())
}

fn refuse_call(func: &Global) -> Failure {
    Failure::refused(
        func.full_name(),
        "calling it would run code; only data constructors (torch tensor rebuild functions, \
         OrderedDict, set, torch.Size, NumPy scalars) are interpreted",
    )
}

/// NEWOBJ: an inert instance of `class`.
pub fn instantiate(arena: &mut Arena, class: Global, args: Vec<Id>) -> Result<Id, Failure> {
    if class.is("collections", "OrderedDict") && args.is_empty() {
        return Ok(arena.push(Obj::Dict(Vec::new())));
    }
    if !is_class_name(&class) {
        return Err(Failure::refused(
            class.full_name(),
            "instantiating a name that is not a class",
        ));
    }
    Ok(arena.push(Obj::Object {
        class,
        args,
        state: None,
    }))
}

/// REDUCE: `func(*args)` for the data constructors this reader knows; a class
/// called without arguments is instantiated inertly; anything else is refused.
pub fn call(arena: &mut Arena, func: &Global, args: &[Id]) -> Result<Id, Failure> {
    let module = func.module.as_str();
    let name = func.name.as_str();
    match (module, name) {
        ("collections", "OrderedDict") => ordered_dict(arena, args),
        ("builtins", "set" | "frozenset") => {
            let items = match args {
                [] => Vec::new(),
                [items] => sequence(arena, *items, "set items")?,
                _ => return Err(arity(func, "0 or 1", args.len())),
            };
            Ok(arena.push(Obj::Set(items)))
        }
        ("torch", "Size") => {
            let items = match args {
                [] => Vec::new(),
                [items] => sequence(arena, *items, "torch.Size dimensions")?,
                _ => return Err(arity(func, "0 or 1", args.len())),
            };
            Ok(arena.push(Obj::Tuple(items)))
        }
        ("torch", "device") => device(arena, func, args),
        ("torch._utils", "_rebuild_tensor") => rebuild_tensor(arena, func, args, 4, None),
        ("torch._utils", "_rebuild_tensor_v2") => {
            if !(6..=7).contains(&args.len()) {
                return Err(arity(func, "6 or 7", args.len()));
            }
            check_metadata(arena, args.get(6).copied())?;
            rebuild_tensor(arena, func, args, 6, None)
        }
        ("torch._utils", "_rebuild_tensor_v3") => {
            if !(7..=8).contains(&args.len()) {
                return Err(arity(func, "7 or 8", args.len()));
            }
            check_metadata(arena, args.get(7).copied())?;
            let dtype = torch_dtype(arena, args[6])?;
            rebuild_tensor(arena, func, args, 7, Some(dtype))
        }
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
            let n = if name == "_rebuild_parameter" { 3 } else { 4 };
            if args.len() != n {
                return Err(arity(func, &n.to_string(), args.len()));
            }
            tensor_arg(arena, args[0], "the data of a Parameter")?;
            Ok(args[0])
        }
        ("torch._tensor", "_rebuild_from_type_v2") => rebuild_from_type(arena, func, args),
        ("numpy", "dtype") => {
            let Some(Some(name)) = args.first().map(|&a| arena.str(a)) else {
                return Err(Failure::malformed("numpy.dtype without a type name"));
            };
            let name = name.to_string();
            Ok(arena.push(Obj::NumpyDtype {
                name,
                byteorder: '=',
            }))
        }
        ("numpy.core.multiarray" | "numpy._core.multiarray", "scalar") => numpy_scalar(arena, args),
        ("_codecs", "encode") => encode(arena, args),
        ("copyreg", "_reconstructor") => reconstructor(arena, func, args),
        _ if args.is_empty() && is_class_name(func) => Ok(arena.push(Obj::Object {
            class: func.clone(),
            args: Vec::new(),
            state: None,
        })),
        _ => Err(refuse_call(func)),
    }
}

/// BUILD: record the state of an inert object (or a NumPy dtype's byte order).
pub fn build(arena: &mut Arena, target: Id, state: Id) -> Result<(), Failure> {
    // A NumPy dtype's state is (version, byteorder, ...).
    if let Obj::NumpyDtype { .. } = arena.get(target) {
        let order = match arena.get(state) {
            Obj::Tuple(items) => items.get(1).and_then(|&b| arena.str(b)).map(str::to_string),
            _ => None,
        };
        let order = order
            .and_then(|s| s.chars().next())
            .ok_or_else(|| Failure::malformed("a numpy.dtype state without a byte order"))?;
        if let Obj::NumpyDtype { byteorder, .. } = arena.get_mut(target) {
            *byteorder = order;
        }
        return Ok(());
    }
    let kind = arena.get(target).kind();
    match arena.get_mut(target) {
        Obj::Object { state: slot, .. } => {
            *slot = Some(state);
            Ok(())
        }
        _ => Err(Failure::refused(
            kind,
            "BUILD (setting the state) of a value that is not an instance",
        )),
    }
}

fn arity(func: &Global, expected: &str, got: usize) -> Failure {
    Failure::malformed(format!(
        "{} takes {expected} arguments, got {got}",
        func.full_name()
    ))
}

fn sequence(arena: &Arena, id: Id, what: &str) -> Result<Vec<Id>, Failure> {
    match arena.get(id) {
        Obj::List(items) | Obj::Tuple(items) | Obj::Set(items) => Ok(items.clone()),
        other => Err(Failure::malformed(format!(
            "{what} are a {}, not a sequence",
            other.kind()
        ))),
    }
}

fn ordered_dict(arena: &mut Arena, args: &[Id]) -> Result<Id, Failure> {
    let mut pairs = Vec::new();
    match args {
        [] => {}
        [items] => {
            for pair in sequence(arena, *items, "OrderedDict items")? {
                match arena.get(pair) {
                    Obj::Tuple(kv) | Obj::List(kv) if kv.len() == 2 => pairs.push((kv[0], kv[1])),
                    _ => return Err(Failure::malformed("an OrderedDict item is not a pair")),
                }
            }
        }
        _ => {
            return Err(Failure::malformed(format!(
                "OrderedDict takes 0 or 1 arguments, got {}",
                args.len()
            )))
        }
    }
    Ok(arena.push(Obj::Dict(pairs)))
}

fn device(arena: &mut Arena, func: &Global, args: &[Id]) -> Result<Id, Failure> {
    let name = match args {
        [d] => arena.str(*d).map(str::to_string),
        [d, i] => match (arena.str(*d), arena.int(*i)) {
            (Some(d), Some(i)) => Some(format!("{d}:{i}")),
            _ => None,
        },
        _ => None,
    };
    let name = name.ok_or_else(|| arity(func, "a device name and an index", args.len()))?;
    Ok(arena.push(Obj::Str(name)))
}

/// A non-negative integer argument.
fn index(arena: &Arena, id: Id, what: &str) -> Result<u64, Failure> {
    arena
        .int(id)
        .and_then(|i| u64::try_from(i).ok())
        .ok_or_else(|| {
            Failure::malformed(format!(
                "{what} is a {}, not a non-negative integer",
                arena.get(id).kind()
            ))
        })
}

fn indices(arena: &Arena, id: Id, what: &str) -> Result<Vec<u64>, Failure> {
    sequence(arena, id, what)?
        .into_iter()
        .map(|i| index(arena, i, what))
        .collect()
}

fn tensor_arg<'a>(arena: &'a Arena, id: Id, what: &str) -> Result<&'a TensorRef, Failure> {
    match arena.get(id) {
        Obj::Tensor(t) => Ok(t),
        other => Err(Failure::malformed(format!(
            "{what} is a {}, not a tensor",
            other.kind()
        ))),
    }
}

fn torch_dtype(arena: &Arena, id: Id) -> Result<Dtype, Failure> {
    match arena.get(id) {
        Obj::Global(g) if g.module == "torch" => Dtype::from_torch_name(&g.name)
            .ok_or_else(|| Failure::refused(g.full_name(), "a dtype this reader does not know")),
        other => Err(Failure::malformed(format!(
            "a tensor dtype is a {}, not a torch dtype",
            other.kind()
        ))),
    }
}

/// `_rebuild_tensor_v2(..., metadata)`: the conj/neg bits would change the
/// values, so only an absent or empty metadata dict is accepted.
fn check_metadata(arena: &Arena, metadata: Option<Id>) -> Result<(), Failure> {
    match metadata.map(|m| arena.get(m)) {
        None | Some(Obj::None) => Ok(()),
        Some(Obj::Dict(items)) if items.is_empty() => Ok(()),
        Some(_) => Err(Failure::refused(
            "tensor metadata",
            "conjugate or negative bits on a saved tensor",
        )),
    }
}

/// `(storage, storage_offset, size, stride, ...)`: the first four arguments of
/// every `_rebuild_tensor*` function; `n` is how many it takes (without the
/// optional metadata).
fn rebuild_tensor(
    arena: &mut Arena,
    func: &Global,
    args: &[Id],
    n: usize,
    dtype: Option<Dtype>,
) -> Result<Id, Failure> {
    if args.len() < n {
        return Err(arity(func, &n.to_string(), args.len()));
    }
    let storage_dtype = match arena.get(args[0]) {
        Obj::Storage(s) => s.dtype,
        other => {
            return Err(Failure::malformed(format!(
                "a tensor's storage is a {}",
                other.kind()
            )))
        }
    };
    let offset = index(arena, args[1], "a storage offset")?;
    let size = indices(arena, args[2], "a tensor size")?;
    let stride = indices(arena, args[3], "a tensor stride")?;
    if size.len() != stride.len() {
        return Err(Failure::malformed(format!(
            "a tensor of {} dimensions has {} strides",
            size.len(),
            stride.len()
        )));
    }
    Ok(arena.push(Obj::Tensor(TensorRef {
        storage: args[0],
        dtype: dtype.unwrap_or(storage_dtype),
        offset,
        size,
        stride,
    })))
}

/// `torch._tensor._rebuild_from_type_v2(func, new_type, args, state)`: a plain
/// Tensor or Parameter rebuilt by a rebuild function, with no extra state.
fn rebuild_from_type(arena: &mut Arena, func: &Global, args: &[Id]) -> Result<Id, Failure> {
    let [inner, new_type, inner_args, state] = args else {
        return Err(arity(func, "4", args.len()));
    };
    let inner = match arena.get(*inner) {
        Obj::Global(g) if g.module == "torch._utils" && g.name.starts_with("_rebuild_") => {
            g.clone()
        }
        other => {
            return Err(Failure::refused(
                other.kind(),
                "rebuilding a tensor with it",
            ))
        }
    };
    match arena.get(*new_type) {
        Obj::Global(g)
            if g.is("torch", "Tensor")
                || g.is("torch._tensor", "Tensor")
                || g.is("torch.nn.parameter", "Parameter") => {}
        other => {
            return Err(Failure::refused(
                other.kind(),
                "a tensor subclass (only torch.Tensor and Parameter are read)",
            ))
        }
    }
    match arena.get(*state) {
        Obj::None => {}
        Obj::Dict(items) if items.is_empty() => {}
        _ => {
            return Err(Failure::refused(
                "tensor attributes",
                "a saved tensor with Python attributes",
            ))
        }
    }
    let items = match arena.get(*inner_args) {
        Obj::Tuple(items) => items.clone(),
        other => {
            return Err(Failure::malformed(format!(
                "rebuild arguments are a {}",
                other.kind()
            )))
        }
    };
    call(arena, &inner, &items)
}

fn numpy_scalar(arena: &mut Arena, args: &[Id]) -> Result<Id, Failure> {
    let [dtype, data] = args else {
        return Err(Failure::malformed(
            "a NumPy scalar takes a dtype and its bytes",
        ));
    };
    let (name, byteorder) = match arena.get(*dtype) {
        Obj::NumpyDtype { name, byteorder } => (name.clone(), *byteorder),
        other => {
            return Err(Failure::malformed(format!(
                "a NumPy scalar's dtype is a {}",
                other.kind()
            )))
        }
    };
    let bytes = match arena.get(*data) {
        Obj::Bytes(b) => b.clone(),
        other => {
            return Err(Failure::malformed(format!(
                "a NumPy scalar's data is a {}",
                other.kind()
            )))
        }
    };
    Ok(arena.push(Obj::NumpyScalar {
        name,
        byteorder,
        bytes,
    }))
}

/// `_codecs.encode(text, encoding)`: how protocol 2 spells bytes.
fn encode(arena: &mut Arena, args: &[Id]) -> Result<Id, Failure> {
    let [text, encoding] = args else {
        return Err(Failure::malformed(
            "_codecs.encode takes a string and an encoding",
        ));
    };
    let (Some(text), Some(encoding)) = (arena.str(*text), arena.str(*encoding)) else {
        return Err(Failure::malformed(
            "_codecs.encode of values that are not str",
        ));
    };
    let bytes = match encoding.to_ascii_lowercase().replace('_', "-").as_str() {
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" => text
            .chars()
            .map(|c| u8::try_from(c as u32))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| Failure::malformed("a latin-1 string with a character above 255"))?,
        "utf-8" | "utf8" => text.as_bytes().to_vec(),
        other => {
            return Err(Failure::refused(
                format!("_codecs.encode(..., {other:?})"),
                "only latin-1 and UTF-8 are decoded",
            ))
        }
    };
    Ok(arena.push(Obj::Bytes(bytes)))
}

/// `copyreg._reconstructor(cls, object, None)`: `object.__new__(cls)`, inert.
fn reconstructor(arena: &mut Arena, func: &Global, args: &[Id]) -> Result<Id, Failure> {
    let [cls, base, state] = args else {
        return Err(arity(func, "3", args.len()));
    };
    let plain_base = matches!(arena.get(*base), Obj::Global(g) if g.is("builtins", "object"));
    let no_state = matches!(arena.get(*state), Obj::None);
    match arena.get(*cls) {
        Obj::Global(g) if plain_base && no_state && is_class_name(g) => {
            let class = g.clone();
            Ok(arena.push(Obj::Object {
                class,
                args: Vec::new(),
                state: None,
            }))
        }
        _ => Err(Failure::refused(
            func.full_name(),
            "a reconstruction other than object.__new__(cls)",
        )),
    }
}
