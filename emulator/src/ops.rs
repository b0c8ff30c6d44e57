//! The operations: generated request types in, generated response types out, the state
//! machine in between.

use chrono::{DateTime, Utc};

use super::faults::{unprocessable, unreadable, Fault};
use super::pacing::SendSmsCall;
use super::schedule::Repeat;
use super::state::{Row, SendInput, State};
use payamak::incoming_messages as im;
use payamak::send;
use payamak::server::{encode_response, ReceivedCredentials, RequestEnvelope};
use payamak::status_codes::{MarkReadStatus, RecipientStatus, SendStatus};
use payamak::{OperationMeta, SoapVersion, XmlRequest};

/// One operation of a service: its metadata and how to answer it.
pub(crate) struct Route {
    /// The operation, as generated from the WSDL.
    pub(crate) meta: &'static OperationMeta,
    /// Decodes the request into the work of answering it (or the fault that it cannot be read).
    pub(crate) prepare: fn(&RequestEnvelope<'_>) -> Result<Prepared, Fault>,
}

/// A decoded request, ready to run on the state.
pub(crate) struct Prepared {
    /// The envelope's version, which the answer is in.
    pub(crate) version: SoapVersion,
    /// What the pacing and the counts need, when the request is a SendSms.
    pub(crate) send: Option<SendSmsCall>,
    /// Runs the request on the state, under its lock, and gives back the encoding of the answer,
    /// to do once the lock is released.
    pub(crate) job: Job,
}

/// A request's work on the state (see [`Prepared::job`]).
pub(crate) type Job = Box<dyn FnOnce(&mut State, DateTime<Utc>) -> Encode + Send>;

/// Encodes an answer: the response body, or a fault.
pub(crate) type Encode = Box<dyn FnOnce() -> Result<String, Fault> + Send>;

/// One route per generated request type, of every service (`services` groups them).
pub(crate) static ROUTES: &[Route] = &[
    route::<send::GetCreditRequest>(),
    route::<send::GetInboxCountRequest>(),
    route::<send::ScheduleSmsRequest>(),
    route::<send::GetDeliveryRequest>(),
    route::<send::UpdateDeliveryRequest>(),
    route::<send::SendSmsRequest>(),
    route::<im::GetNewMessagesListRequest>(),
    route::<im::GetReceiveSMSIsNotReadListRequest>(),
    route::<im::GetReceiveSMSIsReadListRequest>(),
    route::<im::GetSentSMSIsNotReadListRequest>(),
    route::<im::GetSentSMSIsReadListRequest>(),
    route::<im::GetUserNumbersListRequest>(),
    route::<im::UpdateMessagesIsNotReadRequest>(),
    route::<im::UpdateMessagesIsReadRequest>(),
];

const fn route<R>() -> Route
where
    R: Handle + Send + 'static,
    R::Response: Send,
{
    Route { meta: R::OPERATION, prepare: prepare::<R> }
}

/// What a request needs to be answered.
struct Call<'a> {
    state: &'a mut State,
    now: DateTime<Utc>,
    credentials: &'a ReceivedCredentials,
    version: SoapVersion,
}

impl Call<'_> {
    /// The account these credentials open, if they are right.
    fn account(&self) -> Option<String> {
        self.state.authenticate(self.credentials.username.as_deref(), self.credentials.password.as_deref())
    }
}

/// A generated request type the emulator answers.
trait Handle: XmlRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault>;

    /// What the pacing and the counts need of the request, if it is paced (SendSms).
    fn paced(&self, _credentials: &ReceivedCredentials) -> Option<SendSmsCall> {
        None
    }
}

