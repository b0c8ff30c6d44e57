//! A batch's outcome as the SQL stores keep it (`batch.outcome`, text).
//!
//! A sent batch whose results are in the order of its recipients (what a
//! worker records) is kept compact since schema version 4: its recIds, status
//! bytes and acceptance as runs, the numbers left to the `recipient` rows,
//! where they are read again. A batch of 100 with consecutive recIds takes
//! about 20 bytes instead of about 7.5 KB of JSON. Any other outcome (a
//! failure, an unknown, a reconciled batch, results for other numbers) is
//! kept as JSON, as every outcome was before version 4, and both forms are read.
//!
//! The compact form: `r1|` and runs separated by `,`, each run
//! `count:first recId:step:status:accepted` for `count` recipients in a row
//! whose recIds are `first + i × step` (both empty: no recId), with the same
//! status byte (empty: none) and acceptance (`1` or `0`).

use std::fmt::Write as _;

use super::store::{StoreError, StoreResult};
use crate::bulk::{BatchOutcome, SentRecipient};
use crate::recipient::MobileNumber;

/// What a compact outcome starts with (JSON starts with `{`).
const COMPACT: &str = "r1|";

/// A run of recipients whose results follow one rule.
struct Run {
    count: u64,
    first: Option<i64>,
    step: i64,
    status: Option<i32>,
    accepted: bool,
}

impl Run {
    fn of(recipient: &SentRecipient) -> Self {
        Run { count: 1, first: recipient.rec_id, step: 0, status: recipient.status, accepted: recipient.accepted }
    }

    /// Takes `next` into the run if it follows its rule.
    fn extend(&mut self, next: &SentRecipient) -> bool {
        if next.status != self.status || next.accepted != self.accepted {
            return false;
        }
        let step = match (self.first, next.rec_id) {
            (None, None) => 0,
            (Some(first), Some(rec_id)) if self.count == 1 => match rec_id.checked_sub(first) {
                Some(step) => step,
                None => return false,
            },
            (Some(first), Some(rec_id)) => {
                let expected = i64::try_from(self.count)
                    .ok()
                    .and_then(|count| count.checked_mul(self.step))
                    .and_then(|offset| first.checked_add(offset));
                if expected != Some(rec_id) {
                    return false;
                }
                self.step
            }
            _ => return false,
        };
        self.step = step;
        self.count += 1;
        true
    }

    fn write(&self, out: &mut String) {
        let _ = write!(out, "{}:", self.count);
        if let Some(first) = self.first {
            let _ = write!(out, "{first}:{}", self.step);
        } else {
            out.push(':');
        }
        out.push(':');
        if let Some(status) = self.status {
            let _ = write!(out, "{status}");
        }
        out.push_str(if self.accepted { ":1" } else { ":0" });
    }
}

/// The text kept for `outcome` of a batch sent to `numbers` (its recipients, in order).
pub(crate) fn encode(outcome: &BatchOutcome, numbers: &[MobileNumber]) -> StoreResult<String> {
    if let BatchOutcome::Sent { recipients } = outcome {
        let same_numbers = recipients.len() == numbers.len()
            && recipients.iter().zip(numbers).all(|(recipient, number)| recipient.number == number.as_str());
        if same_numbers {
            return Ok(compact(recipients));
        }
    }
    json(outcome)
}

/// `outcome` as JSON, the form every outcome had before version 4.
pub(crate) fn json(outcome: &BatchOutcome) -> StoreResult<String> {
    serde_json::to_string(outcome).map_err(|error| StoreError::Damaged(format!("an outcome: {error}")))
}

fn compact(recipients: &[SentRecipient]) -> String {
    let mut out = String::from(COMPACT);
    let mut run: Option<Run> = None;
    for recipient in recipients {
        if run.as_mut().is_some_and(|current| current.extend(recipient)) {
            continue;
        }
        if let Some(done) = run.replace(Run::of(recipient)) {
            done.write(&mut out);
            out.push(',');
        }
    }
    if let Some(done) = run {
        done.write(&mut out);
    }
    out
}

/// Whether reading `text` needs the batch's numbers (see [`decode`]).
pub(crate) fn needs_numbers(text: &str) -> bool {
    text.starts_with(COMPACT)
}

