//! Parser: YAML text (one or many documents) into typed trees, the way kustomize reads resources.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::quoted;
use super::scalar::resolve_plain;
use super::{Map, Node};

/// Malformed YAML, with the 1-based line where the parser stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("yaml: line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Where in a resource the builder is: annotation values are read as their text, as kustomize does.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    Metadata,
    Annotations,
    Other,
}

/// Parses every document of `text`; empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, ParseError> {
    parse_with(text, false, true)
}

/// Parses without reading annotation values as text (for strategic merge patches by name,
/// where kustomize keeps `null` as a deletion).
pub fn parse_documents_plain(text: &str) -> Result<Vec<Node>, ParseError> {
    parse_with(text, false, false)
}

/// Parses with YAML 1.1 booleans (`yes`, `on`, `n`, ...), the way kustomize reads
/// kustomization.yaml itself.
pub fn parse_documents_yaml11(text: &str) -> Result<Vec<Node>, ParseError> {
    parse_with(text, true, true)
}

fn parse_with(
    text: &str,
    yaml11: bool,
    annotations_as_text: bool,
) -> Result<Vec<Node>, ParseError> {
    let root = if annotations_as_text {
        Ctx::Root
    } else {
        Ctx::Other
    };
    // A byte order mark is not content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        depth: 0,
        yaml11,
        source: quoted::has_libyaml_only_breaks(text).then(|| text.chars().collect()),
    };
    let mut docs = Vec::new();
    loop {
        let (ev, mark) = b.next()?;
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                // Anchors do not reach across documents.
                b.anchors.clear();
                let (ev, mark) = b.next()?;
                if matches!(ev, Event::DocumentEnd) {
                    continue;
                }
                let node = b.build(ev, mark, root)?;
                let (end, m) = b.next()?;
                if !matches!(end, Event::DocumentEnd) {
                    return Err(err(m, "expected document end"));
                }
                if !node.is_null() {
                    docs.push(node);
                }
            }
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            _ => return Err(err(mark, "unexpected event")),
        }
    }
    Ok(docs)
}

fn err(m: Marker, msg: &str) -> ParseError {
    ParseError {
        line: m.line(),
        message: msg.to_string(),
    }
}

struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    anchors: HashMap<usize, Node>,
    depth: usize,
    yaml11: bool,
    /// The text as chars (yaml-rust2 marks count chars), kept only when it holds a break that
    /// libyaml and yaml-rust2 read differently.
    source: Option<Vec<char>>,
}

const MAX_DEPTH: usize = 500;

impl Builder<'_> {
    fn next(&mut self) -> Result<(Event, Marker), ParseError> {
        self.parser.next_token().map_err(|e| {
            let m = *e.marker();
            ParseError {
                line: m.line(),
                message: e.info().to_string(),
            }
        })
    }

    fn build(&mut self, ev: Event, mark: Marker, ctx: Ctx) -> Result<Node, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(mark, "document nested too deeply"));
        }
        let r = self.build_inner(ev, mark, ctx);
        self.depth -= 1;
        r
    }

    fn build_inner(&mut self, ev: Event, mark: Marker, ctx: Ctx) -> Result<Node, ParseError> {
        match ev {
            Event::Scalar(mut text, style, anchor, tag) => {
                if let (Some(src), TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted) =
                    (&self.source, style)
                    && let Some(v) = quoted::read(src, mark.index())
                {
                    text = v;
                }
                let node = scalar_node(
                    text,
                    style,
                    tag.as_ref().map(|t| t.suffix.as_str()),
                    ctx,
                    self.yaml11,
                );
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                Ok(node)
            }
            Event::Alias(id) => self
                .anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| err(mark, "unknown anchor referenced")),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, m) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.build(ev, m, Ctx::Other)?);
                }
                let node = Node::Seq(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                Ok(node)
            }
            Event::MappingStart(anchor, _) => {
                let mut map = Map::new();
                loop {
                    let (ev, m) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key = match self.build(ev, m, Ctx::Other)? {
                        Node::Seq(_) | Node::Map(_) => {
                            return Err(err(m, "complex mapping keys are not supported"));
                        }
                        k => k.scalar_text().unwrap_or_else(|| "null".to_string()),
                    };
                    let child_ctx = match (ctx, key.as_str()) {
                        (Ctx::Root, "metadata") => Ctx::Metadata,
                        (Ctx::Metadata, "annotations") => Ctx::Annotations,
                        (Ctx::Annotations, _) => Ctx::Annotations,
                        _ => Ctx::Other,
                    };
                    let (ev, vm) = self.next()?;
                    let value = self.build(ev, vm, child_ctx)?;
                    if map.contains_key(&key) {
                        return Err(err(m, &format!("mapping key \"{key}\" already defined")));
                    }
                    map.insert(key, value);
                }
                let node = Node::Map(map);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                Ok(node)
            }
            _ => Err(err(mark, "unexpected YAML event")),
        }
    }
}

fn scalar_node(
    text: String,
    style: TScalarStyle,
    tag: Option<&str>,
    ctx: Ctx,
    yaml11: bool,
) -> Node {
    if ctx == Ctx::Annotations {
        return Node::Str(text);
    }
    match tag {
        Some("str") => return Node::Str(text),
        Some("int") | Some("float") | Some("bool") | Some("null") => return resolve_plain(&text),
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Node::Str(text);
    }
    if yaml11 {
        match text.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Node::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Node::Bool(false),
            _ => {}
        }
    }
    resolve_plain(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_yaml_reports_its_line() {
        let e = parse_documents("a: b\nc: [d\n").unwrap_err();
        assert!(e.line >= 2, "{e}");
    }

    #[test]
    fn annotation_values_keep_their_text() {
        let d = parse_documents("metadata:\n  annotations:\n    a: 1.50\n  labels:\n    b: 1\n")
            .unwrap();
        assert_eq!(
            d[0].get_path(&["metadata", "annotations", "a"]),
            Some(&Node::Str("1.50".into()))
        );
        assert_eq!(
            d[0].get_path(&["metadata", "labels", "b"]),
            Some(&Node::Int(1))
        );
    }

    #[test]
    fn empty_documents_are_dropped() {
        let d = parse_documents("---\n---\na: 1\n---\n# only a comment\n").unwrap();
        assert_eq!(d.len(), 1);
    }
}
