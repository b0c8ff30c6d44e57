//! One typed method per operation of both services.

use super::Client;
use crate::error::{Error, InputError, Rejected};
use crate::incoming_messages as im;
use crate::send;
use crate::sms::{pair_recipients, SendReport, Sms};
use crate::status::StatusCode;
use crate::status_codes::{DeliveryStatus, MarkReadStatus, SendStatus, UpdateDeliveryStatus};
use crate::PanelDateTime;

pub use crate::incoming_messages::Message;
pub use crate::send::PeriodType;

/// Which list of messages to read from `IncomingMessages.asmx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Folder {
    /// Received messages not fetched before (`GetNewMessagesList`). Fetching
    /// them makes them no longer new, so this call is never retried.
    New,
    /// Received messages not yet read (`GetReceiveSMSIsNotReadList`).
    ReceivedUnread,
    /// Received messages already read (`GetReceiveSMSIsReadList`).
    ReceivedRead,
    /// Sent messages not marked read (`GetSentSMSIsNotReadList`).
    SentUnread,
    /// Sent messages marked read (`GetSentSMSIsReadList`).
    SentRead,
}

impl Client {
    /// The account's credit (`GetCredit`).
    ///
    /// The panel answers wrong credentials with a credit of 0, not an error.
    pub async fn credit(&self) -> Result<f64, Error> {
        let response = self.call(&send::GetCreditRequest::default()).await?;
        Ok(response.get_credit_result)
    }

    /// The number of read (`true`) or unread (`false`) messages in the inbox (`GetInboxCount`).
    pub async fn inbox_count(&self, read: bool) -> Result<i32, Error> {
        let response = self.call(&send::GetInboxCountRequest { is_read: read, ..Default::default() }).await?;
        Ok(response.get_inbox_count_result)
    }

    /// Sends `sms` in one call (`SendSms`): at most 100 recipients (see [`Client::send_bulk`]).
    ///
    /// Never retried once the request may have reached the panel: if the
    /// answer is lost the error is [`Error::OutcomeUnknown`]. A known result
    /// code other than success is [`Error::Rejected`]; a code this crate does
    /// not know is returned as `SendStatus::Unknown(code)` in the report, since
    /// the message may have been sent.
    pub async fn send(&self, sms: &Sms) -> Result<SendReport, Error> {
        sms.check_single_call()?;
        let mut request = send::SendSmsRequest {
            to: Some(self.inner.recipient_lists.fill(sms.recipients())),
            from: Some(sms.sender().to_owned()),
            text: Some(sms.text().to_owned()),
            isflash: sms.is_flash(),
            udh: Some(sms.user_data_header().unwrap_or_default().to_owned()),
            rec_id: Some(Vec::new()),
            status: Some(Vec::new()),
            ..Default::default()
        };
        let response = self.call_recorded(&request, |response| Some(response.send_sms_result)).await;
        self.inner.recipient_lists.give_back(request.to.take());
        let response = response?;
        let status = response.result_status();
        if !status.is_success() && status.is_known() {
            return Err(Rejected::new("SendSms", status).into());
        }
        let recipients = pair_recipients(sms.recipients(), response.rec_id.as_deref(), response.status.as_deref());
        Ok(SendReport { status, recipients })
    }

    /// Sends `sms` at `at` (Tehran time), repeating per `period` (`ScheduleSms`).
    ///
    /// Not retried once the request may have reached the panel, like
    /// [`Client::send`]; an unknown result code is returned, not an error.
    ///
    /// **Reconstructed:** ScheduleSms is in no public capture of the panel's WSDL. Its
    /// request shape (a recipient array, `scheduleDateTime`, `period`) is the project's
    /// reconstruction, modelled on the platform's `Schedule.asmx` `AddSchedule`; a real
    /// panel may answer it with a SOAP fault ([`Error::Response`]). Try it on a test
    /// account first; the README says which parts of `wsdl/` were captured and which
    /// reconstructed.
    pub async fn schedule(&self, sms: &Sms, at: PanelDateTime, period: PeriodType) -> Result<SendStatus, Error> {
        sms.check_single_call()?;
        let request = send::ScheduleSmsRequest {
            to: Some(sms.recipients().iter().map(|number| Some(number.as_str().to_owned())).collect()),
            from: Some(sms.sender().to_owned()),
            text: Some(sms.text().to_owned()),
            isflash: sms.is_flash(),
            schedule_date_time: at,
            period,
            ..Default::default()
        };
        let response = self.call_recorded(&request, |response| Some(response.schedule_sms_result)).await?;
        let status = response.result_status();
        if !status.is_success() && status.is_known() {
            return Err(Rejected::new("ScheduleSms", status).into());
        }
        Ok(status)
    }

