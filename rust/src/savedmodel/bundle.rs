//! TensorFlow's checkpoint format, the TensorBundle (`variables/variables.index` and
//! `variables/variables.data-NNNNN-of-NNNNN`), read without TensorFlow.
//!
//! The index is a LevelDB-format table (TensorFlow's `lib/io/table`): a 48-byte
//! footer (two block handles and a magic number), an index block naming the data
//! blocks, and data blocks of prefix-compressed keys with restart points; every
//! block is followed by its compression type and a masked CRC-32C. The entry under
//! the empty key is a `BundleHeaderProto`, every other one a `BundleEntryProto`
//! giving a tensor's dtype, shape, data shard, byte range and checksum.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use prost::Message;

use super::error::SavedModelError;
use super::proto::{self, dt, BundleEntryProto, BundleHeaderProto};

/// The footer's size: two block handles padded to 20 bytes each, and the magic.
const FOOTER_LEN: usize = 48;
/// LevelDB's table magic number, as TensorFlow's table writes it.
const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Each block is followed by a compression type byte and a masked CRC-32C.
const BLOCK_TRAILER_LEN: usize = 5;
/// The bundle format version this reader is (TensorFlow's `kTensorBundleVersion`).
const BUNDLE_VERSION: i32 = 1;

/// The elements of a checkpointed tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum BundleData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

impl BundleData {
    /// The TensorFlow name of the element type.
    pub fn dtype_name(&self) -> &'static str {
        match self {
            Self::F32(_) => "float32",
            Self::F64(_) => "float64",
            Self::I32(_) => "int32",
            Self::I64(_) => "int64",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::F32(v) => v.len(),
            Self::F64(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One tensor read from the checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleTensor {
    pub shape: Vec<usize>,
    pub data: BundleData,
}

/// A TensorBundle's index, read and checked; tensors are read from the data
/// shards on demand.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The path prefix: `.../variables/variables`.
    prefix: PathBuf,
    index_path: PathBuf,
    num_shards: i32,
    entries: BTreeMap<Vec<u8>, BundleEntryProto>,
}

impl Bundle {
    /// Read the index `<prefix>.index`, checking every block checksum and the header.
    pub fn open(prefix: &Path) -> Result<Self, SavedModelError> {
        let index_path = Self::index_path_of(prefix);
        let bytes = std::fs::read(&index_path).map_err(|e| SavedModelError::io(&index_path, e))?;
        Self::from_index(prefix, &bytes)
    }

    /// `<prefix>.index`.
    pub fn index_path_of(prefix: &Path) -> PathBuf {
        with_suffix(prefix, ".index")
    }

    /// A bundle whose index file holds `bytes`; tensors are read from the data
    /// shards beside `prefix`.
    pub fn from_index(prefix: &Path, bytes: &[u8]) -> Result<Self, SavedModelError> {
        let index_path = Self::index_path_of(prefix);
        let table = read_table(bytes).map_err(|e| e.at(&index_path))?;
        let mut table = table.into_iter();
        let header = match table.next() {
            Some((key, value)) if key.is_empty() => BundleHeaderProto::decode(value.as_slice())
                .map_err(|e| {
                    SavedModelError::malformed(
                        &index_path,
                        format!("the bundle header does not parse: {e}"),
                    )
                })?,
            _ => {
                return Err(SavedModelError::malformed(
                    &index_path,
                    "the bundle header (the entry under the empty key) is missing",
                ))
            }
        };
        if header.endianness != 0 {
            return Err(SavedModelError::unsupported(
                &index_path,
                "the bundle was written on a big-endian machine",
            ));
        }
        let version = header.version.unwrap_or_default();
        if version.min_consumer > BUNDLE_VERSION || version.bad_consumers.contains(&BUNDLE_VERSION)
        {
            return Err(SavedModelError::unsupported(
                &index_path,
                format!(
                    "bundle format version {} (readers of version {} and later only)",
                    version.producer, version.min_consumer
                ),
            ));
        }
        if header.num_shards < 1 {
            return Err(SavedModelError::malformed(
                &index_path,
                format!("the bundle header gives {} data shards", header.num_shards),
            ));
        }
        let mut entries = BTreeMap::new();
        for (key, value) in table {
            let entry = BundleEntryProto::decode(value.as_slice()).map_err(|e| {
                SavedModelError::malformed(
                    &index_path,
                    format!("the entry of {:?} does not parse: {e}", lossy(&key)),
                )
            })?;
            entries.insert(key, entry);
        }
        Ok(Self {
            prefix: prefix.to_path_buf(),
            index_path,
            num_shards: header.num_shards,
            entries,
        })
    }

    /// The path of the index file.
    pub fn index_path(&self) -> &Path {
        &self.index_path
    }

    /// The number of data shards the header names.
    pub fn num_shards(&self) -> usize {
        self.num_shards as usize
    }

    /// The checkpoint keys (variable names), sorted; slices of partitioned
    /// variables appear under their own binary keys.
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        self.entries.keys().map(|k| lossy(k))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key.as_bytes())
    }