/// Decodes the request once, on the caller's thread; the state's work and the encoding
/// are left to the job.
fn prepare<R>(envelope: &RequestEnvelope<'_>) -> Result<Prepared, Fault>
where
    R: Handle + Send + 'static,
    R::Response: Send,
{
    let decoded = envelope.decode::<R>().map_err(|error| Box::new(unreadable(envelope.version(), error)))?;
    let version = decoded.version;
    let credentials = decoded.credentials;
    let request = decoded.request;
    let send = request.paced(&credentials);
    let job: Job = Box::new(move |state: &mut State, now| {
        let response = request.handle(Call { state, now, credentials: &credentials, version });
        Box::new(move || encode::<R>(response, version))
    });
    Ok(Prepared { version, send, job })
}

fn encode<R: Handle>(response: Result<R::Response, Fault>, version: SoapVersion) -> Result<String, Fault> {
    encode_response::<R>(&response?, version).map_err(|error| Box::new(unprocessable(version, error)))
}

fn messages(rows: Vec<Row>) -> Option<Vec<Option<im::Message>>> {
    Some(
        rows.into_iter()
            .map(|row| {
                Some(im::Message {
                    msg_id: row.msg_id,
                    msg_type: row.msg_type,
                    body: Some(row.body),
                    send_date: row.date.into(),
                    sender: Some(row.sender),
                    receiver: Some(row.receiver),
                    parts: i32::try_from(row.parts).unwrap_or(i32::MAX),
                    is_read: row.is_read,
                    ..Default::default()
                })
            })
            .collect(),
    )
}

/// A recipient's status as the byte of SendSms's `status` array.
fn status_byte(status: RecipientStatus) -> u8 {
    // The table's codes are 0 and 1; the emulator produces no other.
    u8::try_from(status.code()).unwrap_or(u8::MAX)
}

/// UpdateMessagesIsRead/IsNotRead.
fn mark(call: Call<'_>, msg_ids: Option<String>, read: bool) -> MarkReadStatus {
    let ids = msg_ids.unwrap_or_default();
    call.account().map_or(MarkReadStatus::WrongCredentials, |key| call.state.mark(&key, &ids, read))
}

// ---------------------------------------------------------------------------------------------
// send.asmx
// ---------------------------------------------------------------------------------------------

impl Handle for send::GetCreditRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let credit = call.account().map_or(0.0, |key| call.state.credit(&key));
        Ok(send::GetCreditResponse { get_credit_result: credit, ..Default::default() })
    }
}

impl Handle for send::GetInboxCountRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let count = call.account().map_or(0, |key| call.state.inbox_count(&key, self.is_read));
        Ok(send::GetInboxCountResponse {
            get_inbox_count_result: i32::try_from(count).unwrap_or(i32::MAX),
            ..Default::default()
        })
    }
}

impl Handle for send::SendSmsRequest {
    fn paced(&self, credentials: &ReceivedCredentials) -> Option<SendSmsCall> {
        let to = self.to.iter().flatten().flatten().map(String::as_str);
        Some(SendSmsCall::new(
            credentials.username.as_deref().unwrap_or_default(),
            self.from.as_deref().unwrap_or_default(),
            self.text.as_deref().unwrap_or_default(),
            to,
        ))
    }

    fn handle(mut self, call: Call<'_>) -> Result<Self::Response, Fault> {
        // recId and status are `ref` parameters: when the send fails they go back as they came.
        let echo = |status: SendStatus, request: Self| send::SendSmsResponse {
            send_sms_result: status.code(),
            rec_id: request.rec_id,
            status: request.status,
            ..Default::default()
        };
        let Some(key) = call.account() else { return Ok(echo(SendStatus::WrongCredentials, self)) };
        let input = SendInput {
            to: self.to.take().unwrap_or_default(),
            from: self.from.take(),
            text: self.text.take(),
            flash: self.isflash,
            udh: self.udh.take(),
        };
        Ok(match call.state.send(&key, &input, call.now) {
            Ok(sent) => send::SendSmsResponse {
                send_sms_result: SendStatus::Sent.code(),
                rec_id: Some(sent.rec_ids),
                status: Some(sent.statuses.into_iter().map(status_byte).collect()),
                ..Default::default()
            },
            // Every recipient was invalid: say so per recipient.
            Err(SendStatus::NotSent) if !input.to.is_empty() => send::SendSmsResponse {
                send_sms_result: SendStatus::NotSent.code(),
                rec_id: Some(vec![0; input.to.len()]),
                status: Some(vec![status_byte(RecipientStatus::NotSent); input.to.len()]),
                ..Default::default()
            },
            Err(status) => echo(status, self),
        })
    }
}