    /// The delivery status the panel holds for `rec_id` (`GetDelivery`).
    ///
    /// Refresh it with [`Client::update_delivery`], or let a
    /// [`crate::delivery::DeliveryTracker`] do both.
    pub async fn delivery(&self, rec_id: i64) -> Result<DeliveryStatus, Error> {
        let response = self
            .call_recorded(&send::GetDeliveryRequest { rec_id, ..Default::default() }, |response| {
                Some(response.get_delivery_result)
            })
            .await?;
        Ok(response.result_status())
    }

    /// Asks the panel to refresh the delivery status of `rec_id`'s whole batch (`UpdateDelivery`).
    ///
    /// [`UpdateDeliveryStatus::TooSoon`] (100) means "wait and try later"; it is returned, not an error.
    pub async fn update_delivery(&self, rec_id: i64) -> Result<UpdateDeliveryStatus, Error> {
        let response = self
            .call_recorded(&send::UpdateDeliveryRequest { rec_id, ..Default::default() }, |response| {
                Some(response.update_delivery_result)
            })
            .await?;
        Ok(response.result_status())
    }

    /// The messages of `folder`, for the virtual number `from` (or all numbers when `None`).
    ///
    /// Rows the panel sends as `xsi:nil` carry nothing and are skipped.
    pub async fn messages(&self, folder: Folder, from: Option<&str>) -> Result<Vec<Message>, Error> {
        let from = Some(from.map(crate::recipient::normalize_digits).unwrap_or_default());
        let rows = match folder {
            Folder::New => {
                self.call(&im::GetNewMessagesListRequest { from, ..Default::default() })
                    .await?
                    .get_new_messages_list_result
            }
            Folder::ReceivedUnread => {
                self.call(&im::GetReceiveSMSIsNotReadListRequest { from, ..Default::default() })
                    .await?
                    .get_receive_sms_is_not_read_list_result
            }
            Folder::ReceivedRead => {
                self.call(&im::GetReceiveSMSIsReadListRequest { from, ..Default::default() })
                    .await?
                    .get_receive_sms_is_read_list_result
            }
            Folder::SentUnread => {
                self.call(&im::GetSentSMSIsNotReadListRequest { from, ..Default::default() })
                    .await?
                    .get_sent_sms_is_not_read_list_result
            }
            Folder::SentRead => {
                self.call(&im::GetSentSMSIsReadListRequest { from, ..Default::default() })
                    .await?
                    .get_sent_sms_is_read_list_result
            }
        };
        Ok(rows.unwrap_or_default().into_iter().flatten().collect())
    }

    /// New received messages (`GetNewMessagesList`); see [`Client::messages`].
    pub async fn new_messages(&self, from: Option<&str>) -> Result<Vec<Message>, Error> {
        self.messages(Folder::New, from).await
    }

    /// The account's virtual (sender) numbers (`GetUserNumbersList`).
    pub async fn numbers(&self) -> Result<Vec<String>, Error> {
        let response = self.call(&im::GetUserNumbersListRequest::default()).await?;
        Ok(response.get_user_numbers_list_result.unwrap_or_default().into_iter().flatten().collect())
    }

    /// Marks messages as read (`UpdateMessagesIsRead`).
    pub async fn mark_read(&self, message_ids: &[i64]) -> Result<(), Error> {
        let msg_ids = join_message_ids(message_ids)?;
        let response = self
            .call_recorded(
                &im::UpdateMessagesIsReadRequest { msg_ids: Some(msg_ids), ..Default::default() },
                |response| Some(response.update_messages_is_read_result),
            )
            .await?;
        check_mark("UpdateMessagesIsRead", response.result_status())
    }

