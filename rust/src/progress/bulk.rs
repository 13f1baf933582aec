//! Reading many run folders at once, in parallel.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::error::{ErrorKind, ProgressError};
use super::table::{read_table, Table};
use crate::panic::panic_message;

/// What one run folder holds: its progress table (or why it could not be read)
/// and the text of its config.json, if there is one that reads as UTF-8.
#[derive(Debug)]
pub struct RunFiles {
    pub progress: Result<Table, ProgressError>,
    pub config_json: Option<String>,
}

/// Reads `progress.txt` and `config.json` in each folder, on `threads` threads
/// (rayon's global pool when `None`). One result per folder, in input order;
/// a broken file never stops the others.
pub fn read_run_folders(folders: &[PathBuf], threads: Option<usize>) -> Vec<RunFiles> {
    let read_all = || folders.par_iter().map(|dir| read_run_folder(dir)).collect();
    match threads {
        None => read_all(),
        Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            Ok(pool) => pool.install(read_all),
            // No threads to be had: read on this one.
            Err(_) => folders.iter().map(|dir| read_run_folder(dir)).collect(),
        },
    }
}

fn read_run_folder(dir: &Path) -> RunFiles {
    RunFiles {
        progress: read_table_guarded(&dir.join("progress.txt")),
        config_json: std::fs::read_to_string(dir.join("config.json")).ok(),
    }
}

/// [`read_table`], with a panic turned into an error for this file alone.
pub fn read_table_guarded(path: &Path) -> Result<Table, ProgressError> {
    catch_unwind(AssertUnwindSafe(|| read_table(path))).unwrap_or_else(|panic| {
        Err(ProgressError {
            line: None,
            kind: ErrorKind::Internal(panic_message(panic.as_ref())),
        })
    })
}
