//! The Swagger 2.0 document in the protobuf form kubectl asks for
//! (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, gnostic's `openapi.v2.Document`).
//! Only what the JSON document holds is encoded: info, paths with their operations, definitions.

use serde_json::Value;

/// What kubectl puts in Accept (`@` is not valid in a media type, so Go's mime parser rejects it
/// in a Content-Type).
pub const ACCEPTED: &str = "com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// What kube-apiserver answers with, for either spelling.
pub const MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

pub fn wanted(accept: &str) -> bool {
    accept.contains(ACCEPTED) || accept.contains(&MEDIA_TYPE["application/".len()..])
}

#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn key(&mut self, field: u64, wire: u64) {
        self.varint((field << 3) | wire);
    }

    fn bytes(&mut self, field: u64, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn string(&mut self, field: u64, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn msg(&mut self, field: u64, m: Msg) {
        self.bytes(field, &m.0);
    }

    fn boolean(&mut self, field: u64, b: bool) {
        if b {
            self.key(field, 0);
            self.varint(1);
        }
    }

    fn int64(&mut self, field: u64, n: i64) {
        self.key(field, 0);
        self.varint(n as u64);
    }

    fn double(&mut self, field: u64, x: f64) {
        self.key(field, 1);
        self.0.extend_from_slice(&x.to_le_bytes());
    }
}

/// `Any` carrying a value as YAML text (JSON is YAML), as gnostic does for values it keeps raw.
fn any(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.string(2, &v.to_string());
    m
}

/// `NamedAny` entries for the `x-` members of a JSON object.
fn vendor_extensions(m: &mut Msg, field: u64, obj: &serde_json::Map<String, Value>) {
    for (k, v) in obj.iter().filter(|(k, _)| k.starts_with("x-")) {
        let mut named = Msg::default();
        named.string(1, k);
        named.msg(2, any(v));
        m.msg(field, named);
    }
}

fn schema(v: &Value) -> Msg {
    let mut m = Msg::default();
    let Some(o) = v.as_object() else {
        return m;
    };
    let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
    m.string(1, s("$ref"));
    m.string(2, s("format"));
    m.string(3, s("title"));
    m.string(4, s("description"));
    if let Some(d) = o.get("default") {
        m.msg(5, any(d));
    }
    for (key, field) in [("multipleOf", 6), ("maximum", 7), ("minimum", 9)] {
        if let Some(x) = o.get(key).and_then(Value::as_f64) {
            m.double(field, x);
        }
    }
    for (key, field) in [
        ("exclusiveMaximum", 8),
        ("exclusiveMinimum", 10),
        ("uniqueItems", 16),
        ("readOnly", 27),
    ] {
        m.boolean(field, o.get(key).and_then(Value::as_bool).unwrap_or(false));
    }
    for (key, field) in [
        ("maxLength", 11),
        ("minLength", 12),
        ("maxItems", 14),
        ("minItems", 15),
        ("maxProperties", 17),
        ("minProperties", 18),
    ] {
        if let Some(n) = o.get(key).and_then(Value::as_i64) {
            m.int64(field, n);
        }
    }
    m.string(13, s("pattern"));
    for r in o
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.string(19, r.as_str().unwrap_or(""));
    }
    for e in o
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(20, any(e));
    }
    match o.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut item = Msg::default();
            item.key(2, 0);
            item.varint(u64::from(*b));
            m.msg(21, item);
        }
        Some(ap @ Value::Object(_)) => {
            let mut item = Msg::default();
            item.msg(1, schema(ap));
            m.msg(21, item);
        }
        _ => {}
    }
    let types: Vec<&str> = match o.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let mut t = Msg::default();
        for ty in types {
            t.string(1, ty);
        }
        m.msg(22, t);
    }
    match o.get("items") {
        Some(i @ Value::Object(_)) => {
            let mut items = Msg::default();
            items.msg(1, schema(i));
            m.msg(23, items);
        }
        Some(Value::Array(a)) => {
            let mut items = Msg::default();
            for i in a {
                items.msg(1, schema(i));
            }
            m.msg(23, items);
        }
        _ => {}
    }
    for a in o
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(24, schema(a));
    }
    if let Some(props) = o.get("properties").and_then(Value::as_object) {
        let mut p = Msg::default();
        for (k, v) in props {
            let mut named = Msg::default();
            named.string(1, k);
            named.msg(2, schema(v));
            p.msg(1, named);
        }
        m.msg(25, p);
    }
    vendor_extensions(&mut m, 31, o);
    m
}

