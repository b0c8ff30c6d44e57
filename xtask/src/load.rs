//! The input loader: the WSDL given and every local document its imports
//! name (`wsdl:import location`, `xsd:import` and `xsd:include`
//! `schemaLocation`), each read once, merged into one [`Definitions`].
//!
//! `parse` turns one text into raw structs and lists the imports it found;
//! this module resolves their locations against the importing document's,
//! asks a [`Read`] for the texts (files for the commands, a map in memory for
//! tests and `fetch`), and keeps the documents by index: positions carry that
//! index, so every problem names the file where its construct is. Cycles and
//! repeated imports read a document once; the count of documents and the
//! depth of imports are bounded.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use crate::diag::{Problem, SourceErrors};
use crate::parse::{self, Definitions, Expect, Import, ImportKind};

/// The most documents one input may consist of, the document given included.
pub const MAX_DOCUMENTS: usize = 64;
/// The longest chain of imports from the document given.
pub const MAX_DEPTH: usize = 16;
/// The largest document read from a file.
pub const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

/// Where imported documents come from.
pub trait Read {
    /// The text of the document at `location`: a path with `/` separators,
    /// relative to wherever the input's own path is relative to.
    fn read(&self, location: &str) -> Result<String, String>;
}

/// Files, paths relative to `base` (the current directory for `generate`, the
/// repository for `regen`).
pub struct Files {
    pub base: PathBuf,
}

impl Files {
    /// Paths as given on the command line.
    pub fn current_dir() -> Files {
        Files { base: PathBuf::new() }
    }
}

impl Read for Files {
    fn read(&self, location: &str) -> Result<String, String> {
        let path = self.base.join(location);
        let described = |error: std::io::Error| match error.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            _ => error.to_string(),
        };
        let metadata = std::fs::metadata(&path).map_err(described)?;
        if !metadata.is_file() {
            return Err("not a file".to_owned());
        }
        if metadata.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{} bytes, more than the {MAX_DOCUMENT_BYTES} a document may have", metadata.len()));
        }
        std::fs::read_to_string(&path).map_err(described)
    }
}

/// Documents in memory, by location.
impl Read for BTreeMap<String, String> {
    fn read(&self, location: &str) -> Result<String, String> {
        self.get(location).cloned().ok_or_else(|| "no such document".to_owned())
    }
}

/// No document besides the one given (the fuzz target).
pub struct NoImports;

impl Read for NoImports {
    fn read(&self, _: &str) -> Result<String, String> {
        Err("imports are not followed here".to_owned())
    }
}

/// An input's definitions, with everything its imports define, and its documents.
pub struct Loaded {
    pub definitions: Definitions,
    /// The document given (as given), then each imported one (as resolved), in
    /// the order they were first read: [`crate::diag::Pos::doc`] indexes it.
    pub documents: Vec<String>,
}

