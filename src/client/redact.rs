//! Keeping the password out of what a server says back: error messages, fault
//! reasons, body excerpts and trace logs quote the server's text, and a server
//! (or a proxy's error page) may echo the request, password included.

use crate::error::{Error, OutcomeUnknown, ResponseError, ResponseErrorKind};

const REDACTED: &str = "***";

/// The password in every form a server's text may show it.
pub(crate) struct Secret {
    forms: Vec<String>,
}

impl Secret {
    pub(crate) fn new(password: &str) -> Self {
        let mut forms: Vec<String> = if password.is_empty() {
            Vec::new()
        } else {
            vec![
                password.to_owned(),
                quick_xml::escape::escape(password).into_owned(),
                quick_xml::escape::partial_escape(password).into_owned(),
                url::form_urlencoded::byte_serialize(password.as_bytes()).collect(),
            ]
        };
        // Longest first, so that an escaped form is replaced whole.
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup();
        Secret { forms }
    }

    /// `text` with every form of the password replaced by `***`.
    pub(crate) fn scrub(&self, text: &mut String) {
        for form in &self.forms {
            if text.contains(form.as_str()) {
                *text = text.replace(form.as_str(), REDACTED);
            }
        }
    }

    /// `text`, scrubbed.
    pub(crate) fn scrubbed(&self, text: &str) -> String {
        let mut text = text.to_owned();
        self.scrub(&mut text);
        text
    }

    /// `error` with the password scrubbed from every text that came from the server.
    pub(crate) fn scrub_error(&self, error: Error) -> Error {
        match error {
            Error::Response(mut response) => {
                self.scrub_response(&mut response);
                Error::Response(response)
            }
            Error::OutcomeUnknown(OutcomeUnknown { operation, cause }) => {
                Error::OutcomeUnknown(OutcomeUnknown { operation, cause: Box::new(self.scrub_error(*cause)) })
            }
            other => other,
        }
    }

    fn scrub_response(&self, response: &mut ResponseError) {
        let scrub = |text: &mut String| self.scrub(text);
        match &mut response.kind {
            ResponseErrorKind::HttpStatus { retry_after, body_excerpt, .. } => {
                retry_after.iter_mut().for_each(scrub);
                self.scrub(body_excerpt);
            }
            ResponseErrorKind::Fault(fault) => {
                fault.raw_codes.iter_mut().for_each(scrub);
                self.scrub(&mut fault.reason);
                fault.actor.iter_mut().chain(fault.node.iter_mut()).chain(fault.detail.iter_mut()).for_each(scrub);
            }
            ResponseErrorKind::Undecodable(error) => error.edit_texts(scrub),
            ResponseErrorKind::UnexpectedContentType { content_type, body_excerpt } => {
                self.scrub(content_type);
                self.scrub(body_excerpt);
            }
            ResponseErrorKind::Redirected { location, .. } => location.iter_mut().for_each(scrub),
            ResponseErrorKind::TooLarge { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_password_is_scrubbed() {
        let secret = Secret::new("p<&>ss w");
        let mut text = "plain p<&>ss w, xml p&lt;&amp;&gt;ss w, url p%3C%26%3Ess+w.".to_owned();
        secret.scrub(&mut text);
        assert_eq!(text, "plain ***, xml ***, url ***.");
        let mut untouched = "nothing here".to_owned();
        Secret::new("").scrub(&mut untouched);
        assert_eq!(untouched, "nothing here");
    }
}
