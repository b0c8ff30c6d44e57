//! The one batch state machine every store follows.
//!
//! ```text
//!            claim              attempt (committed before the request's first byte)
//! pending ---------> claimed ------------> attempting --outcome--> sent | failed | unknown
//!    ^                  |                      |
//!    +-- lease expired -+ (nothing left)       +-- stale (no outcome in time) --> unknown
//!    +-- released ------+
//!    +-- refused as a whole account (definitely not sent) <-- attempting
//! unknown --late outcome of its owner / reconciliation--> sent | failed
//! pending --found on the panel (the store is not the whole record)--> unknown
//! unknown --operator resend (--resend-unknown)--> pending
//! failed  --retry (definitely not sent)--> pending
//! ```
//!
//! Only a claim whose lease expired *before* its attempt goes back to pending;
//! an attempt without an outcome becomes unknown and moves again only by its
//! owner's late outcome, reconciliation, or an explicit operator resend. A store
//! applies a transition with one compare-and-set: it changes a batch only when
//! its state is one of [`Transition::from`]'s, and so a worker whose lease was
//! lost changes nothing and sends nothing.

use std::fmt;

/// Where one batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BatchState {
    /// Waiting for a worker.
    Pending,
    /// Held by a worker under a lease; nothing has been sent.
    Claimed,
    /// Its request may be on its way: never sent again on its own.
    Attempting,
    /// The panel answered the call.
    Sent,
    /// Definitely not sent (refused as a whole, or the panel was not reached).
    Failed,
    /// May or may not have been sent; needs reconciliation or a person.
    Unknown,
}

impl BatchState {
    /// Every state, in the order of the machine.
    pub const ALL: [BatchState; 6] = [
        BatchState::Pending,
        BatchState::Claimed,
        BatchState::Attempting,
        BatchState::Sent,
        BatchState::Failed,
        BatchState::Unknown,
    ];

    /// The name stores write.
    pub const fn as_str(self) -> &'static str {
        match self {
            BatchState::Pending => "pending",
            BatchState::Claimed => "claimed",
            BatchState::Attempting => "attempting",
            BatchState::Sent => "sent",
            BatchState::Failed => "failed",
            BatchState::Unknown => "unknown",
        }
    }

    /// The state a store wrote, or `None` for a name that is not one.
    pub fn parse(name: &str) -> Option<Self> {
        BatchState::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// Whether no worker moves the batch any more on its own.
    pub const fn is_final(self) -> bool {
        matches!(self, BatchState::Sent | BatchState::Failed | BatchState::Unknown)
    }
}

