//! Helm's `--set` syntax (`strvals`): dotted keys, `[i]` list indexes, `{a,b}` lists, backslash
//! escapes, and type inference (bools, null, int64 unless a leading zero, otherwise strings).

use serde_json::{Map, Number, Value};

const MAX_INDEX: usize = 65536;
const MAX_NESTED_NAME_LEVEL: usize = 30;

/// Parses one `--set` argument into `dest`, with type inference.
pub fn parse_into(s: &str, dest: &mut Map<String, Value>) -> Result<(), String> {
    Parser::new(s, false).parse(dest)
}

/// Parses one `--set-string` argument into `dest`: every value is a string.
pub fn parse_into_string(s: &str, dest: &mut Map<String, Value>) -> Result<(), String> {
    Parser::new(s, true).parse(dest)
}

/// Parses one `--set-json` argument: values are JSON documents (numbers become float64).
pub fn parse_json(s: &str, dest: &mut Map<String, Value>) -> Result<(), String> {
    let mut p = Parser::new(s, false);
    p.mode = Mode::Json;
    p.parse(dest)
}

/// Parses one `--set-literal` argument: the whole text after `=` is the string value.
pub fn parse_literal(s: &str, dest: &mut Map<String, Value>) -> Result<(), String> {
    let mut p = Parser::new(s, true);
    p.mode = Mode::Literal;
    p.parse(dest)
}

/// Parses one `--set-file` argument: each value is a path whose content (read by `read`)
/// becomes the string value.
pub fn parse_file(
    s: &str,
    dest: &mut Map<String, Value>,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(), String> {
    let mut p = Parser::new(s, true);
    p.mode = Mode::File(read);
    p.parse(dest)
}

fn floats(v: Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Value::Array(a) => Value::Array(a.into_iter().map(floats).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, floats(v))).collect()),
        other => other,
    }
}

#[derive(Clone, Copy)]
enum Mode<'a> {
    Plain,
    Json,
    Literal,
    File(&'a dyn Fn(&str) -> Result<String, String>),
}

enum Stop {
    Eof,
    At(char),
}

#[derive(Debug)]
enum PErr {
    Eof,
    Msg(String),
}

impl From<String> for PErr {
    fn from(s: String) -> Self {
        PErr::Msg(s)
    }
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    strings: bool,
    mode: Mode<'a>,
}

impl<'a> Parser<'a> {
    fn new(s: &str, strings: bool) -> Self {
        Parser {
            chars: s.chars().collect(),
            pos: 0,
            strings,
            mode: Mode::Plain,
        }
    }

