//! The account's credentials, which never show up in logs or `Debug` output.

use std::fmt;

/// A panel user name and password.
///
/// `Debug` shows the user name and `***` for the password; there is no
/// `Display`. The password is only read when a request is written.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials for the account `username`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials { username: username.into(), password: password.into() }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn values(&self) -> crate::xml::CredentialValues<'_> {
        crate::xml::CredentialValues::new(&self.username, &self.password)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"***").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let credentials = Credentials::new("demo", "s3cr3t-パスワード");
        let shown = format!("{credentials:?} {credentials:#?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("demo"));
    }
}
