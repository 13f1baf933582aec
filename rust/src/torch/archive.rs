//! The two layouts of a `torch.save` file, read into one pickled object and the
//! bytes of the storages it names.
//!
//! - zip (torch >= 1.6): `<top>/data.pkl` holds the pickle, `<top>/data/<key>` each
//!   storage's raw little-endian bytes, `<top>/byteorder` (newer files) says
//!   `little`. The top folder is `archive`, the file's stem, or anything else.
//! - legacy (torch <= 1.5): five pickles in a row (magic number, protocol 1001,
//!   system info, the object, the storage keys), then each storage as an 8-byte
//!   little-endian element count and its raw bytes, in the keys' order.
//!
//! Storages on a GPU (`cuda:0`) are read like any other: the bytes are the same.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use super::error::TorchError;
use super::pickle::{self, Arena, Dtype, Failure, Id, NoPersistentIds, Obj, PickleError};
use super::pickle::{PersistentLoad, StorageRef};

/// `torch.serialization.MAGIC_NUMBER`, the first pickle of a legacy file.
const LEGACY_MAGIC: i128 = 0x1950a86a20f9469cfc6c;
/// `torch.serialization.PROTOCOL_VERSION`, the second.
const LEGACY_PROTOCOL: i128 = 1001;

/// Which layout the file has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// A zip archive (torch >= 1.6) whose records are under `prefix/`.
    Zip { prefix: String },
    /// The legacy stream of pickles (torch <= 1.5).
    Legacy,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Zip { prefix } => write!(f, "zip ({prefix}/)"),
            Format::Legacy => write!(f, "legacy (torch <= 1.5)"),
        }
    }
}

/// The object a model file pickled, with the bytes of every storage it uses.
#[derive(Debug)]
pub struct Loaded {
    pub arena: Arena,
    pub root: Id,
    pub format: Format,
    /// Root storage key -> its bytes (little-endian elements).
    pub storages: HashMap<String, Vec<u8>>,
}

/// Read a model file's bytes; `path` names it in messages.
pub fn load(path: &str, data: &[u8]) -> Result<Loaded, TorchError> {
    if data.starts_with(b"PK\x03\x04") {
        load_zip(path, data)
    } else if data.len() > 262 && &data[257..262] == b"ustar" {
        Err(TorchError::Refused {
            path: path.into(),
            place: "the file".into(),
            what: "a tar archive".into(),
            why: "the tar layout of torch < 0.4 is not read; load and save it again with \
                  a newer torch"
                .into(),
        })
    } else {
        load_legacy(path, data)
    }
}

/// Turn a pickle error into the file's error, naming `place` and the offset.
fn pickle_error(path: &str, place: &str, err: PickleError) -> TorchError {
    let place = format!("{place}, byte {}", err.offset());
    match err {
        PickleError::Malformed { reason, .. } => TorchError::Malformed {
            path: path.into(),
            place,
            reason,
        },
        PickleError::Refused { what, why, .. } => TorchError::Refused {
            path: path.into(),
            place,
            what,
            why,
        },
    }
}

fn malformed(path: &str, place: impl Into<String>, reason: impl Into<String>) -> TorchError {
    TorchError::Malformed {
        path: path.into(),
        place: place.into(),
        reason: reason.into(),
    }
}

/// The persistent ids torch writes: `('storage', storage_type, key, location,
/// numel)` in zip files, `('storage', storage_type, root_key, location, numel,
/// view_metadata)` and `('module', class, source_file, source)` in legacy ones.
struct TorchIds {
    legacy: bool,
}

