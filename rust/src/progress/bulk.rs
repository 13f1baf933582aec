//! Reading many run folders at once, in parallel.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::error::{ErrorKind, ProgressError};
use super::table::{read_table, Table};
use crate::panic::catch;

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
    catch(|| read_table(path)).unwrap_or_else(|panic| {
        Err(ProgressError {
            line: None,
            kind: ErrorKind::Internal(panic.0),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_result_per_folder_in_order_and_broken_files_do_not_stop_the_rest() {
        let root = std::env::temp_dir().join(format!("spinfast-bulk-{}", std::process::id()));
        let folders: Vec<PathBuf> = (0..40).map(|i| root.join(format!("run_s{i}"))).collect();
        for (i, dir) in folders.iter().enumerate() {
            std::fs::create_dir_all(dir).unwrap();
            let table = if i % 7 == 3 {
                String::new() // a run that died before its first dump
            } else {
                format!("Epoch\tAverageEpRet\n0\t{i}\n")
            };
            std::fs::write(dir.join("progress.txt"), table).unwrap();
            if i % 2 == 0 {
                std::fs::write(dir.join("config.json"), format!("{{\"seed\": {i}}}")).unwrap();
            }
        }
        for threads in [None, Some(1), Some(3)] {
            let results = read_run_folders(&folders, threads);
            assert_eq!(results.len(), folders.len());
            for (i, files) in results.iter().enumerate() {
                match &files.progress {
                    Ok(table) => assert_eq!(table.column(1), [i as f64]),
                    Err(err) => {
                        assert_eq!(i % 7, 3);
                        assert!(matches!(err.kind, ErrorKind::Empty));
                    }
                }
                let config = (i % 2 == 0).then(|| format!("{{\"seed\": {i}}}"));
                assert_eq!(files.config_json, config);
            }
        }
        std::fs::remove_dir_all(root).unwrap();
    }
}
