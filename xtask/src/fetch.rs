//! `cargo xtask fetch --base <URL>`: download the service WSDLs, keeping them
//! only when every one of them is a WSDL document the generator can handle.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};

use crate::load::NoImports;
use crate::parse::WSDL_NS;
use crate::pipeline::{self, Input, Options};

/// `(endpoint, file)`: `<base><endpoint>?WSDL` is saved as `<out>/<file>`.
pub const DOCUMENTS: [(&str, &str); 2] =
    [("send.asmx", "send.wsdl"), ("IncomingMessages.asmx", "incoming_messages.wsdl")];

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The whole request, so a server trickling bytes cannot hold `fetch` forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How much of an unexpected response an error message shows.
const SHOWN_CHARS: usize = 120;

/// Downloads every document, checks them all (down to generating code from
/// each), then writes them; returns the paths written.
pub fn fetch(base: &str, out: &Path) -> Result<Vec<PathBuf>> {
    let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build();
    let mut documents = Vec::new();
    for (endpoint, file) in DOCUMENTS {
        let url = format!("{base}{endpoint}?WSDL");
        let (content_type, text) = download(&agent, &url)?;
        check_wsdl(&url, &content_type, &text)?;
        check_generates(&url, &text)?;
        documents.push((out.join(file), text));
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    write_all(&documents)?;
    Ok(documents.into_iter().map(|(path, _)| path).collect())
}

/// The generator accepts the document on its own (parse, model and emit).
fn check_generates(url: &str, text: &str) -> Result<()> {
    let input = Input { source: url.to_owned(), text: text.to_owned() };
    let options = Options { annotations: None, command: "cargo xtask fetch", strict: false, read: &NoImports };
    pipeline::generate(&[input], &options).with_context(|| format!("{url}: the generator cannot handle this WSDL"))?;
    Ok(())
}

/// Writes every file to a temporary beside it, and renames them into place
/// only when all were written: a failure leaves the old files as they were.
fn write_all(documents: &[(PathBuf, String)]) -> Result<()> {
    let temporary = |path: &Path| {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        path.with_file_name(format!(".{name}.fetch-tmp"))
    };
    let remove_all = || {
        for (path, _) in documents {
            let _ = std::fs::remove_file(temporary(path));
        }
    };
    for (path, text) in documents {
        let temp = temporary(path);
        if let Err(error) = std::fs::write(&temp, text) {
            remove_all();
            return Err(error).with_context(|| format!("cannot write {}", temp.display()));
        }
    }
    for (path, _) in documents {
        let temp = temporary(path);
        if let Err(error) = std::fs::rename(&temp, path) {
            remove_all();
            return Err(error).with_context(|| format!("cannot rename {} to {}", temp.display(), path.display()));
        }
    }
    Ok(())
}

fn download(agent: &ureq::Agent, url: &str) -> Result<(String, String)> {
    match agent.get(url).call() {
        Ok(response) if response.status() == 200 => {
            let content_type = response.content_type().to_owned();
            let text = response.into_string().with_context(|| format!("{url}: cannot read the response"))?;
            Ok((content_type, text))
        }
        Ok(response) | Err(ureq::Error::Status(_, response)) => {
            let status = response.status();
            let content_type = response.content_type().to_owned();
            let body = response.into_string().unwrap_or_default();
            bail!("{url}: HTTP {status} ({content_type}) instead of a WSDL: {}", shown(&body))
        }
        Err(error) => Err(anyhow!(error)).with_context(|| format!("{url}: cannot download")),
    }
}

/// A WSDL 1.1 document has the root element `{http://schemas.xmlsoap.org/wsdl/}definitions`.
fn check_wsdl(url: &str, content_type: &str, text: &str) -> Result<()> {
    let document = roxmltree::Document::parse(text).map_err(|error| {
        anyhow!("{url}: not a WSDL: the {content_type} response is not XML ({error}): {}", shown(text))
    })?;
    let root = document.root_element().tag_name();
    if root.namespace() != Some(WSDL_NS) || root.name() != "definitions" {
        bail!(
            "{url}: not a WSDL: the root element is {{{}}}{}, not {{{WSDL_NS}}}definitions",
            root.namespace().unwrap_or(""),
            root.name()
        );
    }
    Ok(())
}

/// The start of `text` on one line, quoted.
fn shown(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{:?}…", &flat[..end]),
        None => format!("{flat:?}"),
    }
}
