//! Reading a whole progress.txt into columns.
//!
//! The format is Spinning Up's (`Logger.dump_tabular` in spinup/utils/logx.py):
//! a header line of tab-separated column names, then one tab-separated row per
//! epoch. Rows are read as `pandas.read_table` reads them (blank lines skipped,
//! short rows padded with NaN), with two differences that keep data safe:
//! a last line cut mid-write, or a tail of NUL bytes left by a crash, ends the
//! table at the last complete row and marks it `truncated` instead of turning
//! the column into text.

use std::collections::HashMap;
use std::path::Path;

use memchr::{memchr, memchr_iter};
use rayon::prelude::*;

use super::cell::parse_cell;
use super::error::{ErrorKind, ProgressError};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A progress.txt file as columns of `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names, in file order.
    pub columns: Vec<String>,
    /// Number of data rows.
    pub rows: usize,
    /// The values, column after column: column `c` is `values[c*rows..(c+1)*rows]`.
    pub values: Vec<f64>,
    /// True when the file ended in an incomplete row or a block of NUL bytes.
    pub truncated: bool,
}

impl Table {
    /// The values of column `index`.
    pub fn column(&self, index: usize) -> &[f64] {
        &self.values[index * self.rows..(index + 1) * self.rows]
    }
}

/// Reads and parses the file at `path`.
pub fn read_table(path: &Path) -> Result<Table, ProgressError> {
    parse_table(&std::fs::read(path)?)
}

/// Bodies smaller than this are parsed on one thread; larger ones are cut at line
/// ends into pieces of at least this size, parsed in parallel.
const PARALLEL_PIECE: usize = 1 << 20;

/// Parses the bytes of a progress.txt file.
pub fn parse_table(bytes: &[u8]) -> Result<Table, ProgressError> {
    if bytes.is_empty() {
        return Err(ProgressError::at(1, ErrorKind::Empty));
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let (bytes, mut truncated) = cut_at_nul(bytes);

    let mut lines = Lines::new(bytes, 1);
    let (header_no, header) = lines
        .next()
        .ok_or_else(|| ProgressError::at(1, ErrorKind::NoHeader))?;
    let columns = parse_header(header_no, header)?;
    let width = columns.len();
    let ends_with_newline = bytes.last() == Some(&b'\n');

    let pieces = split_at_line_ends(lines.rest, PARALLEL_PIECE, rayon::current_num_threads());
    let last = pieces.len() - 1;
    let parse = |(i, piece): (usize, &&[u8])| {
        let cut_at_end = i == last && !ends_with_newline;
        parse_rows(piece, &columns, cut_at_end)
    };
    let parsed: Vec<Result<Rows, ProgressError>> = if pieces.len() == 1 {
        pieces.iter().enumerate().map(parse).collect()
    } else {
        pieces.par_iter().enumerate().map(parse).collect()
    };

    // Each piece numbered its lines from 1: the first error, in file order, gets
    // the lines of the header and of the pieces before it added.
    let mut lines_before = header_no;
    let mut done = Vec::with_capacity(parsed.len());
    for result in parsed {
        match result {
            Ok(rows) => {
                lines_before += rows.lines;
                truncated |= rows.truncated;
                done.push(rows.values);
            }
            Err(mut err) => {
                err.line = err.line.map(|line| line + lines_before);
                return Err(err);
            }
        }
    }
    let rows = done.iter().map(Vec::len).sum::<usize>() / width;
    Ok(Table {
        columns,
        rows,
        values: to_column_major(&done, rows, width),
        truncated,
    })
}

/// The rows of one piece of a file's body, row after row.
struct Rows {
    values: Vec<f64>,
    /// How many lines the piece held.
    lines: usize,
    truncated: bool,
}

/// Parses the data lines of `piece`, numbering them from 1. `cut_at_end`: the
/// piece ends the file and the file does not end with a newline.
fn parse_rows(piece: &[u8], columns: &[String], cut_at_end: bool) -> Result<Rows, ProgressError> {
    let width = columns.len();
    // Each line is parsed into `row`, then appended to `values` once the whole
    // line has been read, so a bad line leaves nothing half-written.
    let mut row = vec![0.0; width];
    let mut values: Vec<f64> = Vec::with_capacity(piece.len() / 8);
    let mut lines = Lines::new(piece, 1);
    let mut truncated = false;
    while let Some((line_no, line)) = lines.next() {
        if line.is_empty() {
            continue;
        }
        // A last line without its newline is a write that was interrupted: when
        // it is short or does not parse, keep the complete rows above it and say so.
        let cut_mid_write = cut_at_end && lines.rest.is_empty();
        match parse_row(line_no, line, columns, &mut row) {
            Ok(found) if cut_mid_write && found < width => truncated = true,
            Ok(_) => values.extend_from_slice(&row),
            Err(_) if cut_mid_write => truncated = true,
            Err(err) => return Err(err),
        }
    }
    Ok(Rows {
        values,
        lines: lines.next_no - 1,
        truncated,
    })
}

/// Cuts `body` just after line ends into at most `parts` pieces of at least
/// `min_size` bytes (one piece when it is small). Every piece but the last ends
/// with a newline; none is empty unless `body` is.
fn split_at_line_ends(body: &[u8], min_size: usize, parts: usize) -> Vec<&[u8]> {
    let parts = parts.min(body.len() / min_size).max(1);
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = body;
    for i in (1..parts).rev() {
        let target = rest.len() / (i + 1);
        match memchr(b'\n', &rest[target..]) {
            Some(nl) if target + nl + 1 < rest.len() => {
                let (piece, tail) = rest.split_at(target + nl + 1);
                pieces.push(piece);
                rest = tail;
            }
            _ => break,
        }
    }
    pieces.push(rest);
    pieces
}

/// Row-major pieces (each a whole number of rows) into one column-major buffer.
fn to_column_major(pieces: &[Vec<f64>], rows: usize, width: usize) -> Vec<f64> {
    let mut out = vec![0.0; rows * width];
    let all_rows = pieces.iter().flat_map(|piece| piece.chunks_exact(width));
    for (r, row) in all_rows.enumerate() {
        for (c, &value) in row.iter().enumerate() {
            out[c * rows + r] = value;
        }
    }
    out
}

fn field_count(line: &[u8]) -> usize {
    memchr_iter(b'\t', line).count() + 1
}

/// Drops everything from the line holding the first NUL byte on.
fn cut_at_nul(bytes: &[u8]) -> (&[u8], bool) {
    match memchr(0, bytes) {
        None => (bytes, false),
        Some(nul) => {
            let line_start = bytes[..nul]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            (&bytes[..line_start], true)
        }
    }
}

fn parse_header(line_no: usize, line: &[u8]) -> Result<Vec<String>, ProgressError> {
    let text =
        std::str::from_utf8(line).map_err(|_| ProgressError::at(line_no, ErrorKind::NotUtf8))?;
    if text.trim().is_empty() {
        return Err(ProgressError::at(line_no, ErrorKind::NoHeader));
    }
    let columns: Vec<String> = text.split('\t').map(str::to_owned).collect();
    let mut seen = HashMap::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_str(), i) {
            return Err(ProgressError::at(
                line_no,
                ErrorKind::DuplicateColumn {
                    name: name.clone(),
                    first: first + 1,
                    second: i + 1,
                },
            ));
        }
    }
    Ok(columns)
}

/// Parses one data row into `row` (one slot per column), filling the columns a
/// short row lacks with NaN as pandas does. Returns how many fields the line had.
fn parse_row(
    line_no: usize,
    line: &[u8],
    columns: &[String],
    row: &mut [f64],
) -> Result<usize, ProgressError> {
    let width = row.len();
    let mut rest = line;
    let mut found = 0;
    loop {
        // Fast path: a plain number ending at a tab or at the end of the line.
        let (value, used) = match fast_float2::parse_partial::<f64, _>(rest) {
            Ok((value, used)) if rest.get(used).is_none_or(|&b| b == b'\t') => (value, used),
            _ => {
                let end = memchr(b'\t', rest).unwrap_or(rest.len());
                (slow_cell(line_no, &rest[..end], &columns[found])?, end)
            }
        };
        row[found] = value;
        found += 1;
        if used == rest.len() {
            break;
        }
        rest = &rest[used + 1..];
        if found == width {
            return Err(ProgressError::at(
                line_no,
                ErrorKind::TooManyFields {
                    found: width + field_count(rest),
                    expected: width,
                },
            ));
        }
    }
    row[found..].fill(f64::NAN);
    Ok(found)
}

/// A cell the fast path did not take: blank, padded, a missing-value marker, or bad.
fn slow_cell(line_no: usize, cell: &[u8], column: &str) -> Result<f64, ProgressError> {
    parse_cell(cell).ok_or_else(|| {
        let kind = match std::str::from_utf8(cell) {
            Ok(value) => ErrorKind::NotANumber {
                column: column.to_owned(),
                value: value.to_owned(),
            },
            Err(_) => ErrorKind::NotUtf8,
        };
        ProgressError::at(line_no, kind)
    })
}

/// The lines of a file (or of a piece of one) with their numbers, `\r\n` or `\n` ended.
struct Lines<'a> {
    rest: &'a [u8],
    next_no: usize,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8], first_no: usize) -> Self {
        Self {
            rest: bytes,
            next_no: first_no,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        let no = self.next_no;
        self.next_no += 1;
        Some((no, line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(bytes: &[u8]) -> (Option<usize>, ErrorKind) {
        let err = parse_table(bytes).unwrap_err();
        (err.line, err.kind)
    }

    #[test]
    fn columns_in_file_order() {
        let t = parse_table(b"Epoch\tAverageEpRet\n0\t1.5\n1\t\n").unwrap();
        assert_eq!(t.columns, ["Epoch", "AverageEpRet"]);
        assert_eq!(t.rows, 2);
        assert_eq!(t.column(0), [0.0, 1.0]);
        assert_eq!(t.column(1)[0], 1.5);
        assert!(t.column(1)[1].is_nan());
        assert!(!t.truncated);
    }

    #[test]
    fn crlf_bom_and_blank_lines() {
        let t = parse_table(b"\xEF\xBB\xBFa\tb\r\n1\t2\r\n\r\n3\t4\r\n").unwrap();
        assert_eq!(t.columns, ["a", "b"]);
        assert_eq!(t.values, [1.0, 3.0, 2.0, 4.0]);
    }

    #[test]
    fn header_only_has_no_rows() {
        let t = parse_table(b"a\tb\n").unwrap();
        assert_eq!((t.rows, t.columns.len(), t.truncated), (0, 2, false));
    }

    #[test]
    fn short_middle_row_is_padded_like_pandas() {
        let t = parse_table(b"a\tb\n1\n2\t3\n").unwrap();
        assert!(t.column(1)[0].is_nan());
        assert_eq!(t.column(1)[1], 3.0);
    }

    #[test]
    fn last_line_cut_mid_write_is_dropped() {
        let t = parse_table(b"a\tb\n1\t2\n3").unwrap();
        assert_eq!((t.rows, t.truncated), (1, true));
        let t = parse_table(b"a\tb\n1\t2\n3\t4e").unwrap();
        assert_eq!((t.rows, t.truncated), (1, true));
        // A complete last row without its newline is kept.
        let t = parse_table(b"a\tb\n1\t2\n3\t4").unwrap();
        assert_eq!((t.rows, t.truncated), (2, false));
    }

    #[test]
    fn nul_tail_ends_the_table() {
        let t = parse_table(b"a\tb\n1\t2\n3\t\0\0\0\0").unwrap();
        assert_eq!((t.rows, t.truncated), (1, true));
        let t = parse_table(b"a\tb\n1\t2\n\0\0\0").unwrap();
        assert_eq!((t.rows, t.truncated), (1, true));
    }

    #[test]
    fn errors_name_the_line() {
        assert!(matches!(kind(b""), (Some(1), ErrorKind::Empty)));
        assert!(matches!(
            kind(b"a\tb\n1\t2\n1\t2\t3\n"),
            (
                Some(3),
                ErrorKind::TooManyFields {
                    found: 3,
                    expected: 2
                }
            )
        ));
        assert!(matches!(
            kind(b"a\tb\n1\tx\n"),
            (Some(2), ErrorKind::NotANumber { .. })
        ));
        assert!(matches!(
            kind(b"a\tb\n1\t\xff\n"),
            (Some(2), ErrorKind::NotUtf8)
        ));
        assert!(matches!(
            kind(b"a\ta\n"),
            (Some(1), ErrorKind::DuplicateColumn { .. })
        ));
        assert!(matches!(kind(b"\n1\n"), (Some(1), ErrorKind::NoHeader)));
    }

    /// A body of several MiB, so that it is parsed in pieces on several threads.
    fn big_file(rows: usize) -> String {
        let mut text = String::from("Epoch\tA\tB\n");
        for r in 0..rows {
            text += &format!("{r}\t{}\t{}\n", r as f64 * 0.1, -(r as f64) / 3.0);
        }
        text
    }

    #[test]
    fn pieces_cut_at_line_ends() {
        let body = b"aa\nbbb\nc\ndddd\n";
        for parts in 1..6 {
            let pieces = split_at_line_ends(body, 2, parts);
            assert_eq!(pieces.concat(), body);
            assert!(pieces.iter().all(|p| p.ends_with(b"\n")), "{pieces:?}");
        }
        assert_eq!(split_at_line_ends(b"", PARALLEL_PIECE, 4), [b""]);
    }

    #[test]
    fn big_files_parsed_in_pieces_give_every_row_in_order() {
        let rows = 150_000; // about 4 MiB
        let t = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(|| parse_table(big_file(rows).as_bytes()))
            .unwrap();
        assert_eq!(t.rows, rows);
        for r in [0, 1, rows / 3, rows / 2, rows - 1] {
            assert_eq!(t.column(0)[r], r as f64);
            assert_eq!(t.column(1)[r], r as f64 * 0.1);
            assert_eq!(t.column(2)[r], -(r as f64) / 3.0);
        }
    }

    #[test]
    fn big_files_name_the_right_line_and_keep_truncation() {
        let rows = 150_000;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let mut text = big_file(rows);
        // line 1 is the header, so row r is on line r + 2
        let bad = 120_000;
        let start = text.find(&format!("\n{bad}\t")).unwrap() + 1;
        text.replace_range(start..start + bad.to_string().len(), "oops");
        let err = pool.install(|| parse_table(text.as_bytes())).unwrap_err();
        assert_eq!(err.line, Some(bad + 2));

        let mut cut = big_file(rows);
        cut.push_str("150000\t1.5");
        let t = pool.install(|| parse_table(cut.as_bytes())).unwrap();
        assert_eq!((t.rows, t.truncated), (rows, true));
    }
}
