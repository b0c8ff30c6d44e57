//! `<csv>.store`: the mark that a CSV file's send runs in a job store.
//!
//! The store knows what it sent; a run of the same file without `--store`
//! (a journal) or with another store does not, and would send everyone again.
//! So `send-bulk --store` marks the file before its first send, and a run the
//! mark does not name is refused, as `--store` refuses a file with a journal.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::store::StoreUrl;

/// What the mark says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Mark {
    /// The store, as `StoreUrl::describe` gives it (never a password); an SQLite file by its canonical path.
    pub store: String,
    /// The campaign in it.
    pub campaign: i64,
    /// When the file's send began (RFC 3339): the first run's start, kept across a lost store.
    #[serde(default)]
    pub began: Option<String>,
    /// How the last run ended: `None` while a run is on (or after one that
    /// did not end: a crash), else a digest of where every batch stood then.
    /// A store that differs was put back from an older copy, or changed by
    /// another tool. (A mark without it is read as a run that did not end.)
    #[serde(default)]
    pub ended: Option<String>,
}

/// The mark's file for the CSV file `csv`.
pub(super) fn path_for(csv: &Path) -> PathBuf {
    let mut path = csv.as_os_str().to_owned();
    path.push(".store");
    PathBuf::from(path)
}

/// How the mark names `url`: an SQLite file by its canonical path, so that
/// two spellings of one file are one store.
fn name_of(url: &StoreUrl) -> String {
    match url {
        StoreUrl::Sqlite(path) => {
            let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            StoreUrl::Sqlite(path).describe()
        }
        other => other.describe(),
    }
}

/// Reads the mark of `csv`, if there is one.
pub(super) fn read(csv: &Path) -> Result<Option<Mark>, Failure> {
    let path = path_for(csv);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Failure::usage(format!("cannot read {}: {error}", path.display()))),
    };
    serde_json::from_str(&text).map(Some).map_err(|error| {
        Failure::usage(format!(
            "{} is not a send-bulk store mark ({error}); nothing sent. It says this file's send runs in a job \
             store: run with that --store",
            path.display()
        ))
    })
}

/// The store a run that names none uses for a marked file: the SQLite file
/// the mark names. A PostgreSQL database is not in the mark (its connection
/// string may hold a password), so such a file needs its `--store` again.
pub(super) fn marked_store(csv: &Path) -> Result<Option<StoreUrl>, Failure> {
    let Some(mark) = read(csv)? else { return Ok(None) };
    match StoreUrl::parse(&mark.store) {
        Ok(url @ StoreUrl::Sqlite(_)) => Ok(Some(url)),
        _ => Err(Failure::usage(format!(
            "{} says this file's send runs in the job store {} (campaign {}): run with that --store, or its \
             batches would be sent again; nothing sent",
            path_for(csv).display(),
            mark.store,
            mark.campaign
        ))),
    }
}

/// Refuses a journal's run over a file whose send runs in a store.
pub(super) fn refuse_without_store(csv: &Path) -> Result<(), Failure> {
    match read(csv)? {
        None => Ok(()),
        Some(mark) => Err(Failure::usage(format!(
            "{} says this file's send runs in the job store {} (campaign {}): run without --journal (or with that \
             --store), or its batches would be sent again; nothing sent",
            path_for(csv).display(),
            mark.store,
            mark.campaign
        ))),
    }
}

/// Refuses a run with `url` over a file whose send runs in another store. A
/// PostgreSQL database is not named (its connection string may hold a
/// password), so any two of them pass for one.
pub(super) fn refuse_another_store(csv: &Path, url: &StoreUrl) -> Result<(), Failure> {
    let Some(mark) = read(csv)? else { return Ok(()) };
    let ours = name_of(url);
    if mark.store == ours {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "{} says this file's send runs in the job store {} (campaign {}), not {ours}: what that store sent is \
         not in this one, and its batches would be sent again; nothing sent (if that store is gone and sent \
         nothing of this file, delete the mark)",
        path_for(csv).display(),
        mark.store,
        mark.campaign
    )))
}

/// Marks `csv` as sent through `mark`'s campaign of `url` (its `store` is
/// set from `url`): on disk before it returns. The mark is written whole to a
/// file beside it, then renamed over it, so a crash leaves the old mark or the
/// new one.
pub(super) fn write(csv: &Path, url: &StoreUrl, mark: &Mark) -> std::io::Result<()> {
    let path = path_for(csv);
    let mark = Mark { store: name_of(url), ..mark.clone() };
    let mut text = serde_json::to_vec_pretty(&mark).map_err(std::io::Error::other)?;
    text.push(b'\n');
    let mut new = path.clone().into_os_string();
    new.push(".new");
    let new = PathBuf::from(new);
    let mut file = File::create(&new)?;
    file.write_all(&text)?;
    file.sync_all()?;
    std::fs::rename(&new, &path)?;
    // The mark's directory entry too: a crash must not lose it after the first send.
    #[cfg(unix)]
    {
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        File::open(&directory)?.sync_all()?;
    }
    Ok(())
}
