//! When and how often a call is tried again, and what a failed call means.
//!
//! [`decide`] is the whole rule, as a pure function: SendSms is not idempotent,
//! so whether an attempt may be repeated is never decided anywhere else.

use std::time::Duration;

use crate::error::Error;
use crate::operation::OperationMeta;

/// How a client retries calls that are safe to retry.
///
/// Only operations marked retry-safe (reads and flag updates) are retried
/// after an error that [`crate::Error::is_retryable`] accepts, each attempt on
/// the next base URL. SendSms and ScheduleSms move to the next base URL only
/// when no connection could be made, so their request never reaches two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Pause before the second attempt; doubled after each attempt.
    pub initial_backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// One attempt only (failover still happens for connection failures while
    /// other base URLs remain).
    pub const fn none() -> Self {
        RetryPolicy { max_attempts: 1, initial_backoff: Duration::ZERO, max_backoff: Duration::ZERO }
    }

    /// The pause after attempt `attempt` (1-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    /// Three attempts, pausing 200 ms then 400 ms (at most 5 s).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What to do after attempt number `attempt` of a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again, on the next base URL, after this pause.
    Retry(Duration),
    /// Stop, and return the error as it is.
    Fail,
    /// Stop: the call is not safe to repeat and may have taken effect; return
    /// the error as [`Error::OutcomeUnknown`].
    FailOutcomeUnknown,
}

/// The decision after attempt `attempt` (1-based) of `operation` failed with
/// `error`, with `base_urls` base URLs to fail over between.
///
/// - A retry-safe operation is tried again while the error is retryable, up to
///   `policy.max_attempts` attempts in all; an error that never reached a
///   server may also go on through every base URL.
/// - Any other operation is tried again only when its request certainly never
///   left this machine, and only to reach every base URL once. Otherwise a
///   failure that may have come after the panel acted is an unknown outcome.
/// - Either moves on to a base URL not tried yet when this server answered that
///   it did not run the operation (404, 405, 503 with `Retry-After`).
pub(crate) fn decide(
    operation: &OperationMeta,
    error: &Error,
    attempt: u32,
    base_urls: usize,
    policy: &RetryPolicy,
) -> Decision {
    let max_attempts = policy.max_attempts.max(1);
    let base_urls = u32::try_from(base_urls).unwrap_or(u32::MAX);
    let every_base_url = max_attempts.max(base_urls);
    let never_sent = never_sent(error) && error.is_retryable();
    let elsewhere = not_processed_here(error) && attempt < base_urls;
    let may_try_again = if operation.retry_safe {
        elsewhere || (error.is_retryable() && attempt < if never_sent { every_base_url } else { max_attempts })
    } else {
        elsewhere || (never_sent && attempt < every_base_url)
    };
    if may_try_again {
        Decision::Retry(policy.backoff(attempt))
    } else if !operation.retry_safe && may_have_had_effect(error) {
        Decision::FailOutcomeUnknown
    } else {
        Decision::Fail
    }
}

/// True when the request of a failed attempt certainly never left this machine.
fn never_sent(error: &Error) -> bool {
    matches!(error, Error::Transport(transport) if !transport.request_may_have_been_sent)
}

/// True when the server answered that it did not run the operation.
fn not_processed_here(error: &Error) -> bool {
    matches!(error, Error::Response(response) if response.not_processed_here())
}

