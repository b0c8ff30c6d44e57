//! Where a bulk send records its batches: the store trait, and the in-memory store.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use super::record::{BatchOutcome, BatchRecord};
use crate::recipient::MobileNumber;

/// Records the batches of a bulk send, so that a run can resume without
/// sending anyone a second message.
///
/// A store's promise: when [`record_attempt`](Journal::record_attempt)
/// returns, the attempt survives a crash (the batch's bytes leave only after
/// it), and so does an outcome once [`record_outcome`](Journal::record_outcome)
/// returns. A batch with an attempt and no outcome may or may not have been
/// sent. [`MemoryJournal`] keeps nothing past the process, for one-shot sends
/// and tests; [`JsonLinesJournal`](super::JsonLinesJournal) (feature
/// `journal`) is durable.
pub trait Journal: Send {
    /// What the store holds about each batch an earlier run (or this one) started, by index.
    fn batches(&self) -> &BTreeMap<usize, BatchRecord>;

    /// Records that `batch` is about to be sent to `numbers`.
    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError>;

    /// Records what became of `batch`.
    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError>;

    /// Records `entries`, in order: when the future completes, every one of
    /// them survives a crash. A bulk run keeps its sends going while it waits.
    ///
    /// A store that can make several records durable at once (one disk sync
    /// for a group), or off the caller's thread, overrides this; by default they
    /// are recorded one by one. After an error, any of them may or may not have
    /// been recorded.
    fn record(&mut self, entries: &[Entry<'_>]) -> impl Future<Output = Result<(), JournalError>> + Send {
        let recorded = (|| {
            for entry in entries {
                match *entry {
                    // Without an unsynced log a run writes no attempt ahead; one would be an
                    // attempt like any other (unknown after a crash), and its withdrawal
                    // would leave it so.
                    Entry::Attempt { batch, numbers } | Entry::AttemptAhead { batch, numbers } => {
                        self.record_attempt(batch, numbers)?;
                    }
                    Entry::Outcome { batch, outcome } => self.record_outcome(batch, outcome)?,
                    Entry::Withdrawn { .. } => {}
                }
            }
            Ok(())
        })();
        std::future::ready(recorded)
    }

    /// Where a run notes, without a disk sync, each batch written ahead as
    /// it leaves and each answer as it comes in, if this store can tell after
    /// a crash a batch that left from one that did not. `None` (the default):
    /// a run writes each attempt just before its batch leaves.
    fn unsynced_log(&self) -> Option<Arc<dyn UnsyncedLog>> {
        None
    }
}

/// Notes a run writes at once, without a disk sync: they outlive the process,
/// though not the machine. The store's promise is that after a crash of the
/// process, an attempt written ahead ([`Entry::AttemptAhead`]) with no
/// departure noted is known never to have left, and that a noted answer is
/// read back like a recorded outcome.
///
/// After a crash of the machine, an attempt written ahead is unknown, noted or
/// not, like any other attempt without a recorded outcome.
pub trait UnsyncedLog: Send + Sync + std::fmt::Debug {
    /// Notes that `batch`, written ahead, leaves now; it is sent only if this returns `Ok`.
    fn leaving(&self, batch: usize) -> Result<(), JournalError>;

    /// Notes what became of `batch`, which left. Its [`Entry::Outcome`] is
    /// still recorded with a later group, which makes it durable.
    fn answered(&self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError>;
}

/// One record of a [`Journal::record`] group.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Entry<'a> {
    /// `batch` is about to be sent to `numbers`.
    Attempt {
        /// The 0-based batch.
        batch: usize,
        /// Its recipients.
        numbers: &'a [MobileNumber],
    },
    /// `batch` will be sent to `numbers` once [`UnsyncedLog::leaving`] noted
    /// it, or not at all if it is [withdrawn](Entry::Withdrawn). Only a run
    /// over a store with [`Journal::unsynced_log`] writes these.
    AttemptAhead {
        /// The 0-based batch.
        batch: usize,
        /// Its recipients.
        numbers: &'a [MobileNumber],
    },
    /// What became of `batch`.
    Outcome {
        /// The 0-based batch.
        batch: usize,
        /// Its outcome.
        outcome: &'a BatchOutcome,
    },
    /// `batch`, written ahead, did not leave: what the store had of it before is its record again.
    Withdrawn {
        /// The 0-based batch.
        batch: usize,
    },
}

impl<J: Journal + ?Sized> Journal for &mut J {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        (**self).batches()
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        (**self).record_attempt(batch, numbers)
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        (**self).record_outcome(batch, outcome)
    }

