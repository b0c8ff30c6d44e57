//! What a journal's lines say of each batch, taken in order: the same rules
//! when a journal is read and as a run writes it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::bulk::record::{BatchOutcome, BatchRecord, JobHeader};

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Line {
    Header(JobHeader),
    /// With `boot`, the attempt was written ahead of its turn on that boot of
    /// the machine: the batch leaves only after a `leaving` line.
    Attempt {
        batch: usize,
        numbers: Vec<String>,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        boot: Option<String>,
    },
    /// The batch written ahead leaves now (written without a sync, before its bytes leave).
    Leaving {
        batch: usize,
    },
    /// The batch written ahead did not leave: its record is what it was before.
    Withdrawn {
        batch: usize,
    },
    Outcome {
        batch: usize,
        at: String,
        result: BatchOutcome,
    },
}

/// An `outcome` line, borrowing its outcome: what [`Line::Outcome`] writes.
#[derive(Debug, Serialize)]
pub(super) struct OutcomeLine<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) batch: usize,
    pub(super) at: &'a str,
    pub(super) result: &'a BatchOutcome,
}

impl<'a> OutcomeLine<'a> {
    pub(super) fn new(batch: usize, at: &'a str, result: &'a BatchOutcome) -> Self {
        OutcomeLine { kind: "outcome", batch, at, result }
    }
}

/// Each batch's record, and the batches written ahead that have not left.
#[derive(Debug, Default)]
pub(super) struct Records {
    batches: BTreeMap<usize, BatchRecord>,
    ahead: BTreeMap<usize, Ahead>,
}

/// A batch written ahead that has not left.
#[derive(Debug)]
struct Ahead {
    /// Its record before the attempt.
    before: Option<BatchRecord>,
    /// The boot of the machine that wrote the attempt.
    boot: String,
}

impl Records {
    pub(super) fn batches(&self) -> &BTreeMap<usize, BatchRecord> {
        &self.batches
    }

    pub(super) fn into_batches(self) -> BTreeMap<usize, BatchRecord> {
        self.batches
    }

    pub(super) fn knows(&self, batch: usize) -> bool {
        self.batches.contains_key(&batch)
    }

    /// Whether `batch` was written ahead and has not left (nor been withdrawn).
    pub(super) fn is_ahead(&self, batch: usize) -> bool {
        self.ahead.contains_key(&batch)
    }

    /// Takes the next line (not the header) in; why it cannot follow the lines before it.
    pub(super) fn apply(&mut self, line: Line) -> Result<(), &'static str> {
        match line {
            Line::Header(_) => return Err("a second header"),
            Line::Attempt { batch, numbers, boot, .. } => {
                let before = self.batches.insert(batch, BatchRecord { numbers, outcome: None });
                match boot {
                    // Written ahead again with the one before unsettled in the file: that one was
                    // taken for unknown when it was read (another boot, or lines lost), and is the
                    // record to go back to.
                    Some(boot) => drop(self.ahead.insert(batch, Ahead { before, boot })),
                    None => drop(self.ahead.remove(&batch)),
                }
            }
            Line::Leaving { batch } => {
                if !self.batches.contains_key(&batch) {
                    return Err("a departure without an attempt");
                }
                self.ahead.remove(&batch);
            }
            Line::Withdrawn { batch } => {
                let ahead = self.ahead.remove(&batch).ok_or("a withdrawal of a batch not waiting to leave")?;
                self.restore(batch, ahead.before);
            }
            Line::Outcome { batch, result, .. } => {
                let record = self.batches.get_mut(&batch).ok_or("an outcome without an attempt")?;
                record.outcome = Some(result);
                self.ahead.remove(&batch);
            }
        }
        Ok(())
    }

    /// After the last line: the batches written ahead on `boot` (this boot of
    /// the machine) that never left, in order. The process that wrote them
    /// died before they left (its writes outlive it), so their records are
    /// what they were before. Those written on another boot stay attempts
    /// without an outcome: the machine went down, and their `leaving` lines,
    /// never synced, may have gone with it.
    pub(super) fn settle(&mut self, boot: Option<&str>) -> Vec<usize> {
        let mut withdrawn = Vec::new();
        for (batch, ahead) in std::mem::take(&mut self.ahead) {
            if boot == Some(ahead.boot.as_str()) {
                self.restore(batch, ahead.before);
                withdrawn.push(batch);
            }
        }
        withdrawn
    }

    fn restore(&mut self, batch: usize, before: Option<BatchRecord>) {
        match before {
            Some(record) => self.batches.insert(batch, record),
            None => self.batches.remove(&batch),
        };
    }
}