/// True when a failed attempt may still have been carried out by the panel.
fn may_have_had_effect(error: &Error) -> bool {
    match error {
        Error::Transport(error) => error.request_may_have_been_sent,
        // A Server/Receiver fault is any exception inside the method, which may
        // come after the SMS was queued; an unusable answer may follow a send.
        Error::Response(error) => !error.not_carried_out(),
        Error::Rejected(_) | Error::Input(_) | Error::OutcomeUnknown(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{
        FaultCode, InputError, OutcomeUnknown, Rejected, ResponseError, ResponseErrorKind, TransportError,
        TransportErrorKind,
    };
    use crate::soap::{SoapFault, SoapVersion};
    use crate::status_codes::SendStatus;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let pauses: Vec<_> = (1..=4).map(|attempt| policy.backoff(attempt).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 350, 350]);
    }

    fn transport(kind: TransportErrorKind, request_may_have_been_sent: bool) -> Error {
        let source = Box::new(std::io::Error::other("test"));
        TransportError { operation: "Op", endpoint: "http://h/".into(), kind, request_may_have_been_sent, source }
            .into()
    }

    fn response(kind: ResponseErrorKind) -> Error {
        ResponseError { operation: "Op", endpoint: "http://h/".into(), kind }.into()
    }

    fn fault(code: FaultCode) -> Error {
        response(ResponseErrorKind::Fault(Box::new(SoapFault::new(SoapVersion::V11, code, "x"))))
    }

    fn http(status: u16) -> Error {
        response(ResponseErrorKind::HttpStatus { status, retry_after: None, body_excerpt: String::new() })
    }

    fn http_retry_after(status: u16) -> Error {
        response(ResponseErrorKind::HttpStatus { status, retry_after: Some("30".into()), body_excerpt: String::new() })
    }

    /// Every kind of error a call can fail with, by name.
    fn errors() -> Vec<(&'static str, Error)> {
        vec![
            ("connect", transport(TransportErrorKind::Connect, false)),
            ("io, not sent", transport(TransportErrorKind::Io, false)),
            ("io, may have been sent", transport(TransportErrorKind::Io, true)),
            ("timeout", transport(TransportErrorKind::Timeout, true)),
            ("request", transport(TransportErrorKind::Request, false)),
            ("http 404", http(404)),
            ("http 405", http(405)),
            ("http 429", http(429)),
            ("http 500", http(500)),
            ("http 503", http(503)),
            ("http 503 retry-after", http_retry_after(503)),
            ("fault sender", fault(FaultCode::Sender)),
            ("fault receiver", fault(FaultCode::Receiver)),
            ("fault version mismatch", fault(FaultCode::VersionMismatch)),
            ("fault must understand", fault(FaultCode::MustUnderstand)),
            ("fault other", fault(FaultCode::Other("x".into()))),
            ("undecodable", response(ResponseErrorKind::Undecodable(crate::xml::DecodeError::malformed("x")))),
            (
                "content type",
                response(ResponseErrorKind::UnexpectedContentType {
                    content_type: "text/html".into(),
                    body_excerpt: String::new(),
                }),
            ),
            ("redirected", response(ResponseErrorKind::Redirected { status: 307, location: None })),
            ("too large", response(ResponseErrorKind::TooLarge { limit: 1 })),
            ("rejected", Rejected::new("Op", SendStatus::InsufficientCredit).into()),
            ("input", InputError::NoRecipients.into()),
            ("outcome unknown", OutcomeUnknown { operation: "Op", cause: Box::new(http(500)) }.into()),
        ]
    }

    /// The name of `error`'s kind; exhaustive, so a new kind fails to compile until the table has it.
    fn kind_of(error: &Error) -> &'static str {
        match error {
            Error::Transport(error) => match error.kind {
                TransportErrorKind::Connect => "connect",
                TransportErrorKind::Io => "io",
                TransportErrorKind::Timeout => "timeout",
                TransportErrorKind::Request => "request",
            },
            Error::Response(error) => match &error.kind {
                ResponseErrorKind::HttpStatus { .. } => "http",
                ResponseErrorKind::Fault(_) => "fault",
                ResponseErrorKind::Undecodable(_) => "undecodable",
                ResponseErrorKind::UnexpectedContentType { .. } => "content type",
                ResponseErrorKind::Redirected { .. } => "redirected",
                ResponseErrorKind::TooLarge { .. } => "too large",
            },
            Error::Rejected(_) => "rejected",
            Error::Input(_) => "input",
            Error::OutcomeUnknown(_) => "outcome unknown",
        }
    }

    const MS: Duration = Duration::from_millis(100);

    /// (error, retry-safe first attempt, retry-safe third (last) attempt,
    ///  send first attempt, send third attempt), with one base URL.
    /// R = retry after the first pause, F = fail, U = fail as outcome unknown.
    const TABLE: &[(&str, char, char, char, char)] = &[
        ("connect", 'R', 'F', 'R', 'F'),
        ("io, not sent", 'R', 'F', 'R', 'F'),
        ("io, may have been sent", 'R', 'F', 'U', 'U'),
        ("timeout", 'R', 'F', 'U', 'U'),
        ("request", 'F', 'F', 'F', 'F'),
        ("http 404", 'F', 'F', 'F', 'F'),
        ("http 405", 'F', 'F', 'F', 'F'),
        ("http 429", 'R', 'F', 'U', 'U'),
        ("http 500", 'F', 'F', 'U', 'U'),
        ("http 503", 'R', 'F', 'U', 'U'),
        ("http 503 retry-after", 'R', 'F', 'F', 'F'),
        ("fault sender", 'F', 'F', 'F', 'F'),
        ("fault receiver", 'R', 'F', 'U', 'U'),
        ("fault version mismatch", 'F', 'F', 'F', 'F'),
        ("fault must understand", 'F', 'F', 'F', 'F'),
        ("fault other", 'F', 'F', 'U', 'U'),
        ("undecodable", 'F', 'F', 'U', 'U'),
        ("content type", 'F', 'F', 'U', 'U'),
        ("redirected", 'F', 'F', 'F', 'F'),
        ("too large", 'F', 'F', 'U', 'U'),
        ("rejected", 'F', 'F', 'F', 'F'),
        ("input", 'F', 'F', 'F', 'F'),
        ("outcome unknown", 'F', 'F', 'F', 'F'),
    ];

    fn operation(retry_safe: bool) -> OperationMeta {
        let meta = if retry_safe {
            <crate::send::GetCreditRequest as crate::operation::XmlRequest>::OPERATION
        } else {
            <crate::send::SendSmsRequest as crate::operation::XmlRequest>::OPERATION
        };
        assert_eq!(meta.retry_safe, retry_safe);
        *meta
    }

    fn expected(code: char, attempt: u32) -> Decision {
        match code {
            'R' => Decision::Retry(MS * 2u32.pow(attempt - 1)),
            'F' => Decision::Fail,
            'U' => Decision::FailOutcomeUnknown,
            other => panic!("no such code {other}"),
        }
    }

    #[test]
    fn every_error_kind_by_retry_safety_and_attempt() {
        let policy = RetryPolicy { max_attempts: 3, initial_backoff: MS, max_backoff: Duration::from_secs(1) };
        let errors = errors();
        let kinds: std::collections::BTreeSet<&str> = errors.iter().map(|(_, error)| kind_of(error)).collect();
        let all = [
            "connect",
            "io",
            "timeout",
            "request",
            "http",
            "fault",
            "undecodable",
            "content type",
            "redirected",
            "too large",
            "rejected",
            "input",
            "outcome unknown",
        ];
        assert_eq!(kinds, all.into_iter().collect(), "every kind of error is in the table");
        assert_eq!(errors.len(), TABLE.len());
        for ((name, error), &(row, safe_first, safe_last, send_first, send_last)) in errors.iter().zip(TABLE) {
            assert_eq!(name, &row);
            for (retry_safe, attempt, code) in
                [(true, 1, safe_first), (true, 3, safe_last), (false, 1, send_first), (false, 3, send_last)]
            {
                let decision = decide(&operation(retry_safe), error, attempt, 1, &policy);
                assert_eq!(decision, expected(code, attempt), "{name}, retry-safe {retry_safe}, attempt {attempt}");
            }
        }
    }

    #[test]
    fn unsent_requests_fail_over_through_every_base_url_even_without_retries() {
        let policy = RetryPolicy::none();
        let connect = transport(TransportErrorKind::Connect, false);
        for retry_safe in [true, false] {
            let operation = operation(retry_safe);
            assert_eq!(decide(&operation, &connect, 1, 3, &policy), Decision::Retry(Duration::ZERO));
            assert_eq!(decide(&operation, &connect, 2, 3, &policy), Decision::Retry(Duration::ZERO));
            assert_eq!(decide(&operation, &connect, 3, 3, &policy), Decision::Fail);
        }
        // A send whose request may have left never moves on, however many base URLs there are.
        let timeout = transport(TransportErrorKind::Timeout, true);
        assert_eq!(decide(&operation(false), &timeout, 1, 3, &policy), Decision::FailOutcomeUnknown);
        // A read that reached a server is retried per the policy only.
        assert_eq!(decide(&operation(true), &timeout, 1, 3, &policy), Decision::Fail);
    }

    #[test]
    fn what_a_server_did_not_run_moves_to_the_next_base_url_once() {
        let policy = RetryPolicy::none();
        for error in [http(404), http(405), http_retry_after(503)] {
            for retry_safe in [true, false] {
                let operation = operation(retry_safe);
                assert_eq!(decide(&operation, &error, 1, 2, &policy), Decision::Retry(Duration::ZERO), "{error}");
                assert_eq!(decide(&operation, &error, 2, 2, &policy), Decision::Fail, "{error}");
            }
        }
        // 503 without Retry-After may come from the method itself: a send that got it is unknown.
        assert_eq!(decide(&operation(false), &http(503), 1, 2, &policy), Decision::FailOutcomeUnknown);
    }
}
