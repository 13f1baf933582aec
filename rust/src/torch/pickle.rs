//! A pickle reader that runs nothing.
//!
//! Python's unpickler imports every global the stream names and calls it; this
//! one only builds data. Objects live in an [`Arena`] and refer to each other by
//! index, so the memo shares them as Python does (a dict memoized before its items
//! are set is the same dict when fetched later), cycles cost nothing, and nothing
//! is ever copied or walked recursively.
//!
//! What a global becomes is decided in [`super::globals`]: a short allowlist of
//! data constructors (tensor rebuild functions, `OrderedDict`, NumPy scalars, ...)
//! is interpreted; a class is instantiated as an inert [`Obj::Object`] that records
//! its class and state; anything else used as a callable is refused, naming it.
//!
//! Every length field is checked against the bytes that remain before anything is
//! allocated, and every opcode creates at most one object, so memory stays
//! proportional to the input.

use std::collections::HashMap;

use super::globals;

/// An index into the [`Arena`].
pub type Id = usize;

/// A module-level name from a GLOBAL or STACK_GLOBAL opcode, never imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub module: String,
    pub name: String,
}

impl Global {
    pub fn is(&self, module: &str, name: &str) -> bool {
        self.module == module && self.name == name
    }

    pub fn full_name(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

/// Element types of torch storages and tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl Dtype {
    pub fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F16 | Dtype::BF16 | Dtype::I16 => 2,
            Dtype::I8 | Dtype::U8 | Dtype::Bool => 1,
        }
    }

    /// From a legacy storage class name (`FloatStorage`, ...); `UntypedStorage`
    /// holds bytes.
    pub fn from_storage_name(name: &str) -> Option<Self> {
        Some(match name {
            "DoubleStorage" => Dtype::F64,
            "FloatStorage" => Dtype::F32,
            "HalfStorage" => Dtype::F16,
            "BFloat16Storage" => Dtype::BF16,
            "LongStorage" => Dtype::I64,
            "IntStorage" => Dtype::I32,
            "ShortStorage" => Dtype::I16,
            "CharStorage" => Dtype::I8,
            "ByteStorage" | "UntypedStorage" => Dtype::U8,
            "BoolStorage" => Dtype::Bool,
            _ => return None,
        })
    }

    /// From a torch dtype's attribute name (`torch.float32`, `torch.float`, ...).
    pub fn from_torch_name(name: &str) -> Option<Self> {
        Some(match name {
            "float64" | "double" => Dtype::F64,
            "float32" | "float" => Dtype::F32,
            "float16" | "half" => Dtype::F16,
            "bfloat16" => Dtype::BF16,
            "int64" | "long" => Dtype::I64,
            "int32" | "int" => Dtype::I32,
            "int16" | "short" => Dtype::I16,
            "int8" => Dtype::I8,
            "uint8" => Dtype::U8,
            "bool" => Dtype::Bool,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "float64",
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::BF16 => "bfloat16",
            Dtype::I64 => "int64",
            Dtype::I32 => "int32",
            Dtype::I16 => "int16",
            Dtype::I8 => "int8",
            Dtype::U8 => "uint8",
            Dtype::Bool => "bool",
        }
    }
}

/// A storage named by a persistent id: its bytes are elsewhere in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRef {
    pub dtype: Dtype,
    pub key: String,
    pub location: String,
    /// Elements of `dtype` in the whole (root) storage.
    pub numel: u64,
    /// A legacy view: `(offset, numel)` in elements of the root storage.
    pub view: Option<(u64, u64)>,
}

/// A tensor from a rebuild function: a strided view of a storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorRef {
    /// An [`Obj::Storage`].
    pub storage: Id,
    /// The element type (the storage's, unless `_rebuild_tensor_v3` said otherwise).
    pub dtype: Dtype,
    pub offset: u64,
    pub size: Vec<u64>,
    pub stride: Vec<u64>,
}

/// A value the pickle built.
#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    None,
    Bool(bool),
    Int(i128),
    /// An integer too long for `i128`; its value is not kept.
    BigInt,
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Id>),
    List(Vec<Id>),
    /// Keys and values in insertion order (also `collections.OrderedDict`).
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    /// A class, function or constant named by the stream, not resolved.
    Global(Global),
    /// An instance of a class that was never run: its class, the arguments of
    /// NEWOBJ, and the state BUILD gave it (`__dict__` for an `nn.Module`).
    Object {
        class: Global,
        args: Vec<Id>,
        state: Option<Id>,
    },
    Storage(StorageRef),
    Tensor(TensorRef),
    /// `numpy.dtype(name, ...)`, with the byte order its state gave.
    NumpyDtype {
        name: String,
        byteorder: char,
    },
    /// `numpy.core.multiarray.scalar(dtype, bytes)`: the raw bytes of a NumPy scalar.
    NumpyScalar {
        name: String,
        byteorder: char,
        bytes: Vec<u8>,
    },
}

