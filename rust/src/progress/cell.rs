//! Turning one tab-separated cell into an `f64`.
//!
//! The value is the one Python's `float()` gives for the cell (fast-float2 rounds
//! correctly, as CPython does). Empty cells and pandas' default missing-value
//! markers (`NA`, `NULL`, `None`, `#N/A`, ...) read as NaN, as `pandas.read_table`
//! reads them, so a table matches pandas cell for cell.

/// pandas' default `na_values` (pandas.io.parsers STR_NA_VALUES), minus the ones
/// fast-float already reads as NaN (`nan`, `NaN`, `-nan`, `-NaN`).
const NA_MARKERS: &[&[u8]] = &[
    b"#N/A",
    b"#N/A N/A",
    b"#NA",
    b"-1.#IND",
    b"-1.#QNAN",
    b"1.#IND",
    b"1.#QNAN",
    b"<NA>",
    b"N/A",
    b"NA",
    b"NULL",
    b"None",
    b"n/a",
    b"null",
];

/// Parses one cell; `None` when it is not a number.
#[inline]
pub fn parse_cell(cell: &[u8]) -> Option<f64> {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Some(f64::NAN);
    }
    match fast_float2::parse_partial::<f64, _>(cell) {
        Ok((value, used)) if used == cell.len() => Some(value),
        _ if NA_MARKERS.contains(&cell) => Some(f64::NAN),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cell;

    #[test]
    fn numbers_as_python_reads_them() {
        assert_eq!(parse_cell(b"1.5"), Some(1.5));
        assert_eq!(parse_cell(b" -2e-3 "), Some(-0.002));
        assert_eq!(parse_cell(b"1e-300"), Some(1e-300));
        assert_eq!(parse_cell(b"0.1"), Some(0.1));
        assert_eq!(parse_cell(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_cell(b"-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_cell(b"-0.0").unwrap().is_sign_negative());
    }

    #[test]
    fn missing_values_are_nan() {
        for cell in [&b""[..], b"nan", b"NaN", b"NA", b"None", b"  "] {
            assert!(parse_cell(cell).unwrap().is_nan(), "{cell:?}");
        }
    }

    #[test]
    fn text_is_refused() {
        for cell in [&b"abc"[..], b"1.5x", b"1,5", b"--1"] {
            assert_eq!(parse_cell(cell), None, "{cell:?}");
        }
    }
}
