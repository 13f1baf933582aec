//! What can be wrong with a progress.txt file, as a type.

/// Why a progress.txt file could not be read. `Display` gives the reason alone;
/// [`ProgressError`] adds the line.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the file is empty (0 bytes): the run stopped before its first dump_tabular, \
         so there is no header and no data"
    )]
    Empty,
    #[error("the header line is empty: no column names")]
    NoHeader,
    #[error("column {name:?} appears twice in the header (columns {first} and {second})")]
    DuplicateColumn {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("the bytes are not valid UTF-8")]
    NotUtf8,
    #[error("the row has {found} tab-separated fields but the header has {expected}")]
    TooManyFields { found: usize, expected: usize },
    #[error("the cell {value:?} in column {column:?} is not a number")]
    NotANumber { column: String, value: String },
    #[error("internal error in the parser (please report it): {0}")]
    Internal(String),
}

/// A parse failure with the 1-based line of the file it was found on
/// (`None` where no line applies, e.g. the file could not be opened).
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct ProgressError {
    pub line: Option<usize>,
    pub kind: ErrorKind,
}

impl ProgressError {
    pub fn at(line: usize, kind: ErrorKind) -> Self {
        Self {
            line: Some(line),
            kind,
        }
    }
}

impl From<std::io::Error> for ProgressError {
    fn from(err: std::io::Error) -> Self {
        Self {
            line: None,
            kind: ErrorKind::Io(err),
        }
    }
}