    /// The dtype name and shape the index gives for `key`, without reading data.
    pub fn describe(&self, key: &str) -> Option<(String, Vec<i64>)> {
        let entry = self.entries.get(key.as_bytes())?;
        let dtype = proto::dtype_name(entry.dtype).unwrap_or_else(|| format!("{}", entry.dtype));
        let dims = entry
            .shape
            .as_ref()
            .map(|s| s.dim.iter().map(|d| d.size).collect())
            .unwrap_or_default();
        Some((dtype, dims))
    }

    /// Read one tensor from its data shard and check its CRC-32C.
    pub fn read(&self, key: &str) -> Result<BundleTensor, SavedModelError> {
        let entry = self.entries.get(key.as_bytes()).ok_or_else(|| {
            SavedModelError::malformed(
                &self.index_path,
                format!("no tensor {key:?} in the checkpoint"),
            )
        })?;
        let index_err = |what: String| {
            SavedModelError::malformed(&self.index_path, format!("tensor {key:?}: {what}"))
        };
        if !entry.slices.is_empty() {
            return Err(SavedModelError::unsupported(
                &self.index_path,
                format!(
                    "tensor {key:?} is a partitioned variable saved in {} slices",
                    entry.slices.len()
                ),
            ));
        }
        let width = match entry.dtype {
            dt::FLOAT | dt::INT32 => 4,
            dt::DOUBLE | dt::INT64 => 8,
            other => {
                let name = proto::dtype_name(other).unwrap_or_else(|| format!("enum {other}"));
                return Err(SavedModelError::unsupported(
                    &self.index_path,
                    format!("tensor {key:?} has dtype {name} (float32, float64, int32 and int64 are read)"),
                ));
            }
        };
        let shape = match &entry.shape {
            None => Vec::new(),
            Some(s) if s.unknown_rank => {
                return Err(index_err("its shape has an unknown rank".into()))
            }
            Some(s) => s
                .dim
                .iter()
                .map(|d| usize::try_from(d.size))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| index_err("its shape has a negative dimension".into()))?,
        };
        let elements = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| index_err("its shape holds too many elements".into()))?;
        let (Ok(offset), Ok(size)) = (u64::try_from(entry.offset), u64::try_from(entry.size))
        else {
            return Err(index_err(format!(
                "negative offset {} or size {}",
                entry.offset, entry.size
            )));
        };
        if elements.checked_mul(width).map(|b| b as u64) != Some(size) {
            return Err(index_err(format!(
                "{size} bytes for {elements} elements of {width} bytes"
            )));
        }
        if entry.shard_id < 0 || entry.shard_id >= self.num_shards {
            return Err(index_err(format!(
                "shard {} of a bundle of {} shards",
                entry.shard_id, self.num_shards
            )));
        }
        let shard = with_suffix(
            &self.prefix,
            &format!(".data-{:05}-of-{:05}", entry.shard_id, self.num_shards),
        );
        let bytes = read_range(&shard, offset, size)?;
        let actual = crc32c::crc32c(&bytes);
        if actual != unmask(entry.crc32c) {
            return Err(SavedModelError::malformed(
                &shard,
                format!(
                    "checksum mismatch for tensor {key:?} ({size} bytes at offset {offset}): \
                     stored {:08x}, computed {actual:08x}",
                    unmask(entry.crc32c)
                ),
            ));
        }
        let data = match entry.dtype {
            dt::FLOAT => BundleData::F32(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            dt::INT32 => BundleData::I32(
                bytes
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            dt::DOUBLE => BundleData::F64(
                bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            _ => BundleData::I64(
                bytes
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
        };
        Ok(BundleTensor { shape, data })
    }
}

/// `bytes[offset..offset + size]` of a file, after checking that the file holds them
/// (so a size field never decides an allocation larger than the file).
fn read_range(path: &Path, offset: u64, size: u64) -> Result<Vec<u8>, SavedModelError> {
    let mut file = File::open(path).map_err(|e| SavedModelError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| SavedModelError::io(path, e))?
        .len();
    if offset.checked_add(size).is_none_or(|end| end > len) {
        return Err(SavedModelError::malformed(
            path,
            format!("a tensor of {size} bytes at offset {offset} runs past the end of the file ({len} bytes)"),
        ));
    }
    let mut bytes = vec![0u8; size as usize];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| SavedModelError::io(path, e))?;
    Ok(bytes)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn lossy(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

/// CRC-32C as LevelDB and TensorFlow store it: rotated and offset, so that a
/// checksum of data holding checksums is not degenerate.
fn unmask(masked: u32) -> u32 {
    masked.wrapping_sub(0xa282_ead8).rotate_left(15)
}

#[cfg(test)]
pub(super) fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// What went wrong in a table, before the file's path is attached.
#[derive(Debug)]
pub(super) enum TableError {
    Malformed(String),
    Unsupported(String),
}

impl TableError {
    fn at(self, path: &Path) -> SavedModelError {
        match self {
            Self::Malformed(m) => SavedModelError::malformed(path, m),
            Self::Unsupported(m) => SavedModelError::unsupported(path, m),
        }
    }
}

fn malformed(message: impl Into<String>) -> TableError {
    TableError::Malformed(message.into())
}

/// A table entry: key and value bytes.
pub(super) type KeyValue = (Vec<u8>, Vec<u8>);

/// Every (key, value) of a LevelDB-format table, in key order, with every block
/// checksum verified.
pub(super) fn read_table(bytes: &[u8]) -> Result<Vec<KeyValue>, TableError> {
    if bytes.len() < FOOTER_LEN {
        return Err(malformed(format!(
            "{} bytes, shorter than a table footer ({FOOTER_LEN} bytes)",
            bytes.len()
        )));
    }
    let footer_at = bytes.len() - FOOTER_LEN;
    let footer = &bytes[footer_at..];
    let magic = u64::from_le_bytes(footer[40..48].try_into().unwrap());
    if magic != TABLE_MAGIC {
        return Err(malformed(format!(
            "not a table: footer magic {magic:#018x} at offset {}",
            footer_at + 40
        )));
    }
    let mut at = 0;
    let metaindex = BlockHandle::decode(&footer[..40], &mut at).ok_or_else(|| {
        malformed(format!(
            "bad metaindex handle in the footer at offset {footer_at}"
        ))
    })?;
    let index = BlockHandle::decode(&footer[..40], &mut at).ok_or_else(|| {
        malformed(format!(
            "bad index handle in the footer at offset {footer_at}"
        ))
    })?;
    // The metaindex names no filter in TensorFlow's tables; it is read for its checksum.
    read_block(bytes, metaindex, footer_at)?;
    let index_block = read_block(bytes, index, footer_at)?;
    let mut out: Vec<KeyValue> = Vec::new();
    for (_, handle) in parse_block(index_block, index.offset)? {
        let mut at = 0;
        let handle = BlockHandle::decode(&handle, &mut at)
            .filter(|_| at == handle.len())
            .ok_or_else(|| {
                malformed(format!(
                    "bad block handle in the index block at offset {}",
                    index.offset
                ))
            })?;
        let block = read_block(bytes, handle, footer_at)?;
        for (key, value) in parse_block(block, handle.offset)? {
            if out.last().is_some_and(|(last, _)| *last >= key) {
                return Err(malformed(format!(
                    "keys out of order in the block at offset {}",
                    handle.offset
                )));
            }
            out.push((key, value));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
struct BlockHandle {
    offset: u64,
    size: u64,
}

impl BlockHandle {
    fn decode(bytes: &[u8], at: &mut usize) -> Option<Self> {
        let offset = varint64(bytes, at)?;
        let size = varint64(bytes, at)?;
        Some(Self { offset, size })
    }
}

/// The contents of the block `handle` points at, within `bytes[..end]`, after
/// checking its trailer: no compression and a matching CRC-32C.
fn read_block(bytes: &[u8], handle: BlockHandle, end: usize) -> Result<&[u8], TableError> {
    let start = usize::try_from(handle.offset).ok();
    let stop = start.and_then(|s| {
        usize::try_from(handle.size)
            .ok()?
            .checked_add(s)?
            .checked_add(BLOCK_TRAILER_LEN)
    });
    let (Some(start), Some(stop)) = (start, stop) else {
        return Err(malformed(format!(
            "a block of {} bytes at offset {} runs past the table's data",
            handle.size, handle.offset
        )));
    };
    if stop > end {
        return Err(malformed(format!(
            "a block of {} bytes at offset {} runs past the table's data ({end} bytes)",
            handle.size, handle.offset
        )));
    }
    let contents_end = stop - BLOCK_TRAILER_LEN;
    let contents = &bytes[start..contents_end];
    let kind = bytes[contents_end];
    let stored = u32::from_le_bytes(bytes[contents_end + 1..stop].try_into().unwrap());
    let actual = crc32c::crc32c_append(crc32c::crc32c(contents), &[kind]);
    if unmask(stored) != actual {
        return Err(malformed(format!(
            "block checksum mismatch at offset {start}"
        )));
    }
    match kind {
        0 => Ok(contents),
        1 => Err(TableError::Unsupported(format!(
            "the block at offset {start} is Snappy-compressed"
        ))),
        other => Err(malformed(format!(
            "unknown compression type {other} for the block at offset {start}"
        ))),
    }
}

/// The (key, value) entries of a block: prefix-compressed keys, then the restart
/// array and its length.
fn parse_block(block: &[u8], offset: u64) -> Result<Vec<KeyValue>, TableError> {
    let bad = |what: &str| malformed(format!("{what} in the block at offset {offset}"));
    if block.len() < 4 {
        return Err(bad("no restart count"));
    }
    let restarts = u32::from_le_bytes(block[block.len() - 4..].try_into().unwrap()) as usize;
    let data_end = restarts
        .checked_add(1)
        .and_then(|n| n.checked_mul(4))
        .and_then(|n| block.len().checked_sub(n))
        .ok_or_else(|| bad("a restart count larger than the block"))?;
    let mut entries = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < data_end {
        let data = &block[..data_end];
        let (Some(shared), Some(unshared), Some(value_len)) = (
            varint32(data, &mut at),
            varint32(data, &mut at),
            varint32(data, &mut at),
        ) else {
            return Err(bad("a truncated entry header"));
        };
        let (shared, unshared, value_len) =
            (shared as usize, unshared as usize, value_len as usize);
        if shared > key.len() {
            return Err(bad("a key sharing more bytes than the previous key has"));
        }
        let key_end = at.checked_add(unshared).filter(|&e| e <= data_end);
        let value_end = key_end
            .and_then(|k| k.checked_add(value_len))
            .filter(|&e| e <= data_end);
        let (Some(key_end), Some(value_end)) = (key_end, value_end) else {
            return Err(bad("an entry running past the entries"));
        };
        key.truncate(shared);
        key.extend_from_slice(&data[at..key_end]);
        entries.push((key.clone(), data[key_end..value_end].to_vec()));
        at = value_end;
    }
    Ok(entries)
}

fn varint64(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        if shift == 63 && byte > 1 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn varint32(bytes: &[u8], at: &mut usize) -> Option<u32> {
    varint64(bytes, at).and_then(|v| u32::try_from(v).ok())
}
