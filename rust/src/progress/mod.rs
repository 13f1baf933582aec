//! The progress.txt reader: pure Rust, no Python. `table` parses one file,
//! `cell` one value, `bulk` many run folders in parallel, `error` says what went wrong.

mod bulk;
mod cell;
mod error;
mod table;

pub use bulk::{read_run_folders, read_table_guarded, RunFiles};
pub use error::{ErrorKind, ProgressError};
pub use table::{parse_table, read_table, Table};