fn parameter(p: &Value) -> Msg {
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
    let mut param = Msg::default();
    if s("in") == "body" {
        let mut body = Msg::default();
        body.string(1, s("description"));
        body.string(2, s("name"));
        body.string(3, "body");
        body.boolean(4, p.get("required").and_then(Value::as_bool) == Some(true));
        body.msg(5, schema(p.get("schema").unwrap_or(&Value::Null)));
        param.msg(1, body);
    } else {
        // Query parameters are all this document has.
        let mut q = Msg::default();
        q.boolean(1, p.get("required").and_then(Value::as_bool) == Some(true));
        q.string(2, s("in"));
        q.string(3, s("description"));
        q.string(4, s("name"));
        q.string(6, s("type"));
        q.boolean(
            20,
            p.get("uniqueItems").and_then(Value::as_bool) == Some(true),
        );
        let mut non_body = Msg::default();
        non_body.msg(3, q);
        param.msg(2, non_body);
    }
    let mut item = Msg::default();
    item.msg(1, param);
    item
}

fn operation(op: &Value) -> Msg {
    let mut m = Msg::default();
    let strings = |k: &str| -> Vec<&str> {
        op.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    m.string(
        5,
        op.get("operationId").and_then(Value::as_str).unwrap_or(""),
    );
    for p in strings("produces") {
        m.string(6, p);
    }
    for c in strings("consumes") {
        m.string(7, c);
    }
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        m.msg(8, parameter(p));
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        let mut rs = Msg::default();
        for (code, r) in responses {
            let mut resp = Msg::default();
            resp.string(
                1,
                r.get("description").and_then(Value::as_str).unwrap_or(""),
            );
            if let Some(s) = r.get("schema") {
                let mut item = Msg::default();
                item.msg(1, schema(s));
                resp.msg(2, item);
            }
            let mut value = Msg::default();
            value.msg(1, resp);
            let mut named = Msg::default();
            named.string(1, code);
            named.msg(2, value);
            rs.msg(1, named);
        }
        m.msg(9, rs);
    }
    if let Some(o) = op.as_object() {
        vendor_extensions(&mut m, 13, o);
    }
    m
}

/// Encode the JSON Swagger 2.0 document of [`crate::discovery::openapi_v2`].
pub fn encode(doc: &Value) -> Vec<u8> {
    let mut m = Msg::default();
    m.string(
        1,
        doc.get("swagger").and_then(Value::as_str).unwrap_or("2.0"),
    );
    let mut info = Msg::default();
    let i = doc.get("info").unwrap_or(&Value::Null);
    info.string(1, i.get("title").and_then(Value::as_str).unwrap_or(""));
    info.string(2, i.get("version").and_then(Value::as_str).unwrap_or(""));
    m.msg(2, info);
    let mut paths = Msg::default();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut pi = Msg::default();
        for (method, field) in [
            ("get", 2),
            ("put", 3),
            ("post", 4),
            ("delete", 5),
            ("patch", 8),
        ] {
            if let Some(op) = item.get(method) {
                pi.msg(field, operation(op));
            }
        }
        let mut named = Msg::default();
        named.string(1, path);
        named.msg(2, pi);
        paths.msg(2, named);
    }
    m.msg(8, paths);
    let mut defs = Msg::default();
    for (name, s) in doc
        .get("definitions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut named = Msg::default();
        named.string(1, name);
        named.msg(2, schema(s));
        defs.msg(1, named);
    }
    m.msg(9, defs);
    m.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_nested_messages_are_length_delimited() {
        let doc = json!({"swagger": "2.0", "info": {"title": "K", "version": "v"}, "paths": {},
            "definitions": {"a.B": {"type": "object", "properties": {"x": {"type": "string"}}}}});
        let b = encode(&doc);
        assert_eq!(&b[..5], b"\x0a\x032.0");
        assert_eq!(&b[5..13], b"\x12\x06\x0a\x01K\x12\x01v");
        // Empty paths, then definitions{NamedSchema{"a.B", Schema{type{"object"}, properties}}}.
        assert_eq!(&b[13..15], b"\x42\x00");
        assert_eq!(&b[15..22], b"\x4a\x29\x0a\x27\x0a\x03a");
    }
}