    fn record(&mut self, entries: &[Entry<'_>]) -> impl Future<Output = Result<(), JournalError>> + Send {
        (**self).record(entries)
    }

    fn unsynced_log(&self) -> Option<Arc<dyn UnsyncedLog>> {
        (**self).unsynced_log()
    }
}

/// A journal in memory: nothing survives the process.
#[derive(Debug, Default, Clone)]
pub struct MemoryJournal {
    batches: BTreeMap<usize, BatchRecord>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        MemoryJournal::default()
    }
}

impl Journal for MemoryJournal {
    fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        &self.batches
    }

    fn record_attempt(&mut self, batch: usize, numbers: &[MobileNumber]) -> Result<(), JournalError> {
        let numbers = numbers.iter().map(|number| number.as_str().to_owned()).collect();
        self.batches.insert(batch, BatchRecord { numbers, outcome: None });
        Ok(())
    }

    fn record_outcome(&mut self, batch: usize, outcome: &BatchOutcome) -> Result<(), JournalError> {
        let record = self.batches.get_mut(&batch).ok_or(JournalError::OutcomeWithoutAttempt { batch })?;
        record.outcome = Some(outcome.clone());
        Ok(())
    }
}

/// Why a journal cannot be opened, resumed or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Reading, writing or syncing the file failed.
    #[error("cannot {action} the journal {}", path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// `open`, `read`, `write`, `sync` or `lock`.
        action: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The journal's directory could not be made durable.
    #[error(
        "cannot sync the directory {} of the journal to disk (nothing was sent); give a journal in another directory",
        directory.display()
    )]
    Directory {
        /// The directory.
        directory: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Another process has the journal open.
    #[error("the journal {} is in use by another payamak process (is a send-bulk still running?)", path.display())]
    InUse {
        /// The journal.
        path: PathBuf,
    },
    /// The file exists and is not a journal: it is left as it is.
    #[error(
        "{} exists and is not a payamak journal (it has no complete line, and is not a header cut short by a \
         crash); refusing to overwrite it. Give another file with --journal FILE",
        path.display()
    )]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
    /// A line of the journal cannot be read.
    #[error("the journal {} is damaged at line {line}: {reason}", path.display())]
    Damaged {
        /// The journal.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The journal was written for another send.
    #[error(
        "the journal {} belongs to another send and cannot be resumed by this one: {}. Resuming it could send \
         someone the message twice. Run the original command to finish that send, or give a new journal with \
         --journal FILE to start a new send",
        path.display(),
        differences.join("; ")
    )]
    AnotherSend {
        /// The journal.
        path: PathBuf,
        /// What differs, for people.
        differences: Vec<String>,
    },
    /// A batch the journal records was sent to other numbers than this send's batch.
    #[error(
        "the journal records batch {} with other recipients than this send gives; it belongs to another send",
        batch + 1
    )]
    OtherRecipients {
        /// The 0-based batch.
        batch: usize,
    },
    /// An outcome was recorded for a batch with no attempt.
    #[error("an outcome for batch {} without an attempt", batch + 1)]
    OutcomeWithoutAttempt {
        /// The 0-based batch.
        batch: usize,
    },
    /// Another store's error.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::ErrorRecord;

    #[test]
    fn a_memory_journal_keeps_attempts_and_outcomes() {
        let mut journal = MemoryJournal::new();
        let number = MobileNumber::parse("09120000000").expect("number");
        journal.record_attempt(0, std::slice::from_ref(&number)).expect("attempt");
        assert_eq!(journal.batches()[&0], BatchRecord { numbers: vec!["09120000000".into()], outcome: None });
        let outcome =
            BatchOutcome::Failed { error: ErrorRecord { kind: "transport".into(), code: None, message: "x".into() } };
        journal.record_outcome(0, &outcome).expect("outcome");
        assert_eq!(journal.batches()[&0].outcome, Some(outcome.clone()));
        assert!(matches!(journal.record_outcome(1, &outcome), Err(JournalError::OutcomeWithoutAttempt { batch: 1 })));
    }
}