impl Obj {
    /// A short name of the value's type, for messages.
    pub fn kind(&self) -> String {
        match self {
            Obj::None => "None".into(),
            Obj::Bool(_) => "bool".into(),
            Obj::Int(_) | Obj::BigInt => "int".into(),
            Obj::Float(_) => "float".into(),
            Obj::Str(_) => "str".into(),
            Obj::Bytes(_) => "bytes".into(),
            Obj::Tuple(_) => "tuple".into(),
            Obj::List(_) => "list".into(),
            Obj::Dict(_) => "dict".into(),
            Obj::Set(_) => "set".into(),
            Obj::Global(g) => format!("global {}", g.full_name()),
            Obj::Object { class, .. } => format!("{} object", class.full_name()),
            Obj::Storage(_) => "storage".into(),
            Obj::Tensor(_) => "tensor".into(),
            Obj::NumpyDtype { .. } => "numpy.dtype".into(),
            Obj::NumpyScalar { .. } => "NumPy scalar".into(),
        }
    }
}

/// Every object a pickle (or several pickles of one file) built.
#[derive(Debug, Default, Clone)]
pub struct Arena {
    objs: Vec<Obj>,
}

impl Arena {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, obj: Obj) -> Id {
        self.objs.push(obj);
        self.objs.len() - 1
    }

    pub fn get(&self, id: Id) -> &Obj {
        &self.objs[id]
    }

    pub(super) fn get_mut(&mut self, id: Id) -> &mut Obj {
        &mut self.objs[id]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Obj> {
        self.objs.iter()
    }

    pub fn str(&self, id: Id) -> Option<&str> {
        match self.get(id) {
            Obj::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, id: Id) -> Option<i128> {
        match self.get(id) {
            Obj::Int(i) => Some(*i),
            Obj::Bool(b) => Some(*b as i128),
            _ => None,
        }
    }

    /// The value under the string key `key` of a dict (the last one set).
    pub fn dict_get(&self, dict: Id, key: &str) -> Option<Id> {
        match self.get(dict) {
            Obj::Dict(items) => items
                .iter()
                .rev()
                .find(|(k, _)| self.str(*k) == Some(key))
                .map(|(_, v)| *v),
            _ => None,
        }
    }
}

/// What went wrong in a pickle, without the file's name (the caller adds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickleError {
    /// The stream is truncated or inconsistent.
    Malformed { offset: usize, reason: String },
    /// The stream asks for something this reader will not do (call a function it
    /// does not know, use a feature it does not have).
    Refused {
        offset: usize,
        what: String,
        why: String,
    },
}

impl PickleError {
    pub fn offset(&self) -> usize {
        match self {
            PickleError::Malformed { offset, .. } | PickleError::Refused { offset, .. } => *offset,
        }
    }
}

/// Why an operation failed, before the opcode's offset is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Malformed(String),
    Refused { what: String, why: String },
}

impl Failure {
    pub fn malformed(reason: impl Into<String>) -> Self {
        Failure::Malformed(reason.into())
    }

    pub fn refused(what: impl Into<String>, why: impl Into<String>) -> Self {
        Failure::Refused {
            what: what.into(),
            why: why.into(),
        }
    }

    fn at(self, offset: usize) -> PickleError {
        match self {
            Failure::Malformed(reason) => PickleError::Malformed { offset, reason },
            Failure::Refused { what, why } => PickleError::Refused { offset, what, why },
        }
    }
}

/// Turns a persistent id (BINPERSID's popped value) into an object.
pub trait PersistentLoad {
    fn load(&mut self, arena: &mut Arena, pid: Id) -> Result<Id, Failure>;
}

/// Refuses every persistent id (for the small pickles of a legacy file's header).
pub struct NoPersistentIds;

impl PersistentLoad for NoPersistentIds {
    fn load(&mut self, _: &mut Arena, _: Id) -> Result<Id, Failure> {
        Err(Failure::malformed("unexpected persistent id"))
    }
}

