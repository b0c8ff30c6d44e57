//! What to send, and what the panel said about each recipient.

use crate::error::InputError;
use crate::recipient::{normalize_all, MobileNumber};
use crate::status::StatusCode;
use crate::status_codes::{RecipientStatus, SendStatus};

/// The most recipients the panel takes in one SendSms call.
pub const MAX_RECIPIENTS_PER_CALL: usize = 100;

/// One text from one sender number to one or more recipients.
///
/// ```
/// use payamak::Sms;
///
/// let sms = Sms::new("5000123456", "سلام دنیا").to(["0912 123 4567", "+98 912 765 4321"])?.flash(true);
/// assert_eq!(sms.recipients()[1].as_str(), "09127654321");
/// # Ok::<(), payamak::recipient::InvalidRecipient>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sms {
    from: String,
    to: Vec<MobileNumber>,
    text: String,
    flash: bool,
    udh: Option<String>,
}

impl Sms {
    /// A text from the virtual (sender) number `from`, with no recipients yet.
    /// Persian or Arabic-Indic digits and separators in `from` are normalised.
    pub fn new(from: impl AsRef<str>, text: impl Into<String>) -> Self {
        Sms {
            from: crate::recipient::normalize_digits(from.as_ref()),
            to: Vec::new(),
            text: text.into(),
            flash: false,
            udh: None,
        }
    }

    /// Adds recipients, normalising each number (see [`crate::recipient`]).
    pub fn to<I: IntoIterator<Item = S>, S: AsRef<str>>(
        mut self,
        numbers: I,
    ) -> Result<Self, crate::recipient::InvalidRecipient> {
        let offset = self.to.len();
        let numbers = normalize_all(numbers).map_err(|error| error.offset_by(offset))?;
        self.to.extend(numbers);
        Ok(self)
    }

    /// Adds already normalised recipients.
    pub fn to_numbers(mut self, numbers: impl IntoIterator<Item = MobileNumber>) -> Self {
        if self.to.is_empty() {
            // A `Vec` given whole is kept as it is, not copied.
            self.to = numbers.into_iter().collect();
        } else {
            self.to.extend(numbers);
        }
        self
    }

    /// Sends as a flash SMS (shown at once, not stored) when `flash` is true.
    pub fn flash(mut self, flash: bool) -> Self {
        self.flash = flash;
        self
    }

    /// Sets the user data header, as hex (e.g. for a concatenated or binary message).
    pub fn udh(mut self, udh: impl Into<String>) -> Self {
        self.udh = Some(udh.into());
        self
    }

    /// The sender number.
    pub fn sender(&self) -> &str {
        &self.from
    }

    /// The recipients, in order.
    pub fn recipients(&self) -> &[MobileNumber] {
        &self.to
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether it is a flash SMS.
    pub fn is_flash(&self) -> bool {
        self.flash
    }

    /// The user data header, if any.
    pub fn user_data_header(&self) -> Option<&str> {
        self.udh.as_deref()
    }

    /// How many SMS parts the text takes (the panel charges per part and recipient).
    pub fn parts(&self) -> crate::sms_parts::SmsParts {
        crate::sms_parts::count(&self.text)
    }

    /// The same text in batches of at most `size` recipients, in order.
    pub fn batches(&self, size: usize) -> impl Iterator<Item = Sms> + '_ {
        self.to.chunks(size.max(1)).map(move |chunk| Sms { to: chunk.to_vec(), ..self.without_recipients() })
    }

    fn without_recipients(&self) -> Sms {
        Sms {
            from: self.from.clone(),
            to: Vec::new(),
            text: self.text.clone(),
            flash: self.flash,
            udh: self.udh.clone(),
        }
    }

    /// Checks what the panel would refuse before anything is sent.
    pub(crate) fn check_single_call(&self) -> Result<(), InputError> {
        match self.to.len() {
            0 => Err(InputError::NoRecipients),
            count if count > MAX_RECIPIENTS_PER_CALL => {
                Err(InputError::TooManyRecipients { count, limit: MAX_RECIPIENTS_PER_CALL })
            }
            _ if self.from.is_empty() => Err(InputError::Invalid("no sender number".to_owned())),
            _ => Ok(()),
        }
    }
}

/// What the panel answered to one SendSms call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SendReport {
    /// The call's result.
    pub status: SendStatus,
    /// One entry per recipient, in the order sent.
    pub recipients: Vec<RecipientReport>,
}

