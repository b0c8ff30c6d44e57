//! `cargo xtask fetch --base <URL>`: download the service WSDLs and every
//! document they import, keeping them only when every one of them is a WSDL
//! or XML Schema document the generator can handle.
//!
//! Imports (`wsdl:import location`, `xsd:import` / `xsd:include`
//! `schemaLocation`; absolute or relative URLs, ASP.NET's `?wsdl=wsdl1` and
//! `?xsd=xsd0` included) are followed breadth first, each URL once. Each
//! document is saved beside the WSDL under a name made here, never from a
//! path the server gives (`send.xsd0.xsd`, `send.types.xsd`: the WSDL's stem,
//! a cleaned-up word of the URL, the kind of document), and the locations in
//! the saved copies are rewritten to those names, so `regen` works offline.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use url::Url;

use crate::parse::{WSDL_NS, XSD_NS};
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
/// The most documents one fetch downloads, the WSDLs included.
pub const MAX_DOCUMENTS: usize = 64;
/// The largest document downloaded.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;
/// The longest word of a URL kept in a file name.
const MAX_NAME_CHARS: usize = 40;

/// A downloaded document: where it came from and what it is saved as.
struct Fetched {
    url: Url,
    file: String,
    text: String,
}

/// Downloads every document and what it imports, checks them all (down to
/// generating code from each WSDL), then writes them; returns the paths written.
pub fn fetch(base: &str, out: &Path) -> Result<Vec<PathBuf>> {
    let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build();
    let mut fetcher = Fetcher { agent, documents: Vec::new(), by_url: BTreeMap::new(), taken: BTreeSet::new() };
    for (_, file) in DOCUMENTS {
        fetcher.taken.insert(file.to_owned());
    }
    for (endpoint, file) in DOCUMENTS {
        let url = format!("{base}{endpoint}?WSDL");
        let parsed = Url::parse(&url).with_context(|| format!("{url}: not a URL"))?;
        let text = fetcher.download(&url)?;
        check_wsdl(&url, &text)?;
        fetcher.add(parsed, file.to_owned(), text)?;
    }
    let documents: BTreeMap<String, String> =
        fetcher.documents.iter().map(|document| (document.file.clone(), document.text.clone())).collect();
    for (endpoint, file) in DOCUMENTS {
        check_generates(&format!("{base}{endpoint}?WSDL"), file, &documents)?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let files: Vec<(PathBuf, String)> =
        fetcher.documents.into_iter().map(|document| (out.join(document.file), document.text)).collect();
    write_all(&files)?;
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

struct Fetcher {
    agent: ureq::Agent,
    documents: Vec<Fetched>,
    /// URL (without its fragment) → file name.
    by_url: BTreeMap<String, String>,
    /// File names given out.
    taken: BTreeSet<String>,
}

impl Fetcher {
    /// Adds a root document, then downloads what it imports, directly or not,
    /// rewriting every location to the file name of the document it names.
    fn add(&mut self, url: Url, file: String, text: String) -> Result<()> {
        let stem = file.split('.').next().unwrap_or("import").to_owned();
        self.by_url.insert(without_fragment(&url), file.clone());
        self.documents.push(Fetched { url, file, text });
        let mut queue = VecDeque::from([self.documents.len() - 1]);
        while let Some(index) = queue.pop_front() {
            let (url, text) = {
                let document = &self.documents[index];
                (document.url.clone(), document.text.clone())
            };
            let mut replacements = Vec::new();
            for import in imports(&text) {
                let shown = format!("{url}: {} of \"{}\"", import.what, import.location);
                let target = url.join(&import.location).with_context(|| format!("{shown}: not a URL"))?;
                if !matches!(target.scheme(), "http" | "https") {
                    bail!("{shown}: only http and https documents are fetched");
                }
                let key = without_fragment(&target);
                let file = match self.by_url.get(&key) {
                    Some(file) => file.clone(),
                    None => {
                        if self.documents.len() >= MAX_DOCUMENTS {
                            bail!("{shown}: more than {MAX_DOCUMENTS} documents to fetch");
                        }
                        let text = self.download(target.as_str()).with_context(|| shown.clone())?;
                        let kind = document_kind(target.as_str(), &text)?;
                        let file = self.name(&stem, &target, kind);
                        self.by_url.insert(key, file.clone());
                        self.documents.push(Fetched { url: target, file: file.clone(), text });
                        queue.push_back(self.documents.len() - 1);
                        file
                    }
                };
                replacements.push((import.range, file));
            }
            self.documents[index].text = rewrite(&text, replacements);
        }
        Ok(())
    }

    /// A file name for the document at `url`, unique among those given out:
    /// `<stem>.<word>.<xsd|wsdl>`, the word from the URL's `?wsdl=` / `?xsd=`
    /// value or its last path segment, reduced to letters, digits, `-` and `_`.
    fn name(&mut self, stem: &str, url: &Url, kind: &str) -> String {
        let from_query =
            url.query_pairs().find(|(key, _)| key.eq_ignore_ascii_case("wsdl") || key.eq_ignore_ascii_case("xsd"));
        let word = match from_query {
            Some((_, value)) if !value.is_empty() => value.into_owned(),
            _ => {
                let segment = url.path_segments().and_then(|mut segments| segments.next_back()).unwrap_or("");
                segment.rsplit_once('.').map_or(segment, |(name, _)| name).to_owned()
            }
        };
        let mut word: String = word
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .take(MAX_NAME_CHARS)
            .collect();
        if word.trim_matches('_').is_empty() {
            word = "import".to_owned();
        }
        let mut file = format!("{stem}.{word}.{kind}");
        let mut counter = 2;
        while self.taken.contains(&file) {
            file = format!("{stem}.{word}-{counter}.{kind}");
            counter += 1;
        }
        self.taken.insert(file.clone());
        file
    }

    fn download(&self, url: &str) -> Result<String> {
        download(&self.agent, url)
    }
}

fn without_fragment(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    url.to_string()
}

/// A location to follow in a document: its attribute's value range, as written.
struct ImportRef {
    what: &'static str,
    location: String,
    range: std::ops::Range<usize>,
}

/// The imports of a document, in document order: `wsdl:import location`,
/// `xsd:import` and `xsd:include` `schemaLocation` (anywhere, inline schemas included).
fn imports(text: &str) -> Vec<ImportRef> {
    let Ok(document) = roxmltree::Document::parse(text) else { return Vec::new() };
    let mut found = Vec::new();
    for node in document.descendants().filter(roxmltree::Node::is_element) {
        let name = node.tag_name();
        let (what, attribute) = match (name.namespace(), name.name()) {
            (Some(WSDL_NS), "import") => ("wsdl:import", "location"),
            (Some(XSD_NS), "import") => ("xsd:import", "schemaLocation"),
            (Some(XSD_NS), "include") => ("xsd:include", "schemaLocation"),
            _ => continue,
        };
        if let Some(attribute) = node.attributes().find(|a| a.name() == attribute && a.namespace().is_none()) {
            let location = attribute.value().trim();
            if !location.is_empty() {
                found.push(ImportRef { what, location: location.to_owned(), range: attribute.range_value() });
            }
        }
    }
    found
}

/// `text` with each range replaced (ranges in document order, not overlapping).
fn rewrite(text: &str, mut replacements: Vec<(std::ops::Range<usize>, String)>) -> String {
    replacements.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, value) in replacements {
        if range.start < at || range.end > text.len() {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&value);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The generator accepts each WSDL with what it imports (load, parse, model and emit).
fn check_generates(url: &str, file: &str, documents: &BTreeMap<String, String>) -> Result<()> {
    let text = documents.get(file).cloned().unwrap_or_default();
    let input = Input { source: file.to_owned(), text };
    let options = Options { annotations: None, command: "cargo xtask fetch", strict: false, read: documents };
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

/// The body of a 200 response to GET `url`, at most [`MAX_DOCUMENT_BYTES`], XML.
fn download(agent: &ureq::Agent, url: &str) -> Result<String> {
    match agent.get(url).call() {
        Ok(response) if response.status() == 200 => {
            let content_type = response.content_type().to_owned();
            let mut bytes = Vec::new();
            response
                .into_reader()
                .take(MAX_DOCUMENT_BYTES + 1)
                .read_to_end(&mut bytes)
                .with_context(|| format!("{url}: cannot read the response"))?;
            if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
                bail!("{url}: the response is larger than {MAX_DOCUMENT_BYTES} bytes");
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow!("{url}: not XML: the {content_type} response is not UTF-8 text"))?;
            if let Err(error) = roxmltree::Document::parse(&text) {
                bail!("{url}: not XML: the {content_type} response is not well-formed ({error}): {}", shown(&text));
            }
            Ok(text)
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
fn check_wsdl(url: &str, text: &str) -> Result<()> {
    let document = roxmltree::Document::parse(text).map_err(|error| anyhow!("{url}: not a WSDL ({error})"))?;
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

/// `wsdl` or `xsd`, by the root element of an imported document; anything else is refused.
fn document_kind(url: &str, text: &str) -> Result<&'static str> {
    let document = roxmltree::Document::parse(text).map_err(|error| anyhow!("{url}: not XML ({error})"))?;
    let root = document.root_element().tag_name();
    match (root.namespace(), root.name()) {
        (Some(WSDL_NS), "definitions") => Ok("wsdl"),
        (Some(XSD_NS), "schema") => Ok("xsd"),
        (namespace, name) => {
            bail!("{url}: neither a WSDL nor an XML Schema: the root element is {{{}}}{name}", namespace.unwrap_or(""))
        }
    }
}