    /// A value after `=` in JSON or literal mode, consuming a following comma; `None` in the
    /// other modes.
    fn special_value(&mut self) -> Option<Result<Value, PErr>> {
        match self.mode {
            Mode::Literal => {
                let rest: String = self.chars[self.pos..].iter().collect();
                self.pos = self.chars.len();
                Some(Ok(Value::String(rest)))
            }
            Mode::Json => {
                let rest: String = self.chars[self.pos..].iter().collect();
                let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Value>();
                let v = match stream.next() {
                    Some(Ok(v)) => v,
                    Some(Err(e)) => return Some(Err(PErr::Msg(e.to_string()))),
                    None => return Some(Err(PErr::Msg("unexpected end of JSON input".into()))),
                };
                let used = rest[..stream.byte_offset()].chars().count();
                self.pos += used;
                while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
                    self.pos += 1;
                }
                match self.chars.get(self.pos) {
                    None => {}
                    Some(',') => self.pos += 1,
                    Some(c) => {
                        return Some(Err(PErr::Msg(format!(
                            "invalid character {c:?} after JSON value"
                        ))));
                    }
                }
                Some(Ok(floats(v)))
            }
            _ => None,
        }
    }

    fn value(&self, s: String) -> Result<Value, PErr> {
        match self.mode {
            Mode::File(read) => read(&s).map(Value::String).map_err(PErr::Msg),
            _ => Ok(self.typed(s)),
        }
    }

    fn parse(&mut self, data: &mut Map<String, Value>) -> Result<(), String> {
        loop {
            match self.key(data, 0) {
                Ok(()) => continue,
                Err(PErr::Eof) => return Ok(()),
                Err(PErr::Msg(m)) => return Err(m),
            }
        }
    }

    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn runes_until(&mut self, stop: &[char]) -> (String, Stop) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, Stop::Eof),
                Some(c) if stop.contains(&c) => return (v, Stop::At(c)),
                Some('\\') => match self.read() {
                    None => return (v, Stop::Eof),
                    Some(n) => v.push(n),
                },
                Some(c) => v.push(c),
            }
        }
    }

    fn typed(&self, s: String) -> Value {
        if self.strings {
            return Value::String(s);
        }
        if s.eq_ignore_ascii_case("true") {
            return Value::Bool(true);
        }
        if s.eq_ignore_ascii_case("false") {
            return Value::Bool(false);
        }
        if s.eq_ignore_ascii_case("null") {
            return Value::Null;
        }
        if s == "0" {
            return Value::Number(Number::from(0i64));
        }
        if !s.is_empty()
            && !s.starts_with('0')
            && let Ok(i) = parse_go_int(&s)
        {
            return Value::Number(Number::from(i));
        }
        Value::String(s)
    }

    fn key(&mut self, data: &mut Map<String, Value>, level: usize) -> Result<(), PErr> {
        let (k, last) = self.runes_until(&['=', '[', ',', '.']);
        match last {
            Stop::Eof => {
                if k.is_empty() {
                    Err(PErr::Eof)
                } else {
                    Err(format!("key {k:?} has no value").into())
                }
            }
            Stop::At('[') => {
                let i = self.key_index()?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Value::Array(l)) => l.clone(),
                    Some(_) => {
                        return Err(format!("error parsing index: key {k:?} is not a list").into());
                    }
                };
                let (list, err) = self.list_item(list, i, level);
                set(data, &k, Value::Array(list));
                err.map_or(Ok(()), Err)
            }
            Stop::At('=') if matches!(self.mode, Mode::Json | Mode::Literal) => {
                let v = self.special_value().unwrap_or(Err(PErr::Eof))?;
                set(data, &k, v);
                Ok(())
            }
            Stop::At('=') => match self.val_list() {
                Ok(vl) => {
                    set(data, &k, Value::Array(vl));
                    Ok(())
                }
                Err(ListErr::Eof) => {
                    set(data, &k, Value::String(String::new()));
                    Err(PErr::Eof)
                }
                Err(ListErr::NotList) => {
                    let (rs, _) = self.runes_until(&[',']);
                    let v = self.value(rs)?;
                    set(data, &k, v);
                    Ok(())
                }
                Err(ListErr::Msg(m)) => Err(PErr::Msg(m)),
            },
            Stop::At(',') => {
                set(data, &k, Value::String(String::new()));
                Err(format!("key {k:?} has no value (cannot end with ,)").into())
            }
            Stop::At(_) => {
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )
                    .into());
                }
                let mut inner = match data.get(&k) {
                    None => Map::new(),
                    Some(Value::Object(m)) => m.clone(),
                    Some(_) => Map::new(),
                };
                let e = self.key(&mut inner, level);
                if e.is_ok() && inner.is_empty() {
                    return Err(format!("key map {k:?} has no value").into());
                }
                if !inner.is_empty() {
                    set(data, &k, Value::Object(inner));
                }
                e
            }
        }
    }

    fn key_index(&mut self) -> Result<usize, PErr> {
        let (v, last) = self.runes_until(&[']']);
        if matches!(last, Stop::Eof) {
            return Err(PErr::Eof);
        }
        let i: i64 = v.parse().map_err(|_| {
            format!("error parsing index: strconv.Atoi: parsing {v:?}: invalid syntax")
        })?;
        if i < 0 {
            return Err(format!("negative {i} index not allowed").into());
        }
        Ok(i as usize)
    }

    fn list_item(
        &mut self,
        mut list: Vec<Value>,
        i: usize,
        level: usize,
    ) -> (Vec<Value>, Option<PErr>) {
        let (k, last) = self.runes_until(&['[', '.', '=']);
        if !k.is_empty() {
            return (
                list,
                Some(format!("unexpected data at end of array index: {k:?}").into()),
            );
        }
        match last {
            Stop::Eof => (list, Some(PErr::Eof)),
            Stop::At('=') if matches!(self.mode, Mode::Json | Mode::Literal) => {
                match self.special_value().unwrap_or(Err(PErr::Eof)) {
                    Ok(v) => set_index(list, i, v),
                    Err(e) => (list, Some(e)),
                }
            }
            Stop::At('=') => match self.val_list() {
                Ok(vl) => set_index(list, i, Value::Array(vl)),
                Err(ListErr::Eof) => set_index(list, i, Value::String(String::new())),
                Err(ListErr::NotList) => {
                    let (rs, _) = self.runes_until(&[',']);
                    match self.value(rs) {
                        Ok(v) => set_index(list, i, v),
                        Err(e) => (list, Some(e)),
                    }
                }
                Err(ListErr::Msg(m)) => (list, Some(PErr::Msg(m))),
            },
            Stop::At('[') => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => return (list, Some(e)),
                };
                let crt = match list.get(i) {
                    Some(Value::Array(l)) => l.clone(),
                    _ => Vec::new(),
                };
                let (l2, err) = self.list_item(crt, next, level);
                if let Some(e) = err {
                    return (list, Some(e));
                }
                set_index(list, i, Value::Array(l2))
            }
            Stop::At(_) => {
                let mut inner = match list.get(i) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                if let Err(e) = self.key(&mut inner, level) {
                    if i < list.len() {
                        list[i] = Value::Object(inner);
                    }
                    return (list, Some(e));
                }
                set_index(list, i, Value::Object(inner))
            }
        }
    }

    fn val_list(&mut self) -> Result<Vec<Value>, ListErr> {
        match self.read() {
            None => return Err(ListErr::Eof),
            Some('{') => {}
            Some(_) => {
                self.pos -= 1;
                return Err(ListErr::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.runes_until(&[',', '}']);
            match last {
                Stop::Eof => return Err(ListErr::Msg("list must terminate with '}'".into())),
                Stop::At('}') => {
                    if let Some(c) = self.read()
                        && c != ','
                    {
                        self.pos -= 1;
                    }
                    list.push(self.list_value(rs)?);
                    return Ok(list);
                }
                Stop::At(_) => list.push(self.list_value(rs)?),
            }
        }
    }
}

impl Parser<'_> {
    fn list_value(&self, s: String) -> Result<Value, ListErr> {
        self.value(s).map_err(|e| match e {
            PErr::Msg(m) => ListErr::Msg(m),
            PErr::Eof => ListErr::Eof,
        })
    }
}

