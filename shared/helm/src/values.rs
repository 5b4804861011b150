//! Values coalescing exactly as Helm's `chartutil`: user values over chart defaults, nulls deleting
//! keys, subchart scoping and globals copied down to every subchart.

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::error::Error;

/// The key holding values shared with every subchart.
pub const GLOBAL_KEY: &str = "global";

/// Helm's `CoalesceValues`: chart defaults under `vals`, nulls removing keys.
pub fn coalesce_values(
    chart: &Chart,
    vals: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut dest = vals.clone();
    coalesce(chart, &mut dest, "", false)?;
    Ok(dest)
}

/// Helm's `MergeValues`: like coalescing, but nulls are kept.
pub fn merge_values(chart: &Chart, vals: &Map<String, Value>) -> Result<Map<String, Value>, Error> {
    let mut dest = vals.clone();
    coalesce(chart, &mut dest, "", true)?;
    Ok(dest)
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

fn coalesce(
    chart: &Chart,
    dest: &mut Map<String, Value>,
    prefix: &str,
    merge: bool,
) -> Result<(), Error> {
    coalesce_chart_values(chart, dest, prefix, merge);
    coalesce_deps(chart, dest, prefix, merge)
}

fn coalesce_deps(
    chart: &Chart,
    dest: &mut Map<String, Value>,
    prefix: &str,
    merge: bool,
) -> Result<(), Error> {
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        let mut dv = match dest.remove(&name) {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(other) => {
                let shown = crate::values::go_sprint(&other);
                dest.insert(name.clone(), other);
                return Err(Error::Values(format!(
                    "type mismatch on {name}: %!t({shown})"
                )));
            }
        };
        let sub_prefix = concat_prefix(prefix, chart.name());
        coalesce_globals(&mut dv, dest);
        let r = coalesce(sub, &mut dv, &sub_prefix, merge);
        dest.insert(name, Value::Object(dv));
        r?;
    }
    Ok(())
}

/// Copies the globals of `src` into `dest`'s globals; a parent's globals win over the child's.
fn coalesce_globals(dest: &mut Map<String, Value>, src: &Map<String, Value>) {
    let mut dg = match dest.get(GLOBAL_KEY) {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src.get(GLOBAL_KEY) {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match val {
            Value::Object(vv) => {
                let mut vv = vv;
                match dg.get(&key) {
                    None => {
                        dg.insert(key, Value::Object(vv));
                    }
                    Some(Value::Object(destv)) => {
                        coalesce_tables(&mut vv, destv.clone(), true);
                        dg.insert(key, Value::Object(vv));
                    }
                    Some(_) => {}
                }
            }
            other => {
                if !matches!(dg.get(&key), Some(Value::Object(_))) {
                    dg.insert(key, other);
                }
            }
        }
    }
    dest.insert(GLOBAL_KEY.to_string(), Value::Object(dg));
}

fn coalesce_chart_values(chart: &Chart, v: &mut Map<String, Value>, prefix: &str, merge: bool) {
    for (key, val) in chart.values.clone() {
        match v.get_mut(&key) {
            Some(value) => {
                if value.is_null() && !merge {
                    v.remove(&key);
                } else if let Value::Object(dest) = value
                    && let Value::Object(mut src) = val
                {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    if !merge && !prefix.is_empty() {
                        clean_nil_values(&mut src);
                    }
                    coalesce_tables(dest, src, merge);
                }
            }
            None => {
                let mut val = val;
                if !merge && !prefix.is_empty() {
                    if val.is_null() {
                        continue;
                    }
                    if let Value::Object(sub) = &mut val {
                        clean_nil_values(sub);
                    }
                }
                v.insert(key, val);
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: `dst` wins; with `merge` false a null in `dst` deletes the
/// key when `src` had a value for it.
pub fn coalesce_tables(dst: &mut Map<String, Value>, mut src: Map<String, Value>, merge: bool) {
    let src_non_nil: std::collections::HashSet<String> = src
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (k, v) in dst.iter() {
        if v.is_null() {
            src.insert(k.clone(), Value::Null);
        }
    }
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(dv) if !merge && dv.is_null() && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv) => {
                if let Value::Object(sv) = val
                    && let Value::Object(dm) = dv
                {
                    coalesce_tables(dm, sv, merge);
                }
            }
        }
    }
}

fn clean_nil_values(m: &mut Map<String, Value>) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        if let Value::Object(sub) = v {
            clean_nil_values(sub);
        }
    }
}