impl SendReport {
    /// The recIds the panel assigned, in recipient order (for delivery tracking).
    pub fn rec_ids(&self) -> Vec<i64> {
        self.recipients.iter().filter_map(|recipient| recipient.rec_id).collect()
    }

    /// What the answer says about `recipient` (one of this report's).
    pub fn outcome(&self, recipient: &RecipientReport) -> RecipientOutcome {
        RecipientOutcome::of(self.status, recipient.rec_id, recipient.status)
    }

    /// True when every recipient was accepted.
    pub fn all_accepted(&self) -> bool {
        self.recipients.iter().all(|recipient| matches!(self.outcome(recipient), RecipientOutcome::Accepted { .. }))
    }
}

/// What one SendSms answer says about one of its recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum RecipientOutcome {
    /// The panel took the message. Without a recId (the panel returned none,
    /// or 0), its delivery cannot be tracked, but it was sent.
    Accepted {
        /// The tracking id, if the panel returned one.
        rec_id: Option<i64>,
    },
    /// The call succeeded, but the panel's status byte refuses this recipient.
    Refused {
        /// The per-recipient status.
        status: RecipientStatus,
    },
    /// The answer's result code is not one this crate knows: the message may
    /// or may not have been sent.
    Unconfirmed,
}

impl RecipientOutcome {
    /// The outcome for a recipient with `rec_id` and `status` in an answer with result `call`.
    pub(crate) fn of(call: SendStatus, rec_id: Option<i64>, status: Option<RecipientStatus>) -> Self {
        match status {
            Some(status) if status.is_known() && !status.is_success() => RecipientOutcome::Refused { status },
            // Success (1, or 6 "queued"): sent, whether or not recIds came back.
            _ if call.is_success() => RecipientOutcome::Accepted { rec_id },
            _ => RecipientOutcome::Unconfirmed,
        }
    }
}

/// What the panel said about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RecipientReport {
    /// The recipient.
    pub number: MobileNumber,
    /// The tracking id the panel assigned, if it returned one (a recId of 0 counts as none).
    pub rec_id: Option<i64>,
    /// The per-recipient status byte, if the panel returned one.
    pub status: Option<RecipientStatus>,
}

/// Pairs the panel's recIds and status bytes with the recipients they belong to (by position).
pub(crate) fn pair_recipients(
    numbers: &[MobileNumber],
    rec_ids: Option<&[i64]>,
    statuses: Option<&[u8]>,
) -> Vec<RecipientReport> {
    numbers
        .iter()
        .enumerate()
        .map(|(index, number)| RecipientReport {
            number: number.clone(),
            rec_id: rec_ids.and_then(|ids| ids.get(index)).copied().filter(|&id| id != 0),
            status: statuses
                .and_then(|bytes| bytes.get(index))
                .map(|&byte| RecipientStatus::from_code(i32::from(byte))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_answer_accepts_every_recipient_not_refused_recid_or_not() {
        let of = RecipientOutcome::of;
        let (sent, not_sent) = (Some(RecipientStatus::Sent), Some(RecipientStatus::NotSent));
        assert_eq!(of(SendStatus::Sent, Some(7), sent), RecipientOutcome::Accepted { rec_id: Some(7) });
        // No recIds, or recId 0 (read as none): sent, only not trackable.
        assert_eq!(of(SendStatus::Sent, None, None), RecipientOutcome::Accepted { rec_id: None });
        assert_eq!(of(SendStatus::Queued, None, sent), RecipientOutcome::Accepted { rec_id: None });
        assert_eq!(
            of(SendStatus::Sent, Some(7), not_sent),
            RecipientOutcome::Refused { status: RecipientStatus::NotSent }
        );
        // A code this crate does not know confirms nothing.
        assert_eq!(of(SendStatus::Unknown(42), Some(7), sent), RecipientOutcome::Unconfirmed);
        let unknown_byte = Some(RecipientStatus::Unknown(9));
        assert_eq!(of(SendStatus::Sent, Some(7), unknown_byte), RecipientOutcome::Accepted { rec_id: Some(7) });
    }

    #[test]
    fn a_recid_of_zero_is_no_recid() {
        let numbers = [MobileNumber::parse("09120000000").expect("number")];
        let reports = pair_recipients(&numbers, Some(&[0]), None);
        assert_eq!(reports[0].rec_id, None);
    }
}