enum ListErr {
    Eof,
    NotList,
    Msg(String),
}

fn set(data: &mut Map<String, Value>, key: &str, val: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), val);
    }
}

fn set_index(mut list: Vec<Value>, index: usize, val: Value) -> (Vec<Value>, Option<PErr>) {
    if index > MAX_INDEX {
        return (
            list,
            Some(
                format!("index of {index} is greater than maximum supported index of {MAX_INDEX}")
                    .into(),
            ),
        );
    }
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    list[index] = val;
    (list, None)
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, underscores not allowed.
fn parse_go_int(s: &str) -> Result<i64, ()> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    s.parse().map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Value {
        let mut m = Map::new();
        parse_into(s, &mut m).unwrap();
        Value::Object(m)
    }

    #[test]
    fn dotted_keys_and_several_pairs() {
        assert_eq!(parse("a.b=c,d=e"), json!({"a": {"b": "c"}, "d": "e"}));
    }

    #[test]
    fn types_are_inferred_like_helm() {
        assert_eq!(
            parse("a=true,b=FALSE,c=null,d=0,e=42,f=007,g=1.5,h=-3"),
            json!({"a": true, "b": false, "c": null, "d": 0, "e": 42, "f": "007", "g": "1.5", "h": -3})
        );
    }

    #[test]
    fn set_string_keeps_strings() {
        let mut m = Map::new();
        parse_into_string("a=true,b=42", &mut m).unwrap();
        assert_eq!(Value::Object(m), json!({"a": "true", "b": "42"}));
    }

    #[test]
    fn list_indexes_and_brace_lists() {
        assert_eq!(parse("a[1]=x"), json!({"a": [null, "x"]}));
        assert_eq!(parse("a[0].b=1,a[0].c=2"), json!({"a": [{"b": 1, "c": 2}]}));
        assert_eq!(parse("a={x,y,3}"), json!({"a": ["x", "y", 3]}));
        assert_eq!(parse("a[0][1]=z"), json!({"a": [[null, "z"]]}));
    }

    #[test]
    fn escaped_commas_and_dots_stay_literal() {
        assert_eq!(parse(r"a=b\,c"), json!({"a": "b,c"}));
        assert_eq!(parse(r"a\.b=c"), json!({"a.b": "c"}));
    }

    #[test]
    fn set_json_values_are_json_documents() {
        let mut m = Map::new();
        parse_json(r#"a={"b":[1,"x"]},c.d=true,e[1]="s""#, &mut m).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"a": {"b": [1.0, "x"]}, "c": {"d": true}, "e": [null, "s"]})
        );
        let mut m = Map::new();
        assert!(parse_json("a={bad", &mut m).is_err());
    }

    #[test]
    fn set_literal_keeps_commas_and_escapes() {
        let mut m = Map::new();
        parse_literal(r"a.b=x,y\z", &mut m).unwrap();
        assert_eq!(Value::Object(m), json!({"a": {"b": r"x,y\z"}}));
    }

    #[test]
    fn set_file_reads_each_value_through_the_reader() {
        let mut m = Map::new();
        let read = |p: &str| -> Result<String, String> {
            if p == "cfg.txt" {
                Ok("content\n".into())
            } else {
                Err(format!("open {p}: no such file"))
            }
        };
        parse_file("conf=cfg.txt", &mut m, &read).unwrap();
        assert_eq!(Value::Object(m), json!({"conf": "content\n"}));
        let mut m = Map::new();
        assert_eq!(
            parse_file("x=missing", &mut m, &read).unwrap_err(),
            "open missing: no such file"
        );
    }

    #[test]
    fn empty_value_is_empty_string() {
        assert_eq!(parse("a="), json!({"a": ""}));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let mut m = Map::new();
        assert!(
            parse_into("a", &mut m)
                .unwrap_err()
                .contains("has no value")
        );
        assert!(parse_into("a,", &mut m).is_err());
        assert!(
            parse_into("a={b", &mut m)
                .unwrap_err()
                .contains("terminate")
        );
        assert!(parse_into("a[x]=1", &mut m).is_err());
        assert!(parse_into("a[-1]=1", &mut m).is_err());
        assert!(parse_into("a[99999999]=1", &mut m).is_err());
    }
}