/// Removes nulls at every depth (Helm's `trimNilValues`).
pub fn trim_nil_values(m: &mut Map<String, Value>) {
    clean_nil_values(m)
}

/// Helm's `mergeMaps` used for `-f` files and `--set`: `b` over `a`, maps merged recursively.
pub fn merge_maps(a: &mut Map<String, Value>, b: Map<String, Value>) {
    for (k, v) in b {
        match (a.get_mut(&k), v) {
            (Some(Value::Object(av)), Value::Object(bv)) => merge_maps(av, bv),
            (_, v) => {
                a.insert(k, v);
            }
        }
    }
}

/// The table at a dotted path (`a.b.c`), as Helm's `Values.Table`.
pub fn table<'a>(vals: &'a Map<String, Value>, path: &str) -> Option<&'a Map<String, Value>> {
    let mut cur = vals;
    for part in path.split('.') {
        match cur.get(part) {
            Some(Value::Object(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// The value at a dotted path, as Helm's `Values.PathValue` (the last element must not be a map).
pub fn path_value<'a>(vals: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (table(vals, p)?, l),
        None => (vals, path),
    };
    match parent.get(last) {
        Some(Value::Object(_)) | None => None,
        Some(v) => Some(v),
    }
}

/// Go's `%v` of a JSON value, for error messages.
pub fn go_sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Metadata;
    use serde_json::json;

    fn chart(name: &str, values: Value, deps: Vec<Chart>) -> Chart {
        Chart {
            metadata: Metadata {
                name: name.into(),
                version: "0.1.0".into(),
                api_version: "v2".into(),
                ..Default::default()
            },
            values: values.as_object().cloned().unwrap_or_default(),
            dependencies: deps,
            ..Default::default()
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn user_values_override_defaults_and_maps_merge() {
        let c = chart("p", json!({"a": 1, "m": {"x": 1, "y": 2}}), vec![]);
        let out = coalesce_values(&c, &obj(json!({"a": 5, "m": {"y": 3}}))).unwrap();
        assert_eq!(Value::Object(out), json!({"a": 5, "m": {"x": 1, "y": 3}}));
    }

    #[test]
    fn user_null_deletes_a_chart_default() {
        let c = chart("p", json!({"a": 1, "m": {"x": 1, "y": 2}}), vec![]);
        let out = coalesce_values(&c, &obj(json!({"a": null, "m": {"x": null}}))).unwrap();
        assert_eq!(Value::Object(out), json!({"m": {"y": 2}}));
    }

    #[test]
    fn subchart_values_are_scoped_and_globals_copied_down() {
        let sub = chart("sub", json!({"port": 80, "global": {"g": "child"}}), vec![]);
        let c = chart(
            "p",
            json!({"global": {"g": "parent", "h": 1}, "sub": {"port": 81}}),
            vec![sub],
        );
        let out = coalesce_values(&c, &Map::new()).unwrap();
        assert_eq!(out["sub"]["port"], json!(81));
        assert_eq!(out["sub"]["global"], json!({"g": "parent", "h": 1}));
    }

    #[test]
    fn merge_keeps_nulls() {
        let c = chart("p", json!({"a": 1}), vec![]);
        let out = merge_values(&c, &obj(json!({"a": null}))).unwrap();
        assert_eq!(out["a"], Value::Null);
    }

    #[test]
    fn subchart_default_nulls_do_not_leak() {
        let sub = chart("sub", json!({"k": null, "m": {"n": null, "o": 1}}), vec![]);
        let c = chart("p", json!({}), vec![sub]);
        let out = coalesce_values(&c, &Map::new()).unwrap();
        assert_eq!(out["sub"], json!({"global": {}, "m": {"o": 1}}));
    }

    #[test]
    fn merge_maps_overrides_recursively() {
        let mut a = obj(json!({"a": {"b": 1, "c": 2}, "d": [1]}));
        merge_maps(&mut a, obj(json!({"a": {"b": 3}, "d": [2]})));
        assert_eq!(Value::Object(a), json!({"a": {"b": 3, "c": 2}, "d": [2]}));
    }

    fn at<'a>(v: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
        let mut cur = v.get(path.split('.').next()?)?;
        for p in path.split('.').skip(1) {
            cur = cur.get(p)?;
        }
        Some(cur)
    }

    /// Helm's own coalescing scenario: three levels of charts, globals at every level, nulls
    /// from the user deleting defaults at every level.
    #[test]
    fn three_level_coalescing_matches_helms_scenario() {
        let ahab = chart(
            "ahab",
            json!({"global": {"nested": {"foo": "bar", "foo2": "bar2"}, "nested2": {"l2": "ahab"}},
                   "scope": "ahab", "name": "ahab", "boat": true,
                   "nested": {"foo": false, "boat": true}, "object": {"foo": "bar"}}),
            vec![],
        );
        let pequod = chart(
            "pequod",
            json!({"name": "pequod", "scope": "pequod", "global": {"nested2": {"l1": "pequod"}},
                   "boat": false, "ahab": {"boat": false, "nested": {"boat": false}}}),
            vec![ahab],
        );
        let spouter = chart(
            "spouter",
            json!({"scope": "spouter", "global": {"nested2": {"l1": "spouter"}}}),
            vec![],
        );
        let moby = chart(
            "moby",
            json!({"back": "exists", "bottom": "exists", "front": "exists", "left": "exists",
                   "name": "moby", "nested": {"boat": true}, "override": "bad", "right": "exists",
                   "scope": "moby", "top": "nope", "global": {"nested2": {"l0": "moby"}},
                   "pequod": {"boat": "maybe", "ahab": {"boat": "maybe", "nested": {"boat": "maybe"}}}}),
            vec![pequod, spouter],
        );
        let user = crate::yaml::parse_values(
            "top: yup\nbottom: null\nright: Null\nleft: NULL\nfront: ~\nback: \"\"\nnested:\n  boat: null\nglobal:\n  name: Ishmael\n  subject: Queequeg\n  nested:\n    boat: true\npequod:\n  boat: null\n  global:\n    name: Stinky\n    harpooner: Tashtego\n    nested:\n      boat: false\n      sail: true\n      foo2: null\n  ahab:\n    scope: whale\n    boat: null\n    nested:\n      foo: true\n      boat: null\n    object: null\n",
        )
        .unwrap();
        let v = coalesce_values(&moby, &user).unwrap();
        let s = |p: &str| at(&v, p).cloned();
        let want = [
            ("top", Some(json!("yup"))),
            ("back", Some(json!(""))),
            ("name", Some(json!("moby"))),
            ("global.name", Some(json!("Ishmael"))),
            ("global.harpooner", None),
            ("pequod.name", Some(json!("pequod"))),
            ("pequod.ahab.name", Some(json!("ahab"))),
            ("pequod.ahab.scope", Some(json!("whale"))),
            ("pequod.ahab.nested.foo", Some(json!(true))),
            ("pequod.ahab.global.name", Some(json!("Ishmael"))),
            ("pequod.ahab.global.nested.foo", Some(json!("bar"))),
            ("pequod.ahab.global.nested.foo2", None),
            ("pequod.ahab.global.subject", Some(json!("Queequeg"))),
            ("pequod.ahab.global.harpooner", Some(json!("Tashtego"))),
            ("pequod.global.name", Some(json!("Ishmael"))),
            ("pequod.global.nested.foo", None),
            ("spouter.global.harpooner", None),
            ("global.nested.boat", Some(json!(true))),
            ("pequod.global.nested.boat", Some(json!(true))),
            ("spouter.global.nested.boat", Some(json!(true))),
            ("pequod.global.nested.sail", Some(json!(true))),
            ("spouter.global.nested.sail", None),
            ("global.nested2.l0", Some(json!("moby"))),
            ("global.nested2.l1", None),
            ("pequod.global.nested2.l1", Some(json!("pequod"))),
            ("pequod.global.nested2.l2", None),
            ("pequod.ahab.global.nested2.l0", Some(json!("moby"))),
            ("pequod.ahab.global.nested2.l1", Some(json!("pequod"))),
            ("pequod.ahab.global.nested2.l2", Some(json!("ahab"))),
            ("spouter.global.nested2.l1", Some(json!("spouter"))),
            ("spouter.global.nested2.l2", None),
        ];
        for (path, expect) in want {
            assert_eq!(s(path), expect, "{path}");
        }
        for gone in [
            "bottom",
            "right",
            "left",
            "front",
            "nested.boat",
            "pequod.boat",
            "pequod.ahab.boat",
            "pequod.ahab.nested.boat",
            "pequod.ahab.object",
        ] {
            assert_eq!(
                s(gone),
                None,
                "{gone} should have been deleted by a user null"
            );
        }
    }

    #[test]
    fn non_map_subchart_values_are_a_type_mismatch() {
        let sub = chart("sub", json!({}), vec![]);
        let c = chart("p", json!({}), vec![sub]);
        assert!(coalesce_values(&c, &obj(json!({"sub": "x"}))).is_err());
    }
}
