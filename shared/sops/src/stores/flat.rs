//! sops' flattened metadata for the flat formats (dotenv, INI): `age__list_0__map_enc` keys are
//! unflattened back into nested JSON (`stores.Unflatten`).

use serde_json::Value as Json;

const MAP_SEP: &str = "__map_";
const LIST_SEP: &str = "__list_";

enum Token {
    Map(String),
    List(usize),
}

fn tokenize(path: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut rest = path;
    // The first token is a plain key, up to the first separator.
    let first_end = [rest.find(MAP_SEP), rest.find(LIST_SEP)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    tokens.push(Token::Map(rest[..first_end].to_string()));
    rest = &rest[first_end..];
    while !rest.is_empty() {
        let (is_list, body) = if let Some(b) = rest.strip_prefix(MAP_SEP) {
            (false, b)
        } else if let Some(b) = rest.strip_prefix(LIST_SEP) {
            (true, b)
        } else {
            return None;
        };
        let end = [body.find(MAP_SEP), body.find(LIST_SEP)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(body.len());
        let name = &body[..end];
        tokens.push(if is_list {
            Token::List(name.parse().ok()?)
        } else {
            Token::Map(name.to_string())
        });
        rest = &body[end..];
    }
    Some(tokens)
}

fn insert(node: &mut Json, tokens: &[Token], value: Json) -> Option<()> {
    let (head, tail) = tokens.split_first()?;
    let child = match head {
        Token::Map(k) => {
            if !node.is_object() {
                *node = Json::Object(serde_json::Map::new());
            }
            let obj = node.as_object_mut()?;
            obj.entry(k.clone()).or_insert(Json::Null)
        }
        Token::List(i) => {
            if !node.is_array() {
                *node = Json::Array(Vec::new());
            }
            let arr = node.as_array_mut()?;
            // Bound list growth: indices come from the file.
            if *i > 10_000 {
                return None;
            }
            if arr.len() <= *i {
                arr.resize(*i + 1, Json::Null);
            }
            &mut arr[*i]
        }
    };
    if tail.is_empty() {
        *child = value;
        Some(())
    } else {
        insert(child, tail, value)
    }
}

/// Unflattens `(key, value)` pairs whose keys had the `sops_` prefix removed.
pub fn unflatten(pairs: Vec<(String, String)>) -> Option<Json> {
    let mut root = Json::Object(serde_json::Map::new());
    for (k, v) in pairs {
        let tokens = tokenize(&k)?;
        // Flat formats cannot hold newlines, so sops writes them as `\n`.
        insert(&mut root, &tokens, Json::String(v.replace("\\n", "\n")))?;
    }
    Some(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattened_keys_rebuild_lists_of_maps() {
        let md = unflatten(vec![
            ("age__list_0__map_enc".into(), "a\\nb".into()),
            ("age__list_0__map_recipient".into(), "age1x".into()),
            ("age__list_1__map_recipient".into(), "age1y".into()),
            ("mac".into(), "m".into()),
        ])
        .unwrap();
        assert_eq!(
            md,
            json!({"age": [{"enc": "a\nb", "recipient": "age1x"}, {"recipient": "age1y"}], "mac": "m"})
        );
    }
}