impl Handle for send::ScheduleSmsRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let repeat = match &self.period {
            send::PeriodType::Once | send::PeriodType::Custom => Repeat::Once,
            send::PeriodType::Daily => Repeat::Daily,
            send::PeriodType::Weekly => Repeat::Weekly,
            send::PeriodType::Monthly => Repeat::Monthly,
            send::PeriodType::Yearly => Repeat::Yearly,
            // XmlSerializer refuses a value outside the enumeration (and the emulator
            // does not know what a value added to it since would mean).
            other => {
                let value = other.as_str();
                return Err(Box::new(unreadable(
                    call.version,
                    format_args!(
                        "There is an error in XML document. ---> Instance validation error: '{value}' is not a valid value for PeriodType."
                    ),
                )));
            }
        };
        let Some(key) = call.account() else {
            return Ok(send::ScheduleSmsResponse {
                schedule_sms_result: SendStatus::WrongCredentials.code(),
                ..Default::default()
            });
        };
        let input = SendInput {
            to: self.to.unwrap_or_default(),
            from: self.from,
            text: self.text,
            flash: self.isflash,
            udh: None,
        };
        let status = match call.state.schedule(&key, input, self.schedule_date_time, repeat, call.now) {
            Ok(()) => SendStatus::Sent,
            Err(status) => status,
        };
        Ok(send::ScheduleSmsResponse { schedule_sms_result: status.code(), ..Default::default() })
    }
}

impl Handle for send::GetDeliveryRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        Ok(send::GetDeliveryResponse {
            get_delivery_result: call.state.delivery(self.rec_id).code(),
            ..Default::default()
        })
    }
}

impl Handle for send::UpdateDeliveryRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let status = call.state.update_delivery(self.rec_id, call.now);
        Ok(send::UpdateDeliveryResponse { update_delivery_result: status.code(), ..Default::default() })
    }
}

// ---------------------------------------------------------------------------------------------
// IncomingMessages.asmx
// ---------------------------------------------------------------------------------------------

impl Handle for im::GetNewMessagesListRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let rows = call.account().map(|key| call.state.take_new(&key, self.from.as_deref())).unwrap_or_default();
        Ok(im::GetNewMessagesListResponse { get_new_messages_list_result: messages(rows), ..Default::default() })
    }
}

impl Handle for im::GetReceiveSMSIsNotReadListRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let rows = call.account().map(|key| call.state.received(&key, self.from.as_deref(), false)).unwrap_or_default();
        Ok(im::GetReceiveSMSIsNotReadListResponse {
            get_receive_sms_is_not_read_list_result: messages(rows),
            ..Default::default()
        })
    }
}

impl Handle for im::GetReceiveSMSIsReadListRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let rows = call.account().map(|key| call.state.received(&key, self.from.as_deref(), true)).unwrap_or_default();
        Ok(im::GetReceiveSMSIsReadListResponse {
            get_receive_sms_is_read_list_result: messages(rows),
            ..Default::default()
        })
    }
}

impl Handle for im::GetSentSMSIsNotReadListRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let rows = call.account().map(|key| call.state.sent(&key, self.from.as_deref(), false)).unwrap_or_default();
        Ok(im::GetSentSMSIsNotReadListResponse {
            get_sent_sms_is_not_read_list_result: messages(rows),
            ..Default::default()
        })
    }
}

impl Handle for im::GetSentSMSIsReadListRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let rows = call.account().map(|key| call.state.sent(&key, self.from.as_deref(), true)).unwrap_or_default();
        Ok(im::GetSentSMSIsReadListResponse { get_sent_sms_is_read_list_result: messages(rows), ..Default::default() })
    }
}

impl Handle for im::GetUserNumbersListRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let numbers = call.account().map(|key| call.state.numbers(&key)).unwrap_or_default();
        Ok(im::GetUserNumbersListResponse {
            get_user_numbers_list_result: Some(numbers.into_iter().map(Some).collect()),
            ..Default::default()
        })
    }
}

impl Handle for im::UpdateMessagesIsReadRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let status = mark(call, self.msg_ids, true);
        Ok(im::UpdateMessagesIsReadResponse { update_messages_is_read_result: status.code(), ..Default::default() })
    }
}

impl Handle for im::UpdateMessagesIsNotReadRequest {
    fn handle(self, call: Call<'_>) -> Result<Self::Response, Fault> {
        let status = mark(call, self.msg_ids, false);
        Ok(im::UpdateMessagesIsNotReadResponse {
            update_messages_is_not_read_result: status.code(),
            ..Default::default()
        })
    }
}
