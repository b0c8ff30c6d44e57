//! The journal file's writer: groups written in the order they come, each
//! write followed by one disk sync, and the groups that came in during a
//! sync written together right after it, off the caller's thread.
//!
//! A caller submits a group's bytes and gets its number at once; the group is
//! durable when a sync that began after its bytes were written returned OK.
//! Writes and syncs are never concurrent with each other: one thread (Tokio's
//! blocking pool, or the caller's when there is no runtime) takes every group
//! waiting, writes them with one write, syncs, and starts again with those
//! that came in meanwhile. A sync that fails is thus never followed by
//! another one that could report the same lost pages as written (Linux tells
//! of a failed write-back once per open file).
//!
//! When a write or sync fails, the bytes of that write are cut off the file
//! (nothing was written after them), and it and every group submitted after
//! it fail, until the journal [acknowledges](Writer::acknowledge) the failure:
//! a later group may hold an outcome whose attempt was in a failed one. If the
//! bytes cannot be cut off, the file may end with a partial line that a later
//! line would turn into damage in the middle of the journal (which a resumed
//! run refuses): every later group then fails too.

use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::journal::JournalError;

/// Writes and syncs a journal file's groups in order.
pub(super) struct Writer {
    file: File,
    path: PathBuf,
    state: Mutex<State>,
    /// Signalled whenever groups become durable or fail, for callers that block.
    changed: Condvar,
    /// Called between each write and its sync, in tests: may hold it up, or fail it.
    #[cfg(test)]
    before_sync: Mutex<Option<BeforeSync>>,
}

#[cfg(test)]
type BeforeSync = Box<dyn FnMut() -> std::io::Result<()> + Send>;

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).field("state", &self.state).finish_non_exhaustive()
    }
}

/// A group's number: the first group submitted is 1.
pub(super) type Group = u64;

#[derive(Debug, Default)]
struct State {
    /// The bytes of the groups submitted and not written yet, in order.
    queued: Vec<u8>,
    /// The last group submitted.
    submitted: Group,
    /// Every group up to this one is durable (unless it is in `failures`).
    durable: Group,
    /// The groups that failed, in ranges.
    failures: Vec<Failure>,
    /// A write failed and was not acknowledged: groups submitted now fail.
    refusing: bool,
    /// A failed write could not be cut off the file: every group fails from now on.
    broken: bool,
    /// Whether a thread is writing the queued groups.
    writing: bool,
    /// The tasks waiting for a group.
    wakers: Vec<(Group, Waker)>,
}

/// Groups `from..=through` failed.
#[derive(Debug)]
struct Failure {
    from: Group,
    through: Group,
    action: &'static str,
    error: Arc<std::io::Error>,
}

/// Where a group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Being written or synced.
    Pending,
    /// On disk.
    Durable,
    /// Not recorded: it, or a group before it, could not be written.
    Failed,
}

/// How a write that failed left the file.
struct WriteFailure {
    action: &'static str,
    error: std::io::Error,
    /// Whether what part of the bytes reached the file was cut off again.
    cut: bool,
}

impl Writer {
    /// A writer appending to `file`, whose position is at its end.
    pub(super) fn new(file: File, path: PathBuf) -> Self {
        Writer {
            file,
            path,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            #[cfg(test)]
            before_sync: Mutex::new(None),
        }
    }

