//! The dynamic value templates operate on, modelled on what Helm hands to Go's text/template.
//!
//! Maps are shared and mutable like Go maps: Sprig's `set`, `unset` and `merge` change a map in
//! place and every holder of that map sees the change (charts rely on `$_ := set $d "k" v`).
//! Lists are immutable and shared (Go templates cannot mutate a slice in place).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::func::FuncError;

/// A Go value as templates see it.
///
/// Numbers: `Int` is Go's `int`/`int64`, `Float` is `float64`. Helm parses values files through
/// JSON, so every number in `.Values` is a `float64` (which is why `1000000` renders as `1e+06`);
/// use [`Value::from_json_floats`] for Helm values and [`From<serde_json::Value>`] (integers become
/// `Int`) for data that Go would hold as `int64`.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Value {
    /// Go's nil (an empty interface).
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// A `[]interface{}`; shared, never mutated in place.
    List(Arc<Vec<Value>>),
    /// A `map[string]interface{}`, shared and mutable like a Go map.
    Map(Map),
    /// A host object with fields and methods (Helm's `.Files`, `.Capabilities.APIVersions`).
    Object(Arc<dyn Object>),
}

/// A host object: something with Go fields and methods rather than map keys.
pub trait Object: Send + Sync + fmt::Debug {
    /// The Go type name, used by `typeOf` and in error messages (e.g. `chart.Files`).
    fn type_name(&self) -> &str;
    /// A field or a method called without arguments; `None` when it has neither.
    fn field(&self, name: &str) -> Option<Result<Value, FuncError>> {
        let _ = name;
        None
    }
    /// A method called with arguments; `None` when there is no such method.
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let _ = (name, args);
        None
    }
    /// The plain data behind the object, used to print it, range over it, take its `len` and
    /// test its truth (e.g. a list of strings for `APIVersions`).
    fn data(&self) -> Value {
        Value::Nil
    }
    /// The concrete object, for functions that accept only their own object types.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// A shared, mutable `map[string]interface{}` iterated in sorted key order.
#[derive(Clone, Default)]
pub struct Map(Arc<RwLock<BTreeMap<String, Value>>>);

impl Map {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn from_btree(map: BTreeMap<String, Value>) -> Self {
        Map(Arc::new(RwLock::new(map)))
    }
    /// Read access to the entries (poisoning cannot leave a BTreeMap inconsistent, so it is ignored).
    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
    /// Write access to the entries, visible to every holder of this map.
    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }
    pub fn insert(&self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.write().insert(key.into(), value)
    }
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.write().remove(key)
    }
    pub fn len(&self) -> usize {
        self.read().len()
    }
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }
    /// A shallow copy of the entries (nested maps stay shared).
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.read().clone()
    }
    /// Whether both handles point at the same Go map.
    pub fn ptr_eq(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.read().iter()).finish()
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Self) -> bool {
        map_eq(self, other, 0)
    }
}

fn map_eq(a: &Map, b: &Map, depth: usize) -> bool {
    if a.ptr_eq(b) {
        return true;
    }
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    let (ra, rb) = (a.read(), b.read());
    ra.len() == rb.len()
        && ra
            .iter()
            .zip(rb.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && value_eq(va, vb, depth + 1))
}