impl TorchIds {
    fn text(arena: &Arena, id: Id) -> Option<String> {
        match arena.get(id) {
            Obj::Str(s) => Some(s.clone()),
            // Python 2 str read as bytes (torch decodes these as ASCII).
            Obj::Bytes(b) if b.is_ascii() => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    fn count(arena: &Arena, id: Id, what: &str) -> Result<u64, Failure> {
        arena
            .int(id)
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| Failure::malformed(format!("a storage's {what} is not a count")))
    }
}

impl PersistentLoad for TorchIds {
    fn load(&mut self, arena: &mut Arena, pid: Id) -> Result<Id, Failure> {
        let items = match arena.get(pid) {
            Obj::Tuple(items) if !items.is_empty() => items.clone(),
            other => {
                return Err(Failure::malformed(format!(
                    "a persistent id is a {}, not a tuple",
                    other.kind()
                )))
            }
        };
        let tag = Self::text(arena, items[0]).unwrap_or_default();
        match (tag.as_str(), items.len(), self.legacy) {
            ("module", 4, true) => match arena.get(items[1]) {
                Obj::Global(_) => Ok(items[1]),
                other => Err(Failure::malformed(format!(
                    "a saved module class is a {}",
                    other.kind()
                ))),
            },
            ("storage", 5, false) | ("storage", 6, true) => {
                let dtype = match arena.get(items[1]) {
                    Obj::Global(g) => Dtype::from_storage_name(&g.name).ok_or_else(|| {
                        Failure::refused(g.full_name(), "not a storage type this reader knows")
                    })?,
                    other => {
                        return Err(Failure::malformed(format!(
                            "a storage type is a {}",
                            other.kind()
                        )))
                    }
                };
                let key = Self::text(arena, items[2])
                    .ok_or_else(|| Failure::malformed("a storage key is not a string"))?;
                let location = Self::text(arena, items[3])
                    .ok_or_else(|| Failure::malformed("a storage location is not a string"))?;
                let numel = Self::count(arena, items[4], "size")?;
                let view = match items.get(5).map(|&v| arena.get(v)) {
                    None | Some(Obj::None) => None,
                    Some(Obj::Tuple(view)) if view.len() == 3 => {
                        let view = view.clone();
                        let offset = Self::count(arena, view[1], "view offset")?;
                        let size = Self::count(arena, view[2], "view size")?;
                        Some((offset, size))
                    }
                    Some(other) => {
                        return Err(Failure::malformed(format!(
                            "a storage view is a {}",
                            other.kind()
                        )))
                    }
                };
                Ok(arena.push(Obj::Storage(StorageRef {
                    dtype,
                    key,
                    location,
                    numel,
                    view,
                })))
            }
            _ => Err(Failure::malformed(format!(
                "unknown persistent id {tag:?} with {} items",
                items.len()
            ))),
        }
    }
}

/// Every storage key the pickle names, with its element type and size. Two
/// references to one key must agree.
fn storage_refs(path: &str, arena: &Arena) -> Result<Vec<(String, Dtype, u64)>, TorchError> {
    let mut refs: Vec<(String, Dtype, u64)> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for obj in arena.iter() {
        let Obj::Storage(s) = obj else { continue };
        match seen.get(s.key.as_str()) {
            Some(&i) => {
                let (_, dtype, numel) = &refs[i];
                if (*dtype, *numel) != (s.dtype, s.numel) {
                    return Err(malformed(
                        path,
                        format!("storage {:?}", s.key),
                        format!(
                            "named as {} {} and as {} {}",
                            numel,
                            dtype.name(),
                            s.numel,
                            s.dtype.name()
                        ),
                    ));
                }
            }
            None => {
                seen.insert(&s.key, refs.len());
                refs.push((s.key.clone(), s.dtype, s.numel));
            }
        }
    }
    Ok(refs)
}

fn nbytes(
    path: &str,
    key: &str,
    dtype: Dtype,
    numel: u64,
    limit: usize,
) -> Result<usize, TorchError> {
    numel
        .checked_mul(dtype.size() as u64)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n <= limit)
        .ok_or_else(|| {
            malformed(
                path,
                format!("storage {key:?}"),
                format!(
                    "{numel} {} elements are more than the file's {limit} bytes",
                    dtype.name()
                ),
            )
        })
}

fn zip_error(path: &str, place: &str, err: zip::result::ZipError) -> TorchError {
    malformed(path, place, format!("zip: {err}"))
}

/// One zip record's bytes. `limit` bounds what may be allocated for it.
fn zip_record(
    path: &str,
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: usize,
) -> Result<Vec<u8>, TorchError> {
    let mut file = archive
        .by_name(name)
        .map_err(|e| zip_error(path, name, e))?;
    let size = usize::try_from(file.size())
        .ok()
        .filter(|&s| s <= limit)
        .ok_or_else(|| {
            malformed(
                path,
                name,
                format!("a record of {} bytes in a file of {limit}", file.size()),
            )
        })?;
    let mut out = Vec::with_capacity(size);
    (&mut file)
        .take(size as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| malformed(path, name, format!("zip: {e}")))?;
    if out.len() != size {
        return Err(malformed(
            path,
            name,
            format!("{} bytes where the zip directory says {size}", out.len()),
        ));
    }
    Ok(out)
}