/// This boot of the machine, when the system says (Linux): whether a journal's
/// writer went down with the machine or alone.
pub(super) fn current_boot() -> Option<&'static str> {
    static BOOT: OnceLock<Option<String>> = OnceLock::new();
    BOOT.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let id = text.trim();
        let plausible = id.len() == 36 && id.bytes().all(|byte| byte.is_ascii_hexdigit() || byte == b'-');
        plausible.then(|| id.to_owned())
    })
    .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(batch: usize, boot: Option<&str>) -> Line {
        Line::Attempt { batch, numbers: vec!["09120000000".into()], at: String::new(), boot: boot.map(str::to_owned) }
    }

    fn failed() -> BatchOutcome {
        let error = crate::bulk::ErrorRecord { kind: "transport".into(), code: None, message: "refused".into() };
        BatchOutcome::Failed { error }
    }

    fn records(lines: Vec<Line>) -> Result<Records, &'static str> {
        let mut records = Records::default();
        lines.into_iter().try_for_each(|line| records.apply(line))?;
        Ok(records)
    }

    #[test]
    fn a_batch_written_ahead_that_left_is_an_attempt_on_any_boot() {
        let mut left = records(vec![attempt(0, Some("a")), Line::Leaving { batch: 0 }]).unwrap();
        assert_eq!(left.settle(Some("a")), Vec::<usize>::new());
        assert_eq!(left.batches()[&0].outcome, None);
    }

    #[test]
    fn a_batch_written_ahead_that_never_left_is_withdrawn_on_the_same_boot_only() {
        let lines = || vec![attempt(0, Some("a")), attempt(1, Some("a")), Line::Leaving { batch: 0 }];
        let mut same = records(lines()).unwrap();
        assert_eq!(same.settle(Some("a")), [1]);
        assert!(same.knows(0) && !same.knows(1));
        for other in [Some("b"), None] {
            let mut rebooted = records(lines()).unwrap();
            assert_eq!(rebooted.settle(other), Vec::<usize>::new());
            assert!(rebooted.knows(1), "after another boot batch 1 may have left: it stays unknown");
        }
    }

    #[test]
    fn a_withdrawn_batch_gets_its_earlier_record_back() {
        let outcome = Line::Outcome { batch: 0, at: String::new(), result: failed() };
        let mut records =
            records(vec![attempt(0, None), outcome, attempt(0, Some("a")), Line::Withdrawn { batch: 0 }]).unwrap();
        assert_eq!(records.batches()[&0].outcome, Some(failed()), "the earlier failure is its record again");
        assert!(records.settle(Some("a")).is_empty());
    }

    #[test]
    fn a_batch_written_ahead_again_goes_back_to_the_unknown_attempt_before_it() {
        // Written ahead on boot a and lost with the machine (unknown), then written ahead again
        // on boot b (a resend asked for) and withdrawn: it is unknown again, not unsent.
        let outcome = Line::Outcome { batch: 0, at: String::new(), result: failed() };
        let lines = vec![attempt(0, None), outcome, attempt(0, Some("a")), attempt(0, Some("b"))];
        let mut withdrawn = records([lines.clone(), vec![Line::Withdrawn { batch: 0 }]].concat()).unwrap();
        assert!(withdrawn.settle(Some("b")).is_empty());
        assert_eq!(withdrawn.batches()[&0].outcome, None, "an attempt without an outcome: unknown");
        // The same when the second run died before batch 0 left.
        let mut died = records(lines).unwrap();
        assert_eq!(died.settle(Some("b")), [0]);
        assert_eq!(died.batches()[&0].outcome, None);
    }

    #[test]
    fn an_outcome_settles_a_batch_written_ahead() {
        let outcome = Line::Outcome { batch: 0, at: String::new(), result: failed() };
        let mut records = records(vec![attempt(0, Some("a")), outcome]).unwrap();
        assert!(records.settle(Some("a")).is_empty());
        assert_eq!(records.batches()[&0].outcome, Some(failed()));
    }

    #[test]
    fn lines_out_of_order_are_refused() {
        assert_eq!(records(vec![Line::Leaving { batch: 0 }]).unwrap_err(), "a departure without an attempt");
        let withdrawn_after_leaving =
            vec![attempt(0, Some("a")), Line::Leaving { batch: 0 }, Line::Withdrawn { batch: 0 }];
        assert_eq!(records(withdrawn_after_leaving).unwrap_err(), "a withdrawal of a batch not waiting to leave");
        assert_eq!(
            records(vec![attempt(0, None), Line::Withdrawn { batch: 0 }]).unwrap_err(),
            "a withdrawal of a batch not waiting to leave"
        );
    }

    #[test]
    fn an_outcome_line_borrowing_its_outcome_is_written_as_the_line_itself() {
        let line = Line::Outcome { batch: 3, at: "now".into(), result: failed() };
        let outcome = failed();
        let borrowed = OutcomeLine::new(3, "now", &outcome);
        assert_eq!(serde_json::to_string(&borrowed).unwrap(), serde_json::to_string(&line).unwrap());
    }

    #[test]
    fn this_boot_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let boot = current_boot().expect("Linux says which boot this is");
            assert_eq!(boot.len(), 36);
        }
    }
}