    /// Checks that the panel accepts the user name and password, without sending anything
    /// or changing anything.
    ///
    /// The panel answers wrong credentials to its reads with a credit of 0 and empty lists,
    /// which an account may also really have. Only the calls that answer a result code tell
    /// wrong credentials apart (code 0): SendSms and ScheduleSms, which send, and the mark
    /// calls. This asks `UpdateMessagesIsNotRead` to mark message id 0 (the panel's ids
    /// start at 1, so it names no message, and "not read" is the harmless direction anyway):
    /// code 1 means the credentials are right, code 0 that they are wrong. The call is
    /// retry-safe.
    ///
    /// Wrong credentials are [`Error::Rejected`] with code 0 (`WrongCredentials`); any
    /// other code this crate does not know is `Error::Rejected` with that code.
    ///
    /// ```no_run
    /// # async fn demo(client: payamak::Client) -> Result<(), payamak::Error> {
    /// client.check_credentials().await?;
    /// let inbox = client.messages(payamak::Folder::ReceivedUnread, None).await?;
    /// println!("{} unread (an empty list really is empty)", inbox.len());
    /// # Ok(()) }
    /// ```
    pub async fn check_credentials(&self) -> Result<(), Error> {
        let request =
            im::UpdateMessagesIsNotReadRequest { msg_ids: Some(NO_MESSAGE_ID.to_owned()), ..Default::default() };
        let response =
            self.call_recorded(&request, |response| Some(response.update_messages_is_not_read_result)).await?;
        check_mark("UpdateMessagesIsNotRead", response.result_status())
    }

    /// Marks messages as not read (`UpdateMessagesIsNotRead`).
    pub async fn mark_unread(&self, message_ids: &[i64]) -> Result<(), Error> {
        let msg_ids = join_message_ids(message_ids)?;
        let response = self
            .call_recorded(
                &im::UpdateMessagesIsNotReadRequest { msg_ids: Some(msg_ids), ..Default::default() },
                |response| Some(response.update_messages_is_not_read_result),
            )
            .await?;
        check_mark("UpdateMessagesIsNotRead", response.result_status())
    }
}

/// A message id no message has: the panel numbers its messages from 1.
const NO_MESSAGE_ID: &str = "0";

/// Message ids as the panel takes them: decimal, comma-separated.
pub(crate) fn join_message_ids(message_ids: &[i64]) -> Result<String, InputError> {
    if message_ids.is_empty() {
        return Err(InputError::Invalid("no message ids".to_owned()));
    }
    let ids: Vec<String> = message_ids.iter().map(i64::to_string).collect();
    Ok(ids.join(","))
}

fn check_mark(operation: &'static str, status: MarkReadStatus) -> Result<(), Error> {
    if status.is_success() {
        Ok(())
    } else {
        Err(Rejected::new(operation, status).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::transport::{HttpResponse, MemoryTransport};

    fn mark_unread_answer(code: i32) -> MemoryTransport {
        MemoryTransport::new(move |_| {
            Ok(HttpResponse::new(
                200,
                format!(
                    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
                     <UpdateMessagesIsNotReadResponse xmlns=\"http://tempuri.org/\">\
                     <UpdateMessagesIsNotReadResult>{code}</UpdateMessagesIsNotReadResult>\
                     </UpdateMessagesIsNotReadResponse></soap:Body></soap:Envelope>"
                ),
            )
            .header("Content-Type", "text/xml; charset=utf-8"))
        })
    }

    fn check(transport: &MemoryTransport) -> Result<(), Error> {
        let client = Client::builder()
            .base_url("http://panel.test/post/")
            .credentials("user", "pw")
            .transport(transport.clone())
            .build()
            .expect("a client");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(client.check_credentials())
    }

    #[test]
    fn the_credentials_check_marks_no_message_unread() {
        let transport = mark_unread_answer(1);
        check(&transport).expect("accepted");
        let requests = transport.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].url, "http://panel.test/post/IncomingMessages.asmx");
        let body = String::from_utf8(requests[0].body.clone()).expect("UTF-8");
        assert!(body.contains("<msgIds>0</msgIds>"), "{body}");
    }

    #[test]
    fn wrong_credentials_fail_the_check_with_code_0() {
        match check(&mark_unread_answer(0)) {
            Err(Error::Rejected(rejected)) => {
                assert_eq!((rejected.operation, rejected.code), ("UpdateMessagesIsNotRead", 0));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(check(&mark_unread_answer(7)), Err(Error::Rejected(rejected)) if rejected.code == 7));
    }

    #[test]
    fn message_ids_are_comma_separated() {
        assert_eq!(join_message_ids(&[3, 10, 42]).unwrap(), "3,10,42");
        assert!(join_message_ids(&[]).is_err());
    }
}