impl fmt::Display for BatchState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(any(feature = "journal", feature = "serde"), derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Transition {
    /// A worker takes a pending batch under a lease.
    Claim,
    /// The worker that holds the lease, while it holds it, is about to send:
    /// committed before any byte of the request is written.
    Attempt,
    /// The worker gives back a batch it claimed and did not attempt.
    Release,
    /// The reaper: a claim whose lease expired before its attempt.
    LeaseExpired,
    /// The reaper: an attempt with no outcome for too long.
    Stale,
    /// The panel answered the call (also a late answer after [`Transition::Stale`]).
    Sent,
    /// Definitely not sent (also a late answer after [`Transition::Stale`]).
    Failed,
    /// The outcome of the call is unknown.
    OutcomeUnknown,
    /// The panel refused the whole account (credentials, credit, daily limit,
    /// throttling…): definitely not sent, and the batch waits for the account.
    Deferred,
    /// Reconciliation found the batch on the panel, or proved it absent.
    Reconciled,
    /// Reconciliation found that recipients of a batch the store holds as
    /// never attempted already received its text: the store is not the whole
    /// record (an older copy put back, say), and the batch may have been sent.
    FoundOnThePanel,
    /// A person asked for a batch of unknown outcome to be sent again.
    OperatorResend,
    /// A batch that definitely was not sent is sent again.
    Retry,
}

impl Transition {
    /// The states the move starts from: a store changes a batch only in one of them.
    pub const fn from(self) -> &'static [BatchState] {
        use BatchState::*;
        match self {
            Transition::Claim => &[Pending],
            Transition::Attempt | Transition::Release | Transition::LeaseExpired => &[Claimed],
            Transition::Stale | Transition::OutcomeUnknown | Transition::Deferred => &[Attempting],
            Transition::Sent | Transition::Failed => &[Attempting, Unknown],
            Transition::Reconciled | Transition::OperatorResend => &[Unknown],
            Transition::FoundOnThePanel => &[Pending],
            Transition::Retry => &[Failed],
        }
    }

    /// The state the move leads to (for [`Transition::Reconciled`], to `sent`;
    /// a reconciliation that proves the batch absent uses [`Transition::Failed`]'s target).
    pub const fn to(self) -> BatchState {
        match self {
            Transition::Claim => BatchState::Claimed,
            Transition::Attempt => BatchState::Attempting,
            Transition::Release | Transition::LeaseExpired | Transition::Deferred => BatchState::Pending,
            Transition::OperatorResend | Transition::Retry => BatchState::Pending,
            Transition::Stale | Transition::OutcomeUnknown | Transition::FoundOnThePanel => BatchState::Unknown,
            Transition::Sent | Transition::Reconciled => BatchState::Sent,
            Transition::Failed => BatchState::Failed,
        }
    }

    /// Whether the move needs the lease of the worker that claimed the batch.
    pub const fn needs_owner(self) -> bool {
        matches!(
            self,
            Transition::Attempt
                | Transition::Release
                | Transition::Sent
                | Transition::Failed
                | Transition::OutcomeUnknown
                | Transition::Deferred
        )
    }

    /// Whether the lease must also still be running (only the attempt: a
    /// worker whose lease ran out sends nothing).
    pub const fn needs_live_lease(self) -> bool {
        matches!(self, Transition::Attempt)
    }

    /// The state after this move from `state`, or `None` when the machine does not allow it.
    pub fn apply(self, state: BatchState) -> Option<BatchState> {
        self.from().contains(&state).then_some(self.to())
    }

    /// How [`Store::reconcile`](super::Store::reconcile) records `outcome`:
    /// the transition whose [`from`](Self::from) states it changes, and the
    /// state it leads to. A sent or failed outcome settles an unknown batch; an
    /// unknown one takes a pending batch out of the queue.
    pub(crate) fn of_reconciliation(outcome: &crate::bulk::BatchOutcome) -> (Transition, BatchState) {
        use crate::bulk::BatchOutcome;
        match outcome {
            BatchOutcome::Sent { .. } => (Transition::Reconciled, BatchState::Sent),
            BatchOutcome::Failed { .. } => (Transition::Reconciled, BatchState::Failed),
            BatchOutcome::Unknown { .. } => (Transition::FoundOnThePanel, BatchState::Unknown),
        }
    }

    /// The SQL list of [`from`](Self::from)'s names, e.g. `('attempting','unknown')`.
    pub fn from_sql(self) -> String {
        let names: Vec<String> = self.from().iter().map(|state| format!("'{}'", state.as_str())).collect();
        format!("({})", names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_TRANSITIONS: [Transition; 13] = [
        Transition::Claim,
        Transition::Attempt,
        Transition::Release,
        Transition::LeaseExpired,
        Transition::Stale,
        Transition::Sent,
        Transition::Failed,
        Transition::OutcomeUnknown,
        Transition::Deferred,
        Transition::Reconciled,
        Transition::FoundOnThePanel,
        Transition::OperatorResend,
        Transition::Retry,
    ];

    #[test]
    fn an_attempt_never_goes_back_to_pending_but_by_a_person_or_a_definite_refusal() {
        // Every way out of `attempting` and `unknown` into `pending`.
        let mut back = Vec::new();
        for transition in ALL_TRANSITIONS {
            for from in [BatchState::Attempting, BatchState::Unknown] {
                if transition.apply(from) == Some(BatchState::Pending) {
                    back.push((from, transition));
                }
            }
        }
        assert_eq!(
            back,
            [(BatchState::Attempting, Transition::Deferred), (BatchState::Unknown, Transition::OperatorResend)]
        );
    }

    #[test]
    fn only_the_attempt_leads_into_attempting_and_only_from_a_claim() {
        for transition in ALL_TRANSITIONS {
            for from in BatchState::ALL {
                if transition.apply(from) == Some(BatchState::Attempting) {
                    assert_eq!((from, transition), (BatchState::Claimed, Transition::Attempt));
                }
            }
        }
        assert!(Transition::Attempt.needs_live_lease());
        assert_eq!(Transition::Attempt.apply(BatchState::Pending), None);
    }

    #[test]
    fn a_sent_batch_never_moves() {
        for transition in ALL_TRANSITIONS {
            assert_eq!(transition.apply(BatchState::Sent), None, "{transition:?}");
        }
    }

    #[test]
    fn names_round_trip_and_sql_lists_them() {
        for state in BatchState::ALL {
            assert_eq!(BatchState::parse(state.as_str()), Some(state));
        }
        assert_eq!(BatchState::parse("sending"), None);
        assert_eq!(Transition::Sent.from_sql(), "('attempting','unknown')");
    }
}