/// The outcome `text` keeps; `numbers` are the batch's recipients in order
/// (used only for a compact one, see [`needs_numbers`]).
pub(crate) fn decode(text: &str, numbers: &[MobileNumber]) -> StoreResult<BatchOutcome> {
    let Some(runs) = text.strip_prefix(COMPACT) else {
        return serde_json::from_str(text).map_err(|error| damaged(&format!("{error}")));
    };
    let mut recipients = Vec::with_capacity(numbers.len());
    let mut numbers = numbers.iter();
    for run in runs.split(',').filter(|run| !run.is_empty()) {
        let fields: Vec<&str> = run.split(':').collect();
        let [count, first, step, status, accepted] = fields[..] else {
            return Err(damaged(&format!("the run {run:?}")));
        };
        let count: u64 = count.parse().map_err(|_| damaged(&format!("the run {run:?}")))?;
        let first: Option<i64> = optional(first, run)?;
        let step: i64 = optional(step, run)?.unwrap_or(0);
        let status: Option<i32> = optional(status, run)?;
        let accepted = match accepted {
            "1" => true,
            "0" => false,
            _ => return Err(damaged(&format!("the run {run:?}"))),
        };
        for index in 0..count {
            let Some(number) = numbers.next() else {
                return Err(damaged("more results than the batch has recipients"));
            };
            let rec_id = match first {
                Some(first) => Some(
                    i64::try_from(index)
                        .ok()
                        .and_then(|index| index.checked_mul(step))
                        .and_then(|offset| first.checked_add(offset))
                        .ok_or_else(|| damaged(&format!("the run {run:?}")))?,
                ),
                None => None,
            };
            recipients.push(SentRecipient { number: number.as_str().to_owned(), rec_id, status, accepted });
        }
    }
    if numbers.next().is_some() {
        return Err(damaged("fewer results than the batch has recipients"));
    }
    Ok(BatchOutcome::Sent { recipients })
}

fn optional<T: std::str::FromStr>(field: &str, run: &str) -> StoreResult<Option<T>> {
    if field.is_empty() {
        return Ok(None);
    }
    field.parse().map(Some).map_err(|_| damaged(&format!("the run {run:?}")))
}

fn damaged(what: &str) -> StoreError {
    StoreError::Damaged(format!("a batch outcome: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::ErrorRecord;

    fn numbers(count: usize) -> Vec<MobileNumber> {
        (0..count).map(|index| MobileNumber::parse(&format!("0912{index:07}")).expect("a number")).collect()
    }

    /// A recipient's result by its place in the batch: recId, status byte, accepted.
    type PerRecipient = fn(usize) -> (Option<i64>, Option<i32>, bool);

    fn sent(numbers: &[MobileNumber], result: PerRecipient) -> BatchOutcome {
        BatchOutcome::Sent {
            recipients: numbers
                .iter()
                .enumerate()
                .map(|(index, number)| {
                    let (rec_id, status, accepted) = result(index);
                    SentRecipient { number: number.as_str().to_owned(), rec_id, status, accepted }
                })
                .collect(),
        }
    }

    fn round_trip(outcome: &BatchOutcome, numbers: &[MobileNumber]) -> String {
        let text = encode(outcome, numbers).expect("encoded");
        assert_eq!(&decode(&text, numbers).expect("decoded"), outcome, "{text}");
        text
    }

    #[test]
    fn a_batch_with_consecutive_rec_ids_is_one_run() {
        let numbers = numbers(100);
        let outcome = sent(&numbers, |index| (Some(5_000_000_000 + index as i64), None, true));
        assert_eq!(round_trip(&outcome, &numbers), "r1|100:5000000000:1::1");
        assert!(json(&outcome).expect("json").len() > 7_000, "the form it replaces");
    }

    #[test]
    fn any_mix_of_results_comes_back() {
        let numbers = numbers(100);
        let cases: [PerRecipient; 5] = [
            |index| (Some(7), Some((index % 3) as i32), index % 3 == 0),
            |index| (if index % 7 == 0 { None } else { Some(100 - index as i64 * 2) }, None, true),
            |index| (Some(i64::MAX - index as i64), Some(11), false),
            |index| (Some(if index % 2 == 0 { i64::MIN } else { i64::MAX }), None, true),
            |_| (None, None, false),
        ];
        for case in cases {
            round_trip(&sent(&numbers, case), &numbers);
        }
        round_trip(&sent(&numbers[..1], |_| (Some(-4), Some(-1), true)), &numbers[..1]);
        round_trip(&BatchOutcome::Sent { recipients: Vec::new() }, &[]);
    }

    #[test]
    fn other_outcomes_stay_json_and_old_rows_read() {
        let numbers = numbers(3);
        let failed = BatchOutcome::Failed {
            error: ErrorRecord { kind: "rejected".to_owned(), code: Some(2), message: "no".to_owned() },
        };
        assert!(round_trip(&failed, &numbers).starts_with('{'));
        // Results for other numbers (or in another order) keep their numbers.
        let mut reordered = numbers.clone();
        reordered.reverse();
        let outcome = sent(&reordered, |index| (Some(index as i64), None, true));
        let text = encode(&outcome, &numbers).expect("encoded");
        assert!(!needs_numbers(&text));
        assert_eq!(decode(&text, &[]).expect("decoded"), outcome);
        let fewer = sent(&numbers[..2], |_| (None, None, true));
        assert!(encode(&fewer, &numbers).expect("encoded").starts_with('{'));
    }

    #[test]
    fn a_damaged_compact_outcome_is_an_error() {
        let numbers = numbers(2);
        for text in
            ["r1|3:1:1::1", "r1|1:1:1::1", "r1|2:1:x::1", "r1|2:1:1::2", "r1|2:1:1:1", "r1|2:9223372036854775807:1::1"]
        {
            assert!(matches!(decode(text, &numbers), Err(StoreError::Damaged(_))), "{text}");
        }
        assert_eq!(decode("r1|2:::3:0", &numbers).expect("decoded"), sent(&numbers, |_| (None, Some(3), false)));
    }
}