fn value_eq(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Float(a), Value::Float(b)) => a == b,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::List(a), Value::List(b)) => {
            Arc::ptr_eq(a, b)
                || (a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| value_eq(x, y, depth + 1)))
        }
        (Value::Map(a), Value::Map(b)) => map_eq(a, b, depth + 1),
        (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

impl From<BTreeMap<String, Value>> for Map {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Map::from_btree(m)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Float(x) => write!(f, "Float({x:?})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => m.fmt(f),
            Value::Object(o) => o.fmt(f),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality (Go's `reflect.DeepEqual` for these types).
    fn eq(&self, other: &Self) -> bool {
        value_eq(self, other, 0)
    }
}

impl Value {
    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }
    /// A map value.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Map::from_btree(entries))
    }
    /// A map value from pairs.
    pub fn map_from<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
    /// An empty map.
    pub fn empty_map() -> Value {
        Value::Map(Map::new())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The number as an integer: ints as is, floats only when whole.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    /// Looks up a dotted path of map keys (`"image.tag"`); `None` if any step is missing.
    pub fn get_path(&self, path: &str) -> Option<Value> {
        let mut cur = self.clone();
        for key in path.split('.').filter(|k| !k.is_empty()) {
            cur = cur.as_map()?.get(key)?;
        }
        Some(cur)
    }

    /// Go's type name for the value as `printf "%T"` and `typeOf` show it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().to_string(),
        }
    }

    /// Go's reflect kind name, as Sprig's `kindOf` reports it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(_) => "struct",
        }
    }

    /// Go template truth: false, 0, nil, and empty strings, lists and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => match o.data() {
                Value::Nil => true,
                d => d.truthy(),
            },
        }
    }

    /// Builds a value from JSON the way Go's `json.Unmarshal` into `interface{}` does, and the
    /// way Helm loads values files: every number is a `float64`.
    pub fn from_json_floats(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::Array(a) => {
                Value::list(a.into_iter().map(Value::from_json_floats).collect())
            }
            serde_json::Value::Object(o) => Value::map(
                o.into_iter()
                    .map(|(k, v)| (k, Value::from_json_floats(v)))
                    .collect(),
            ),
            other => Value::from(other),
        }
    }

    /// Converts to JSON; `Float`s that are whole numbers stay floats in JSON (`3.0`) only if
    /// they cannot be written as integers. Host objects become their `data()`.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_depth(0)
    }

    fn to_json_depth(&self, depth: usize) -> serde_json::Value {
        if depth > MAX_VALUE_DEPTH {
            return serde_json::Value::Null;
        }
        match self {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => float_to_json(*f),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => {
                serde_json::Value::Array(l.iter().map(|v| v.to_json_depth(depth + 1)).collect())
            }
            Value::Map(m) => serde_json::Value::Object(
                m.read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json_depth(depth + 1)))
                    .collect(),
            ),
            Value::Object(o) => o.data().to_json_depth(depth + 1),
        }
    }

    /// A deep copy: nested maps are new maps (Sprig's `deepCopy`).
    pub fn deep_copy(&self) -> Value {
        self.deep_copy_depth(0)
    }

    fn deep_copy_depth(&self, depth: usize) -> Value {
        if depth > MAX_VALUE_DEPTH {
            return Value::Nil;
        }
        match self {
            Value::List(l) => Value::list(l.iter().map(|v| v.deep_copy_depth(depth + 1)).collect()),
            Value::Map(m) => Value::map(
                m.read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy_depth(depth + 1)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Values nested deeper than this (only possible through cycles made with `set`) are cut off
/// instead of overflowing the stack.
pub(crate) const MAX_VALUE_DEPTH: usize = 200;

/// JSON for a float64: whole numbers in i64 range become JSON integers, as Go's encoder writes
/// `3` for `float64(3)`. NaN and infinities have no JSON form and become null.
fn float_to_json(f: f64) -> serde_json::Value {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

impl From<serde_json::Value> for Value {
    /// JSON integers become `Int`, other numbers `Float` (see [`Value::from_json_floats`] for
    /// Helm's all-float64 values).
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::list(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<&Value> for serde_json::Value {
    fn from(v: &Value) -> Self {
        v.to_json()
    }
}

impl From<Value> for serde_json::Value {
    fn from(v: Value) -> Self {
        v.to_json()
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}
impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::list(l)
    }
}
impl From<BTreeMap<String, Value>> for Value {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Value::map(m)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map(Into::into).unwrap_or(Value::Nil)
    }
}

impl fmt::Display for Value {
    /// Go's `%v` formatting (`map[a:1]`, `[a b]`, `<nil>`, `1e+06`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::gofmt::format_v(self))
    }
}