/// Reads and parses the WSDL `text`, known as `source`, and the documents it
/// imports, directly or not. Every problem of every document is reported.
pub fn load(source: &str, text: &str, read: &dyn Read) -> Result<Loaded, SourceErrors> {
    let mut documents = vec![source.to_owned()];
    let mut definitions = parse::parse(text, 0, Expect::Wsdl, None)
        .map_err(|problem| SourceErrors::in_file(&documents, vec![problem]))?;
    // (location, the namespace a chameleon schema is read into) → document.
    let mut known: BTreeMap<(String, Option<String>), usize> =
        BTreeMap::from([((resolve("", &source.replace('\\', "/")), None), 0usize)]);
    let mut problems = Vec::new();
    let mut queue: VecDeque<(Import, usize)> = VecDeque::new();
    queue.extend(imports_of(&definitions, &mut problems).into_iter().map(|import| (import, 1)));
    let mut too_many = false;
    while let Some((import, depth)) = queue.pop_front() {
        let kind = import.kind.label();
        let location = &import.location;
        if location.is_empty() {
            problems.push(Problem::new(import.pos, format!("{kind} with an empty location")));
            continue;
        }
        if is_remote(location) {
            problems.push(Problem::new(
                import.pos,
                format!(
                    "{kind} of the remote document \"{location}\": only local files are read; save it beside this document and name it by a relative path"
                ),
            ));
            continue;
        }
        let importer = documents.get(import.pos.doc as usize).map_or("", String::as_str);
        let resolved = resolve(importer, location);
        // An include reads a schema into the including schema's namespace: a schema without
        // one (a chameleon) is read once per namespace it is included into.
        let chameleon = match (&import.kind, import.namespace.as_deref()) {
            (ImportKind::Include, Some(namespace)) if !namespace.is_empty() => Some(namespace),
            _ => None,
        };
        let key = (resolved.clone(), chameleon.map(str::to_owned));
        if known.contains_key(&key) || known.contains_key(&(resolved.clone(), None)) {
            continue;
        }
        if depth > MAX_DEPTH {
            problems.push(Problem::new(
                import.pos,
                format!("{kind} of \"{location}\": imports nested more than {MAX_DEPTH} documents deep"),
            ));
            continue;
        }
        if documents.len() >= MAX_DOCUMENTS {
            if !too_many {
                problems.push(Problem::new(
                    import.pos,
                    format!("{kind} of \"{location}\": more than {MAX_DOCUMENTS} documents in one input"),
                ));
            }
            too_many = true;
            continue;
        }
        let text = match read.read(&resolved) {
            Ok(text) => text,
            Err(error) => {
                problems.push(Problem::new(
                    import.pos,
                    format!("{kind} of \"{location}\": cannot read {resolved}: {error}"),
                ));
                continue;
            }
        };
        let doc = documents.len();
        documents.push(resolved);
        known.insert(key, doc);
        let expect = if import.kind == ImportKind::Wsdl { Expect::WsdlOrSchema } else { Expect::Schema };
        let parsed = match parse::parse(&text, u32::try_from(doc).unwrap_or(u32::MAX), expect, chameleon) {
            Ok(parsed) => parsed,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        if let Some(problem) = namespace_mismatch(&import, &parsed) {
            problems.push(problem);
            continue;
        }
        queue.extend(imports_of(&parsed, &mut problems).into_iter().map(|import| (import, depth + 1)));
        merge(&mut definitions, parsed);
    }
    if problems.is_empty() {
        Ok(Loaded { definitions, documents })
    } else {
        Err(SourceErrors::in_file(&documents, problems))
    }
}

/// The imports of one parsed document, in document order (its schemas'
/// problems, `xsd:redefine` and `xsd:override`, go to `problems`).
fn imports_of(definitions: &Definitions, problems: &mut Vec<Problem>) -> Vec<Import> {
    let mut imports = definitions.imports.clone();
    for schema in &definitions.schemas {
        imports.extend(schema.imports.iter().cloned());
        problems.extend(schema.problems.iter().cloned());
    }
    imports.sort_by_key(|import| import.pos);
    imports
}

/// An included schema has the including schema's target namespace; an
/// imported one the namespace its import names (when it names one).
fn namespace_mismatch(import: &Import, parsed: &Definitions) -> Option<Problem> {
    let expected = import.namespace.as_deref()?;
    let location = &import.location;
    let kind = import.kind.label();
    match import.kind {
        ImportKind::Wsdl => (parsed.target_namespace != expected).then(|| {
            Problem::new(
                import.pos,
                format!(
                    "{kind} of \"{location}\" names namespace \"{expected}\", but its targetNamespace is \"{}\"",
                    parsed.target_namespace
                ),
            )
        }),
        ImportKind::Schema => {
            let schema = parsed.schemas.first()?;
            (schema.target_namespace != expected).then(|| {
                Problem::new(
                    import.pos,
                    format!(
                        "{kind} of \"{location}\" names namespace \"{expected}\", but its targetNamespace is \"{}\"",
                        schema.target_namespace
                    ),
                )
            })
        }
        ImportKind::Include => {
            let schema = parsed.schemas.first()?;
            // A chameleon schema was read into the including schema's namespace.
            if schema.target_namespace == expected {
                None
            } else {
                Some(Problem::new(
                    import.pos,
                    format!(
                        "{kind} of \"{location}\": its targetNamespace \"{}\" is not the including schema's \"{expected}\"",
                        schema.target_namespace
                    ),
                ))
            }
        }
    }
}

/// Adds what `other` defines to `into`.
fn merge(into: &mut Definitions, other: Definitions) {
    into.schemas.extend(other.schemas);
    into.messages.extend(other.messages);
    into.port_types.extend(other.port_types);
    into.bindings.extend(other.bindings);
    into.services.extend(other.services);
}

/// True for a location with a URL scheme (`http:`, `https:`, `file:`…); a
/// single letter before the colon is a Windows drive, not a scheme.
pub fn is_remote(location: &str) -> bool {
    match location.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `location` (relative to the document at `importer`, or absolute) as one
/// path with `/` separators, `.` and `..` steps taken where they can be.
pub fn resolve(importer: &str, location: &str) -> String {
    let location = location.replace('\\', "/");
    let joined = if location.starts_with('/') {
        location
    } else {
        let importer = importer.replace('\\', "/");
        let dir = importer.rfind('/').map_or("", |end| &importer[..=end]);
        format!("{dir}{location}")
    };
    let absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // Above the root of an absolute path is the root.
                _ if absolute => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let path = parts.join("/");
    if absolute {
        format!("/{path}")
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries.iter().map(|(location, text)| ((*location).to_owned(), (*text).to_owned())).collect()
    }

    const WSDL_HEAD: &str = r#"<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:s="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a">"#;

    #[test]
    fn locations_resolve_against_the_importing_document() {
        assert_eq!(resolve("a/b/c.wsdl", "d.xsd"), "a/b/d.xsd");
        assert_eq!(resolve("a/b/c.wsdl", "./x/../d.xsd"), "a/b/d.xsd");
        assert_eq!(resolve("a/b/c.wsdl", "../../../d.xsd"), "../d.xsd");
        assert_eq!(resolve("c.wsdl", "sub\\d.xsd"), "sub/d.xsd");
        assert_eq!(resolve("a/c.wsdl", "/etc/../d.xsd"), "/d.xsd");
        assert_eq!(resolve("/x/c.wsdl", "../../../d.xsd"), "/d.xsd");
        assert!(is_remote("http://example.org/a.xsd"));
        assert!(is_remote("file:///a.xsd"));
        assert!(!is_remote("C:\\a.xsd"));
        assert!(!is_remote("a.xsd"));
    }

    #[test]
    fn cycles_and_repeated_imports_read_each_document_once() {
        let read = documents(&[
            (
                "dir/b.wsdl",
                &format!(r#"{WSDL_HEAD}<import location="a.wsdl"/><import location="./c.xsd"/></definitions>"#),
            ),
            (
                "dir/c.xsd",
                r#"<s:schema xmlns:s="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:c"><s:include schemaLocation="c.xsd"/><s:element name="e" type="s:string"/></s:schema>"#,
            ),
        ]);
        let root = format!(
            r#"{WSDL_HEAD}<import location="b.wsdl"/><types><s:schema targetNamespace="urn:a"><s:import namespace="urn:c" schemaLocation="c.xsd"/></s:schema></types></definitions>"#
        );
        let loaded = load("dir/a.wsdl", &root, &read).expect("loads");
        assert_eq!(loaded.documents, ["dir/a.wsdl", "dir/b.wsdl", "dir/c.xsd"]);
        assert_eq!(loaded.definitions.schemas.len(), 2);
    }

    #[test]
    fn problems_name_the_document_of_the_import() {
        let read = documents(&[(
            "b.wsdl",
            &format!("{WSDL_HEAD}\n<import location=\"http://example.org/x.xsd\"/>\n<import location=\"missing.xsd\"/></definitions>"),
        )]);
        let root = format!("{WSDL_HEAD}<import location=\"b.wsdl\"/></definitions>");
        let errors = load("a.wsdl", &root, &read).err().expect("fails").to_string();
        assert!(
            errors.starts_with("b.wsdl:2:1: wsdl:import of the remote document \"http://example.org/x.xsd\""),
            "{errors}"
        );
        assert!(
            errors.contains("\nb.wsdl:3:1: wsdl:import of \"missing.xsd\": cannot read missing.xsd: no such document"),
            "{errors}"
        );
    }

    #[test]
    fn imports_are_bounded_in_count_and_depth() {
        // A chain: each document imports the next.
        let chain: Vec<(String, String)> = (1..100)
            .map(|n| (format!("d{n}.wsdl"), format!("{WSDL_HEAD}<import location=\"d{}.wsdl\"/></definitions>", n + 1)))
            .collect();
        let read: BTreeMap<String, String> = chain.into_iter().collect();
        let root = format!("{WSDL_HEAD}<import location=\"d1.wsdl\"/></definitions>");
        let errors = load("d0.wsdl", &root, &read).err().expect("fails").to_string();
        assert!(errors.contains("imports nested more than 16 documents deep"), "{errors}");
        // A fan: one document importing many.
        let imports: String = (0..100).map(|n| format!("<import location=\"f{n}.wsdl\"/>")).collect();
        let read: BTreeMap<String, String> =
            (0..100).map(|n| (format!("f{n}.wsdl"), format!("{WSDL_HEAD}</definitions>"))).collect();
        let errors =
            load("root.wsdl", &format!("{WSDL_HEAD}{imports}</definitions>"), &read).err().expect("fails").to_string();
        assert_eq!(errors.lines().count(), 1, "{errors}");
        assert!(errors.contains("more than 64 documents in one input"), "{errors}");
    }

    #[test]
    fn includes_keep_the_target_namespace() {
        let read = documents(&[
            ("other.xsd", r#"<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:other"/>"#),
            ("none.xsd", r#"<schema xmlns="http://www.w3.org/2001/XMLSchema"/>"#),
            ("page.html", "<html/>"),
        ]);
        let root = format!(
            "{WSDL_HEAD}<types><s:schema targetNamespace=\"urn:a\">\n<s:include schemaLocation=\"other.xsd\"/>\n<s:include schemaLocation=\"none.xsd\"/>\n<s:import schemaLocation=\"page.html\"/></s:schema></types></definitions>"
        );
        let errors = load("a.wsdl", &root, &read).err().expect("fails").to_string();
        let lines: Vec<&str> = errors.lines().collect();
        assert_eq!(lines.len(), 2, "{errors}");
        assert!(
            lines[0].starts_with("a.wsdl:2:1: xsd:include of \"other.xsd\": its targetNamespace \"urn:other\""),
            "{errors}"
        );
        assert!(lines[1].starts_with("page.html:1:1: not an XML Schema: the root element is {}html"), "{errors}");
    }

    #[test]
    fn a_chameleon_schema_is_read_into_each_namespace_including_it() {
        let read = documents(&[(
            "none.xsd",
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:x="urn:x"><xs:include schemaLocation="none.xsd"/><xs:complexType name="T"><xs:sequence><xs:element name="e" type="U"/><xs:element name="f" type="xs:string"/><xs:element name="g" type="x:V"/></xs:sequence></xs:complexType></xs:schema>"#,
        )]);
        let root = format!(
            r#"{WSDL_HEAD}<types><s:schema targetNamespace="urn:a"><s:include schemaLocation="none.xsd"/></s:schema><s:schema targetNamespace="urn:b"><s:include schemaLocation="none.xsd"/></s:schema></types></definitions>"#
        );
        let loaded = load("a.wsdl", &root, &read).expect("loads");
        assert_eq!(loaded.documents, ["a.wsdl", "none.xsd", "none.xsd"]);
        let namespaces: Vec<&str> = loaded.definitions.schemas.iter().map(|s| s.target_namespace.as_str()).collect();
        assert_eq!(namespaces, ["urn:a", "urn:b", "urn:a", "urn:b"]);
        let parse::ComplexContent::Sequence(fields) = &loaded.definitions.schemas[3].complex_types[0].content else {
            panic!("a sequence")
        };
        let types: Vec<Option<&str>> =
            fields.iter().map(|field| field.type_name.as_ref().and_then(|name| name.namespace.as_deref())).collect();
        // No namespace becomes the including schema's; XML Schema's and other namespaces stay.
        assert_eq!(types, [Some("urn:b"), Some(crate::parse::XSD_NS), Some("urn:x")]);
    }
}
