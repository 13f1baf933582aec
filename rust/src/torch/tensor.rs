//! Tensor values: a strided view of a storage's bytes, gathered row-major.
//! Every index is checked against the storage, and a tensor never holds more
//! elements than its storage (no allocation from a size field alone).

use super::archive::Loaded;
use super::pickle::{Dtype, Id, Obj, TensorRef};

/// A float32 tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Floats {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// The tensor behind `id`, or why it is not one.
fn tensor_ref(loaded: &Loaded, id: Id) -> Result<&TensorRef, String> {
    match loaded.arena.get(id) {
        Obj::Tensor(t) => Ok(t),
        other => Err(format!("a {}, not a tensor", other.kind())),
    }
}

/// The byte offset of every element of `t`, row-major, and its shape.
fn element_offsets(loaded: &Loaded, t: &TensorRef) -> Result<(Vec<usize>, Vec<usize>), String> {
    let Obj::Storage(storage) = loaded.arena.get(t.storage) else {
        return Err("its storage is not a storage".into());
    };
    let bytes = loaded
        .storages
        .get(&storage.key)
        .ok_or_else(|| format!("storage {:?} was not loaded", storage.key))?;
    // The region the tensor may read: the whole storage, or a legacy view of it.
    let unit = storage.dtype.size() as u64;
    let (start, len) = match storage.view {
        None => (0u64, bytes.len() as u64),
        Some((offset, numel)) => (offset.saturating_mul(unit), numel.saturating_mul(unit)),
    };
    let end = start.saturating_add(len);
    if end > bytes.len() as u64 {
        return Err(format!(
            "a view of bytes {start}..{end} of a storage of {} bytes",
            bytes.len()
        ));
    }
    let size = t.dtype.size() as u64;
    let available = len / size;

    let overflow = || "its size overflows".to_string();
    let mut numel: u64 = 1;
    for &d in &t.size {
        numel = numel.checked_mul(d).ok_or_else(overflow)?;
    }
    let shape: Vec<usize> = t
        .size
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| overflow()))
        .collect::<Result<_, _>>()?;
    if numel == 0 {
        return Ok((shape, Vec::new()));
    }
    if numel > available {
        return Err(format!(
            "{numel} elements from a storage of {available} {}",
            t.dtype.name()
        ));
    }
    // The last element read, in elements from the region's start.
    let mut last = t.offset;
    for (&d, &s) in t.size.iter().zip(&t.stride) {
        last = (d - 1)
            .checked_mul(s)
            .and_then(|x| last.checked_add(x))
            .ok_or_else(overflow)?;
    }
    if last >= available {
        return Err(format!(
            "offset {} with size {:?} and stride {:?} reads past a storage of {available} {}",
            t.offset,
            t.size,
            t.stride,
            t.dtype.name()
        ));
    }
    // All indices are now below `available`, which fits the bytes in memory.
    let numel = numel as usize;
    let mut offsets = Vec::with_capacity(numel);
    let mut index = vec![0u64; shape.len()];
    for _ in 0..numel {
        let element: u64 = t.offset
            + index
                .iter()
                .zip(&t.stride)
                .map(|(&i, &s)| i * s)
                .sum::<u64>();
        offsets.push((start + element * size) as usize);
        for axis in (0..index.len()).rev() {
            index[axis] += 1;
            if index[axis] < t.size[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    Ok((shape, offsets))
}

fn bytes_of<'a>(loaded: &'a Loaded, t: &TensorRef) -> &'a [u8] {
    match loaded.arena.get(t.storage) {
        Obj::Storage(s) => loaded.storages.get(&s.key).map_or(&[], Vec::as_slice),
        _ => &[],
    }
}

/// A float32 tensor's values. Other dtypes are refused: torch itself would not
/// multiply float32 observations by them.
pub fn floats(loaded: &Loaded, id: Id) -> Result<Floats, String> {
    let t = tensor_ref(loaded, id)?;
    if t.dtype != Dtype::F32 {
        return Err(format!(
            "a {} tensor, where float32 is needed",
            t.dtype.name()
        ));
    }
    let (shape, offsets) = element_offsets(loaded, t)?;
    let bytes = bytes_of(loaded, t);
    let data = offsets
        .iter()
        .map(|&o| f32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes")))
        .collect();
    Ok(Floats { shape, data })
}

/// The value of a one-element tensor of any numeric dtype.
pub fn scalar(loaded: &Loaded, id: Id) -> Result<f64, String> {
    let t = tensor_ref(loaded, id)?;
    let (_, offsets) = element_offsets(loaded, t)?;
    let &[o] = offsets.as_slice() else {
        return Err(format!("a tensor of {} elements, not one", offsets.len()));
    };
    let b = &bytes_of(loaded, t)[o..o + t.dtype.size()];
    decode(t.dtype, b, false).ok_or_else(|| format!("a {} tensor", t.dtype.name()))
}

/// One element of `dtype` from its bytes (little-endian unless `big`).
pub fn decode(dtype: Dtype, b: &[u8], big: bool) -> Option<f64> {
    macro_rules! num {
        ($t:ty) => {{
            let a = b.try_into().ok()?;
            (if big {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            }) as f64
        }};
    }
    Some(match dtype {
        Dtype::F64 => num!(f64),
        Dtype::F32 => num!(f32),
        Dtype::I64 => num!(i64),
        Dtype::I32 => num!(i32),
        Dtype::I16 => num!(i16),
        Dtype::I8 => num!(i8),
        Dtype::U8 => num!(u8),
        Dtype::Bool => (*b.first()? != 0) as u8 as f64,
        Dtype::BF16 => {
            let bits = num!(u16) as u32;
            f32::from_bits(bits << 16) as f64
        }
        Dtype::F16 => return None,
    })
}

/// A NumPy scalar's value from its dtype name (`f4`, `float32`, `<f8`, ...) and bytes.
pub fn numpy_value(name: &str, byteorder: char, bytes: &[u8]) -> Option<f64> {
    let name = name.trim_start_matches(['<', '>', '=', '|']);
    let dtype = match name {
        "f8" | "float64" | "d" => Dtype::F64,
        "f4" | "float32" | "f" => Dtype::F32,
        "i8" | "int64" | "l" | "q" => Dtype::I64,
        "i4" | "int32" | "i" => Dtype::I32,
        "i2" | "int16" | "h" => Dtype::I16,
        "i1" | "int8" | "b" => Dtype::I8,
        "u1" | "uint8" | "B" => Dtype::U8,
        "b1" | "bool" | "?" => Dtype::Bool,
        _ => return None,
    };
    if bytes.len() != dtype.size() {
        return None;
    }
    decode(dtype, bytes, byteorder == '>')
}
