//! The journal's file: appends from the run, from the thread that syncs a
//! group, and from the unsynced log, one at a time.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::records::{Line, OutcomeLine};
use crate::bulk::journal::{JournalError, UnsyncedLog};
use crate::bulk::record::{now, BatchOutcome};

/// How much room a durable write leaves ahead of the last line, written as
/// zeros: a sync of lines written over them need not record a new file size,
/// which makes it about twice as fast (and half the work) as a sync of an
/// append. It is renewed once less than half of it is left.
pub(super) const ROOM_AHEAD: u64 = 256 << 10;

/// A journal file open for appending.
pub(super) struct JournalFile {
    file: File,
    path: PathBuf,
    /// Held while bytes are appended (not while they are synced).
    appending: Mutex<Appending>,
    /// Runs instead of the next disk sync, in tests.
    #[cfg(test)]
    pub(super) sync_instead: Mutex<Option<SyncHook>>,
}

#[cfg(test)]
pub(super) type SyncHook = Box<dyn FnOnce(&JournalFile) -> std::io::Result<()> + Send>;

#[derive(Debug, Default)]
struct Appending {
    /// Whether a failed write could not be cut off: the file may end in part
    /// of a line, and nothing more is written to it.
    broken: bool,
    /// Where the zeros kept ahead end (the file's length), if any are.
    reserved: u64,
    /// The batches whose outcome line the unsynced log appended, not synced yet.
    answered: BTreeSet<usize>,
}

impl JournalFile {
    /// `file`, its lines ending where it is positioned (its last byte).
    pub(super) fn new(file: File, path: &Path) -> Self {
        JournalFile {
            file,
            path: path.to_owned(),
            appending: Mutex::new(Appending::default()),
            #[cfg(test)]
            sync_instead: Mutex::new(None),
        }
    }

    pub(super) fn file(&self) -> &File {
        &self.file
    }

    fn error(&self, action: &'static str) -> impl Fn(std::io::Error) -> JournalError + '_ {
        move |source| JournalError::Io { path: self.path.clone(), action, source }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Appending> {
        self.appending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `bytes` with one write, without a sync: where the lines ended
    /// before them. On failure, cuts off what part of them reached the file, so
    /// that the journal stays whole lines and a later write can follow.
    pub(super) fn append(&self, bytes: &[u8]) -> Result<u64, JournalError> {
        self.append_locked(&mut self.lock(), bytes, false)
    }

    /// [`append`](Self::append), with the lock held; `keep_room`: and leaves zeros ahead.
    fn append_locked(&self, appending: &mut Appending, bytes: &[u8], keep_room: bool) -> Result<u64, JournalError> {
        if appending.broken {
            let source = std::io::Error::other("an earlier write that failed could not be cut off the file");
            return Err(self.error("write")(source));
        }
        let mut file = &self.file;
        let end = file.stream_position().map_err(self.error("write"))?;
        let needed = end + bytes.len() as u64;
        let room = if keep_room { self.keep_room(appending, needed) } else { Ok(()) };
        if let Err(error) = room.and_then(|()| file.write_all(bytes)) {
            self.cut_at(appending, end);
            return Err(self.error("write")(error));
        }
        Ok(end)
    }

    /// Makes sure zeros follow `needed` (where the lines will end), writing
    /// another stretch of them if not; the file stays positioned where it was.
    fn keep_room(&self, appending: &mut Appending, needed: u64) -> std::io::Result<()> {
        if needed + ROOM_AHEAD / 2 <= appending.reserved {
            return Ok(());
        }
        let mut file = &self.file;
        let position = file.stream_position()?;
        let from = appending.reserved.max(position);
        let to = needed + ROOM_AHEAD;
        file.seek(SeekFrom::Start(from))?;
        let zeros = vec![0; usize::try_from(to - from).map_err(std::io::Error::other)?];
        let written = file.write_all(&zeros);
        file.seek(SeekFrom::Start(position))?;
        written?;
        appending.reserved = to;
        Ok(())
    }

    /// Cuts the file (and the zeros ahead) at `end`, where its lines end.
    fn cut_at(&self, appending: &mut Appending, end: u64) {
        let mut file = &self.file;
        appending.broken = file.set_len(end).and_then(|()| file.seek(SeekFrom::Start(end))).is_err();
        appending.reserved = 0;
    }

    /// Whether the unsynced log appended `batch`'s outcome line (now to be synced with the next group).
    pub(super) fn take_answered(&self, batch: usize) -> bool {
        self.lock().answered.remove(&batch)
    }

    /// Appends `bytes` and syncs them to disk. If the sync fails, they are cut
    /// off again, unless something was appended after them meanwhile (a
    /// departure, which must not be lost).
    pub(super) fn append_durably(&self, bytes: &[u8]) -> Result<(), NotDurable> {
        let end =
            self.append_locked(&mut self.lock(), bytes, true).map_err(|error| NotDurable { error, kept: false })?;
        let Err(error) = self.sync().map_err(self.error("sync")) else { return Ok(()) };
        let mut appending = self.lock();
        let written_end = end + bytes.len() as u64;
        let alone = (&self.file).stream_position().is_ok_and(|now| now == written_end);
        if alone {
            self.cut_at(&mut appending, end);
        }
        Err(NotDurable { error, kept: !alone })
    }
}

impl std::fmt::Debug for JournalFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalFile").field("path", &self.path).finish_non_exhaustive()
    }
}

impl JournalFile {
    fn sync(&self) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(hook) = self.sync_instead.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return hook(self);
        }
        self.file.sync_data()
    }
}

impl Drop for JournalFile {
    /// Leaves the file whole lines, without the zeros kept ahead (a reader
    /// skips them, but tools that read JSON lines need not).
    fn drop(&mut self) {
        let appending = self.appending.get_mut().unwrap_or_else(PoisonError::into_inner);
        if appending.reserved > 0 {
            if let Ok(end) = (&self.file).stream_position() {
                let _ = self.file.set_len(end);
            }
        }
    }
}

/// A durable write that failed.
#[derive(Debug)]
pub(super) struct NotDurable {
    pub(super) error: JournalError,
    /// Whether its bytes stay in the file, unsynced: lines were appended after them.
    pub(super) kept: bool,
}

impl From<NotDurable> for JournalError {
    fn from(failed: NotDurable) -> Self {
        failed.error
    }
}

/// A journal's `leaving` lines and answers, appended without a sync: they
/// outlive the process (though not the machine).
#[derive(Debug)]
pub(super) struct JournalLog(pub(super) Arc<JournalFile>);

impl UnsyncedLog for JournalLog {
    fn leaving(&self, batch: usize) -> Result<(), JournalError> {
        let line = super::encode(&self.0.path, [&Line::Leaving { batch }])?;
        self.0.append(&line).map(drop)
    }

    fn answered(&self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        let at = now();
        let line = super::encode(&self.0.path, [&OutcomeLine::new(batch, &at, outcome)])?;
        let mut appending = self.0.lock();
        self.0.append_locked(&mut appending, &line, false)?;
        appending.answered.insert(batch);
        Ok(())
    }
}
