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

struct Parser {
    chars: Vec<char>,
    pos: usize,
    strings: bool,
}

impl Parser {
    fn new(s: &str, strings: bool) -> Self {
        Parser {
            chars: s.chars().collect(),
            pos: 0,
            strings,
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
                    let v = self.typed(rs);
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
            Stop::At('=') => match self.val_list() {
                Ok(vl) => set_index(list, i, Value::Array(vl)),
                Err(ListErr::Eof) => set_index(list, i, Value::String(String::new())),
                Err(ListErr::NotList) => {
                    let (rs, _) = self.runes_until(&[',']);
                    let v = self.typed(rs);
                    set_index(list, i, v)
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
                    list.push(self.typed(rs));
                    return Ok(list);
                }
                Stop::At(_) => list.push(self.typed(rs)),
            }
        }
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