    /// Calls `hook` between each write and its sync from now on.
    #[cfg(test)]
    pub(super) fn before_sync(&self, hook: impl FnMut() -> std::io::Result<()> + Send + 'static) {
        *self.before_sync.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(hook));
    }

    /// The file, for what the journal does before any group: reading it, writing its header.
    pub(super) fn file(&self) -> &File {
        &self.file
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as consistent as at any
        // other point: every change to it is made under the lock in one step.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `bytes` (whole lines) as the next group and starts writing unless a
    /// write is under way (which takes them next): the group's number. Writes on
    /// Tokio's blocking pool when `spawn` and there is a runtime, else on this thread.
    pub(super) fn submit(self: &Arc<Self>, bytes: Vec<u8>, spawn: bool) -> Group {
        let mut state = self.state();
        state.submitted += 1;
        let group = state.submitted;
        if state.refusing || state.broken {
            if let Some(failure) = state.failures.last_mut() {
                failure.through = group;
            }
            return group;
        }
        state.queued.extend_from_slice(&bytes);
        if std::mem::replace(&mut state.writing, true) {
            return group;
        }
        drop(state);
        let drain = Drain(Arc::clone(self));
        match tokio::runtime::Handle::try_current() {
            // Whether the closure runs or the runtime drops it on shutting down,
            // dropping `drain` writes what is queued: no group is left waiting.
            Ok(runtime) if spawn => drop(runtime.spawn_blocking(move || drop(drain))),
            _ => drop(drain),
        }
        group
    }

    /// Waits on this thread until `group` is durable or failed.
    pub(super) fn wait(&self, group: Group) -> Result<(), JournalError> {
        let mut state = self.state();
        loop {
            if let Some(result) = state.result(group, &self.path) {
                return result;
            }
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// A future completing when `group` is durable, or with why it failed.
    pub(super) fn durable(self: &Arc<Self>, group: Group) -> Durable {
        Durable { writer: Arc::clone(self), group }
    }

    /// Takes the groups of `unsettled` (in the order submitted) that are no
    /// longer pending off its front: `apply` gets those that are durable, and
    /// those that failed are dropped. Once none is pending, groups submitted
    /// from now on are written again after a failure (unless a failed write
    /// could not be cut off): those before were all seen to fail, so none
    /// after can hold an outcome whose attempt was lost.
    pub(super) fn settle<T>(&self, unsettled: &mut VecDeque<(Group, T)>, mut apply: impl FnMut(T)) {
        let mut state = self.state();
        while let Some(&(group, _)) = unsettled.front() {
            let standing = state.standing(group);
            if standing == Standing::Pending {
                return;
            }
            if let Some((_, value)) = unsettled.pop_front() {
                if standing == Standing::Durable {
                    apply(value);
                }
            }
        }
        if !state.writing {
            state.refusing = false;
        }
    }

    /// Waits for the write under way, if any, and unlocks the file: a thread
    /// that wrote may hold it open a moment longer, and the journal can be
    /// opened again meanwhile.
    pub(super) fn close(&self) {
        let mut state = self.state();
        while state.writing {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        // Closing the file would unlock it too.
        let _ = self.file.unlock();
    }

    /// Writes and syncs the queued groups, and those queued meanwhile, until none is left.
    fn drain(&self) {
        loop {
            let (bytes, through) = {
                let mut state = self.state();
                if state.queued.is_empty() {
                    state.writing = false;
                    self.changed.notify_all();
                    return;
                }
                (std::mem::take(&mut state.queued), state.submitted)
            };
            let written = write_durably(&self.file, &bytes, || {
                #[cfg(test)]
                if let Some(hook) = self.before_sync.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
                    return hook();
                }
                Ok(())
            });
            let mut state = self.state();
            let failed = written.is_err();
            match written {
                Ok(()) => state.durable = through,
                Err(WriteFailure { action, error, cut }) => {
                    // Every group not durable yet fails: those in this write, and those queued after it.
                    let from = state.durable + 1;
                    let through = state.submitted;
                    state.failures.push(Failure { from, through, action, error: Arc::new(error) });
                    state.queued = Vec::new();
                    state.refusing = true;
                    state.broken |= !cut;
                    state.writing = false;
                }
            }
            for (_, waker) in state.wakers.drain(..) {
                waker.wake();
            }
            self.changed.notify_all();
            if failed {
                return;
            }
        }
    }
}

impl State {
    fn standing(&self, group: Group) -> Standing {
        if self.failures.iter().any(|failure| (failure.from..=failure.through).contains(&group)) {
            Standing::Failed
        } else if group <= self.durable {
            Standing::Durable
        } else {
            Standing::Pending
        }
    }

    /// `None` while `group` is pending.
    fn result(&self, group: Group, path: &Path) -> Option<Result<(), JournalError>> {
        if let Some(failure) = self.failures.iter().find(|failure| (failure.from..=failure.through).contains(&group)) {
            let source = std::io::Error::new(failure.error.kind(), Arc::clone(&failure.error));
            return Some(Err(JournalError::Io { path: path.to_owned(), action: failure.action, source }));
        }
        (group <= self.durable).then_some(Ok(()))
    }
}

/// Drains the writer when dropped.
struct Drain(Arc<Writer>);

impl Drop for Drain {
    fn drop(&mut self) {
        self.0.drain();
    }
}

/// Completes when a group is durable, or with why it failed.
#[derive(Debug)]
pub(super) struct Durable {
    writer: Arc<Writer>,
    group: Group,
}

impl Future for Durable {
    type Output = Result<(), JournalError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.writer.state();
        if let Some(result) = state.result(self.group, &self.writer.path) {
            return Poll::Ready(result);
        }
        match state.wakers.iter_mut().find(|(group, _)| *group == self.group) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => state.wakers.push((self.group, cx.waker().clone())),
        }
        Poll::Pending
    }
}

/// Appends `bytes` with one write and syncs them. On failure, cuts off what
/// part of them reached the file, so that the journal stays whole lines and a
/// later write can follow.
fn write_durably(
    mut file: &File,
    bytes: &[u8],
    before_sync: impl FnOnce() -> std::io::Result<()>,
) -> Result<(), WriteFailure> {
    let end = file.stream_position().map_err(|error| WriteFailure { action: "write", error, cut: true })?;
    let written = file
        .write_all(bytes)
        .map_err(|error| ("write", error))
        .and_then(|()| before_sync().and_then(|()| file.sync_data()).map_err(|error| ("sync", error)));
    written.map_err(|(action, error)| {
        let cut = file.set_len(end).and_then(|()| file.seek(SeekFrom::Start(end))).is_ok();
        WriteFailure { action, error, cut }
    })
}

/// [`write_durably`] for the journal at `path`, before any group: its header.
pub(super) fn write_now(file: &File, path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    write_durably(file, bytes, || Ok(())).map_err(|WriteFailure { action, error, .. }| JournalError::Io {
        path: path.to_owned(),
        action,
        source: error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_that_cannot_be_cut_off_fails_every_group_after_it() {
        let path = std::env::temp_dir().join(format!("payamak-group-commit-{}-uncut", std::process::id()));
        std::fs::write(&path, "{}\n").unwrap();
        // Read-only: the write fails, and so does cutting it off.
        let writer = Arc::new(Writer::new(File::open(&path).unwrap(), path.clone()));
        let first = writer.submit(b"{\"a\":1}\n".to_vec(), false);
        let error = writer.wait(first).unwrap_err();
        assert!(matches!(&error, JournalError::Io { action: "write", .. }), "{error}");
        let mut unsettled = VecDeque::from([(first, ())]);
        writer.settle(&mut unsettled, |()| panic!("a failed group is not applied"));
        assert!(unsettled.is_empty());
        // Even once the failure was seen, nothing more is written after a partial line.
        let second = writer.submit(b"{\"b\":2}\n".to_vec(), false);
        assert!(writer.wait(second).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        std::fs::remove_file(&path).unwrap();
    }
}