/// Read one pickle from `data[start..]` into `arena`: the object STOP returned,
/// and the offset just after STOP. Offsets in errors are from the start of `data`.
pub fn load(
    data: &[u8],
    start: usize,
    arena: &mut Arena,
    persistent: &mut dyn PersistentLoad,
) -> Result<(Id, usize), PickleError> {
    let mut machine = Machine {
        data,
        pos: start,
        arena,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
    };
    loop {
        let at = machine.pos;
        match machine.step(persistent) {
            Ok(Some(id)) => return Ok((id, machine.pos)),
            Ok(None) => {}
            Err(failure) => return Err(failure.at(at)),
        }
    }
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    arena: &'a mut Arena,
    stack: Vec<Id>,
    /// Stack lengths at each MARK.
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
}

impl Machine<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Failure> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| {
                Failure::malformed(format!(
                    "needs {n} more bytes, {} remain",
                    self.data.len() - self.pos
                ))
            })?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, Failure> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Failure> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, Failure> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, Failure> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A length field, checked against the bytes that remain.
    fn len(&mut self, n: u64) -> Result<usize, Failure> {
        let remaining = self.data.len() - self.pos;
        match usize::try_from(n) {
            Ok(n) if n <= remaining => Ok(n),
            _ => Err(Failure::malformed(format!(
                "length {n} exceeds the {remaining} bytes that remain"
            ))),
        }
    }

    fn line(&mut self) -> Result<&[u8], Failure> {
        let rest = &self.data[self.pos..];
        let n =
            memchr::memchr(b'\n', rest).ok_or_else(|| Failure::malformed("unterminated line"))?;
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    fn utf8(bytes: &[u8]) -> Result<String, Failure> {
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| Failure::malformed("a string is not valid UTF-8"))
    }

    fn push(&mut self, obj: Obj) {
        let id = self.arena.push(obj);
        self.stack.push(id);
    }

    fn pop(&mut self) -> Result<Id, Failure> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(Failure::malformed("stack underflow"));
        }
        Ok(self.stack.pop().expect("checked above"))
    }

    fn top(&self) -> Result<Id, Failure> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(Failure::malformed("stack underflow"));
        }
        Ok(self.stack[self.stack.len() - 1])
    }

    /// The items pushed since the last MARK, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Id>, Failure> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| Failure::malformed("no MARK on the stack"))?;
        Ok(self.stack.split_off(mark))
    }

    fn memo_put(&mut self, index: u64) -> Result<(), Failure> {
        let top = self.top()?;
        self.memo.insert(index, top);
        Ok(())
    }

    fn memo_get(&mut self, index: u64) -> Result<(), Failure> {
        let id = *self
            .memo
            .get(&index)
            .ok_or_else(|| Failure::malformed(format!("memo entry {index} is not set")))?;
        self.stack.push(id);
        Ok(())
    }

    fn tuple_items(&self, id: Id, what: &str) -> Result<Vec<Id>, Failure> {
        match self.arena.get(id) {
            Obj::Tuple(items) => Ok(items.clone()),
            other => Err(Failure::malformed(format!(
                "{what} are a {}, not a tuple",
                other.kind()
            ))),
        }
    }

    fn global(&self, id: Id, what: &str) -> Result<Global, Failure> {
        match self.arena.get(id) {
            Obj::Global(g) => Ok(g.clone()),
            other => Err(Failure::refused(
                other.kind(),
                format!("{what} of a value that is not a class or function"),
            )),
        }
    }

    fn set_items(&mut self, target: Id, pairs: Vec<Id>) -> Result<(), Failure> {
        if pairs.len() % 2 != 0 {
            return Err(Failure::malformed("SETITEMS with an odd number of items"));
        }
        let kind = self.arena.get(target).kind();
        let Obj::Dict(items) = self.arena.get_mut(target) else {
            return Err(Failure::refused(
                kind,
                "setting items on a value that is not a dict",
            ));
        };
        items.extend(pairs.chunks_exact(2).map(|p| (p[0], p[1])));
        Ok(())
    }

    fn append(&mut self, target: Id, values: Vec<Id>) -> Result<(), Failure> {
        let kind = self.arena.get(target).kind();
        match self.arena.get_mut(target) {
            Obj::List(items) => {
                items.extend(values);
                Ok(())
            }
            _ => Err(Failure::refused(
                kind,
                "appending to a value that is not a list",
            )),
        }
    }

    fn add_to_set(&mut self, target: Id, values: Vec<Id>) -> Result<(), Failure> {
        let kind = self.arena.get(target).kind();
        match self.arena.get_mut(target) {
            Obj::Set(items) => {
                items.extend(values);
                Ok(())
            }
            _ => Err(Failure::refused(
                kind,
                "adding items to a value that is not a set",
            )),
        }
    }

    fn int_bytes(bytes: &[u8]) -> Obj {
        if bytes.len() > 16 {
            return Obj::BigInt;
        }
        // Little-endian two's complement, sign-extended to 16 bytes.
        let fill = if bytes.last().is_some_and(|&b| b & 0x80 != 0) {
            0xff
        } else {
            0
        };
        let mut full = [fill; 16];
        full[..bytes.len()].copy_from_slice(bytes);
        Obj::Int(i128::from_le_bytes(full))
    }

    /// Run one opcode; `Some(result)` at STOP.
    fn step(&mut self, persistent: &mut dyn PersistentLoad) -> Result<Option<Id>, Failure> {
        let op = self.u8()?;
        match op {
            // PROTO
            0x80 => {
                let version = self.u8()?;
                if version > 5 {
                    return Err(Failure::refused(
                        format!("pickle protocol {version}"),
                        "protocols up to 5 are known",
                    ));
                }
            }
            // FRAME: a length prefix for the opcodes that follow; frames are transparent.
            0x95 => {
                let n = self.u64()?;
                self.len(n)?;
            }
            // STOP
            b'.' => {
                let result = self.pop()?;
                if !self.marks.is_empty() {
                    return Err(Failure::malformed("STOP with a MARK still open"));
                }
                return Ok(Some(result));
            }
            b'(' => self.marks.push(self.stack.len()),
            // POP, POP_MARK, DUP
            b'0' => {
                self.pop()?;
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let top = self.top()?;
                self.stack.push(top);
            }
            b'N' => self.push(Obj::None),
            0x88 => self.push(Obj::Bool(true)),
            0x89 => self.push(Obj::Bool(false)),
            // BININT, BININT1, BININT2
            b'J' => {
                let v = i32::from_le_bytes(self.array()?);
                self.push(Obj::Int(v as i128));
            }
            b'K' => {
                let v = self.u8()?;
                self.push(Obj::Int(v as i128));
            }
            b'M' => {
                let v = u16::from_le_bytes(self.array()?);
                self.push(Obj::Int(v as i128));
            }
            // LONG1, LONG4
            0x8a => {
                let n = self.u8()? as u64;
                let n = self.len(n)?;
                let obj = Self::int_bytes(self.take(n)?);
                self.push(obj);
            }
            0x8b => {
                let n = self.u32()? as u64;
                let n = self.len(n)?;
                let obj = Self::int_bytes(self.take(n)?);
                self.push(obj);
            }
            // BINFLOAT (big-endian)
            b'G' => {
                let v = f64::from_be_bytes(self.array()?);
                self.push(Obj::Float(v));
            }
            // SHORT_BINUNICODE, BINUNICODE, BINUNICODE8; SHORT_BINSTRING, BINSTRING
            // (Python 2 str, decoded as UTF-8 as torch.load does).
            0x8c | b'X' | 0x8d | b'U' | b'T' => {
                let n = match op {
                    0x8c | b'U' => self.u8()? as u64,
                    b'X' | b'T' => self.u32()? as u64,
                    _ => self.u64()?,
                };
                let n = self.len(n)?;
                let s = Self::utf8(self.take(n)?)?;
                self.push(Obj::Str(s));
            }
            // SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8
            b'C' | b'B' | 0x8e | 0x96 => {
                let n = match op {
                    b'C' => self.u8()? as u64,
                    b'B' => self.u32()? as u64,
                    _ => self.u64()?,
                };
                let n = self.len(n)?;
                let bytes = self.take(n)?.to_vec();
                self.push(Obj::Bytes(bytes));
            }
            b')' => self.push(Obj::Tuple(Vec::new())),
            b't' => {
                let items = self.pop_mark()?;
                self.push(Obj::Tuple(items));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop()?);
                }
                items.reverse();
                self.push(Obj::Tuple(items));
            }
            b']' => self.push(Obj::List(Vec::new())),
            b'l' => {
                let items = self.pop_mark()?;
                self.push(Obj::List(items));
            }
            b'}' => self.push(Obj::Dict(Vec::new())),
            b'd' => {
                let items = self.pop_mark()?;
                let dict = self.arena.push(Obj::Dict(Vec::new()));
                self.set_items(dict, items)?;
                self.stack.push(dict);
            }
            0x8f => self.push(Obj::Set(Vec::new())),
            // FROZENSET
            0x91 => {
                let items = self.pop_mark()?;
                self.push(Obj::Set(items));
            }
            // APPEND, APPENDS
            b'a' => {
                let value = self.pop()?;
                let list = self.top()?;
                self.append(list, vec![value])?;
            }
            b'e' => {
                let values = self.pop_mark()?;
                let list = self.top()?;
                self.append(list, values)?;
            }
            // SETITEM, SETITEMS
            b's' => {
                let value = self.pop()?;
                let key = self.pop()?;
                let dict = self.top()?;
                self.set_items(dict, vec![key, value])?;
            }
            b'u' => {
                let pairs = self.pop_mark()?;
                let dict = self.top()?;
                self.set_items(dict, pairs)?;
            }
            // ADDITEMS
            0x90 => {
                let values = self.pop_mark()?;
                let set = self.top()?;
                self.add_to_set(set, values)?;
            }
            // BINPUT, LONG_BINPUT, MEMOIZE
            b'q' => {
                let i = self.u8()? as u64;
                self.memo_put(i)?;
            }
            b'r' => {
                let i = self.u32()? as u64;
                self.memo_put(i)?;
            }
            0x94 => {
                let i = self.memo.len() as u64;
                self.memo_put(i)?;
            }
            // BINGET, LONG_BINGET
            b'h' => {
                let i = self.u8()? as u64;
                self.memo_get(i)?;
            }
            b'j' => {
                let i = self.u32()? as u64;
                self.memo_get(i)?;
            }
            // GLOBAL: module and name on two lines.
            b'c' => {
                let module = Self::utf8(self.line()?)?;
                let name = Self::utf8(self.line()?)?;
                let global = globals::resolve(module, name)?;
                self.push(Obj::Global(global));
            }
            // STACK_GLOBAL
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Some(module), Some(name)) = (self.arena.str(module), self.arena.str(name))
                else {
                    return Err(Failure::malformed(
                        "STACK_GLOBAL of values that are not str",
                    ));
                };
                let global = globals::resolve(module.to_string(), name.to_string())?;
                self.push(Obj::Global(global));
            }
            // REDUCE: callable(*args)
            b'R' => {
                let args = self.pop()?;
                let func = self.pop()?;
                let func = self.global(func, "a call")?;
                let args = self.tuple_items(args, "the arguments of a call")?;
                let id = globals::call(self.arena, &func, &args)?;
                self.stack.push(id);
            }
            // NEWOBJ: cls.__new__(cls, *args); NEWOBJ_EX adds keyword arguments.
            0x81 | 0x92 => {
                if op == 0x92 {
                    let kwargs = self.pop()?;
                    let empty = matches!(self.arena.get(kwargs), Obj::Dict(d) if d.is_empty());
                    if !empty {
                        return Err(Failure::refused(
                            "NEWOBJ_EX",
                            "keyword arguments to a constructor",
                        ));
                    }
                }
                let args = self.pop()?;
                let cls = self.pop()?;
                let cls = self.global(cls, "instantiation")?;
                let args = self.tuple_items(args, "the arguments of NEWOBJ")?;
                let id = globals::instantiate(self.arena, cls, args)?;
                self.stack.push(id);
            }
            // BUILD: obj.__setstate__(state), here only recorded.
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?;
                globals::build(self.arena, target, state)?;
            }
            // BINPERSID, PERSID
            b'Q' => {
                let pid = self.pop()?;
                let id = persistent.load(self.arena, pid)?;
                self.stack.push(id);
            }
            b'P' => {
                let pid = Self::utf8(self.line()?)?;
                let pid = self.arena.push(Obj::Str(pid));
                let id = persistent.load(self.arena, pid)?;
                self.stack.push(id);
            }
            other => {
                return Err(Failure::refused(
                    format!("opcode {}", opcode_name(other)),
                    "this reader handles the binary opcodes torch.save writes",
                ))
            }
        }
        Ok(None)
    }
}

/// The name of a pickle opcode, for messages.
pub fn opcode_name(op: u8) -> String {
    let name = match op {
        b'F' => "FLOAT",
        b'I' => "INT",
        b'L' => "LONG",
        b'S' => "STRING",
        b'V' => "UNICODE",
        b'g' => "GET",
        b'p' => "PUT",
        b'i' => "INST",
        b'o' => "OBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => return format!("0x{op:02x} (not a pickle opcode)"),
    };
    format!("{name} (0x{op:02x})")
}