fn load_zip(path: &str, data: &[u8]) -> Result<Loaded, TorchError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(data)).map_err(|e| zip_error(path, "the zip", e))?;
    // The one top folder that holds a data.pkl.
    let tops: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.strip_suffix("/data.pkl"))
        .filter(|top| !top.is_empty() && !top.contains('/'))
        .map(str::to_string)
        .collect();
    let prefix = match tops.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(malformed(
                path,
                "the zip",
                "no <folder>/data.pkl record: not a torch.save file",
            ))
        }
        many => {
            return Err(malformed(
                path,
                "the zip",
                format!("data.pkl in several folders: {}", many.join(", ")),
            ))
        }
    };
    let record = |name: &str| format!("{prefix}/{name}");
    if archive.index_for_name(&record("constants.pkl")).is_some() {
        return Err(TorchError::Refused {
            path: path.into(),
            place: record("constants.pkl"),
            what: "a TorchScript archive".into(),
            why: "this is torch.jit.save's format, not torch.save's".into(),
        });
    }
    let byteorder = record("byteorder");
    if archive.index_for_name(&byteorder).is_some() {
        let order = zip_record(path, &mut archive, &byteorder, 16)?;
        match order.as_slice() {
            b"little" => {}
            b"big" => {
                return Err(TorchError::Refused {
                    path: path.into(),
                    place: byteorder,
                    what: "big-endian storages".into(),
                    why: "only little-endian files are read".into(),
                })
            }
            other => {
                return Err(malformed(
                    path,
                    byteorder,
                    format!("unknown byte order {:?}", String::from_utf8_lossy(other)),
                ))
            }
        }
    }
    let pkl_name = record("data.pkl");
    let pkl = zip_record(path, &mut archive, &pkl_name, data.len())?;
    let mut arena = Arena::new();
    let (root, _) = pickle::load(&pkl, 0, &mut arena, &mut TorchIds { legacy: false })
        .map_err(|e| pickle_error(path, &pkl_name, e))?;

    let mut storages = HashMap::new();
    for (key, dtype, numel) in storage_refs(path, &arena)? {
        let name = record(&format!("data/{key}"));
        let expected = nbytes(path, &key, dtype, numel, data.len())?;
        let bytes = zip_record(path, &mut archive, &name, data.len())?;
        if bytes.len() != expected {
            return Err(malformed(
                path,
                name,
                format!(
                    "{} bytes for {numel} {} elements",
                    bytes.len(),
                    dtype.name()
                ),
            ));
        }
        storages.insert(key, bytes);
    }
    Ok(Loaded {
        arena,
        root,
        format: Format::Zip { prefix },
        storages,
    })
}

fn load_legacy(path: &str, data: &[u8]) -> Result<Loaded, TorchError> {
    let mut header = Arena::new();
    let header_pickle = |arena: &mut Arena, at: usize, what: &str| {
        pickle::load(data, at, arena, &mut NoPersistentIds)
            .map_err(|e| pickle_error(path, &format!("legacy {what}"), e))
    };
    let not_torch = |reason: String| malformed(path, "the file", reason);
    let (magic, at) = header_pickle(&mut header, 0, "magic number").map_err(|e| {
        not_torch(format!(
            "neither a zip archive nor a legacy torch.save stream ({e})"
        ))
    })?;
    if header.int(magic) != Some(LEGACY_MAGIC) {
        return Err(not_torch(
            "neither a zip archive nor a legacy torch.save stream (no magic number)".into(),
        ));
    }
    let (protocol, at) = header_pickle(&mut header, at, "protocol version")?;
    if header.int(protocol) != Some(LEGACY_PROTOCOL) {
        return Err(malformed(
            path,
            "legacy protocol version",
            format!("{:?} where 1001 was expected", header.get(protocol)),
        ));
    }
    let (sys_info, at) = header_pickle(&mut header, at, "system info")?;
    match header
        .dict_get(sys_info, "little_endian")
        .map(|v| header.get(v))
    {
        Some(Obj::Bool(true)) => {}
        Some(Obj::Bool(false)) => {
            return Err(TorchError::Refused {
                path: path.into(),
                place: "legacy system info".into(),
                what: "big-endian storages".into(),
                why: "only little-endian files are read".into(),
            })
        }
        _ => {
            return Err(malformed(
                path,
                "legacy system info",
                "no little_endian flag",
            ))
        }
    }

    let mut arena = Arena::new();
    let (root, at) = pickle::load(data, at, &mut arena, &mut TorchIds { legacy: true })
        .map_err(|e| pickle_error(path, "legacy object pickle", e))?;
    let (keys, mut at) = header_pickle(&mut header, at, "storage keys")?;
    let keys: Vec<String> = match header.get(keys) {
        Obj::List(items) | Obj::Tuple(items) => items
            .iter()
            .map(|&k| header.str(k).map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| malformed(path, "legacy storage keys", "a key is not a string"))?,
        other => {
            return Err(malformed(
                path,
                "legacy storage keys",
                format!("a {}, not a list", other.kind()),
            ))
        }
    };

    let refs: HashMap<String, (Dtype, u64)> = storage_refs(path, &arena)?
        .into_iter()
        .map(|(k, d, n)| (k, (d, n)))
        .collect();
    let mut storages = HashMap::new();
    for key in keys {
        let place = || format!("legacy storage {key:?}, byte {at}");
        let &(dtype, numel) = refs
            .get(&key)
            .ok_or_else(|| malformed(path, place(), "a storage the object does not use"))?;
        let count = data
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| malformed(path, place(), "the file ends before its size"))?;
        if count != numel {
            return Err(malformed(
                path,
                place(),
                format!("{count} elements where the object says {numel}"),
            ));
        }
        let n = nbytes(path, &key, dtype, count, data.len() - at - 8)?;
        let start = at + 8;
        storages.insert(key, data[start..start + n].to_vec());
        at = start + n;
    }
    if let Some(key) = refs.keys().find(|k| !storages.contains_key(*k)) {
        return Err(malformed(
            path,
            "legacy storage keys",
            format!("storage {key:?} is used but not saved"),
        ));
    }
    Ok(Loaded {
        arena,
        root,
        format: Format::Legacy,
        storages,
    })
}
