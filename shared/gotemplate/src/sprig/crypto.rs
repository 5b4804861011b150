//! Sprig's password functions: `bcrypt` and `htpasswd` (Go's bcrypt `$2a$`, cost 10, random salt).

use super::args::{arity, reg, string};
use crate::func::{FuncError, FuncMap};
use crate::value::Value;

/// Go's `bcrypt.DefaultCost`.
const GO_DEFAULT_COST: u32 = 10;

fn bcrypt_hash(password: &str) -> Result<String, FuncError> {
    bcrypt::hash_with_result(password, GO_DEFAULT_COST)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .map_err(|e| FuncError::failed(e.to_string()))
}

pub(crate) fn register(m: &mut FuncMap) {
    reg(m, "bcrypt", |a| {
        arity(a, 1)?;
        Ok(Value::String(bcrypt_hash(string(a, 0)?)?))
    });
    reg(m, "htpasswd", |a| {
        arity(a, 2)?;
        let user = string(a, 0)?;
        if user.contains(':') {
            return Ok(Value::String(format!("invalid username: {user}")));
        }
        Ok(Value::String(format!(
            "{user}:{}",
            bcrypt_hash(string(a, 1)?)?
        )))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htpasswd_line_verifies_with_bcrypt() {
        let mut m = FuncMap::new();
        register(&mut m);
        let f = m.get("htpasswd").cloned().expect("registered");
        struct NoCtx;
        impl crate::func::FuncContext for NoCtx {
            fn execute_template(&mut self, _: &str, _: &Value) -> Result<String, crate::Error> {
                Ok(String::new())
            }
            fn execute_text(
                &mut self,
                _: &str,
                _: &str,
                _: &Value,
            ) -> Result<String, crate::Error> {
                Ok(String::new())
            }
            fn template_name(&self) -> &str {
                ""
            }
            fn depth(&self) -> usize {
                0
            }
        }
        let out = f(&mut NoCtx, &[Value::from("admin"), Value::from("s3cret")]).expect("hash");
        let line = out.as_str().expect("string").to_string();
        let (user, hash) = line.split_once(':').expect("user:hash");
        assert_eq!(user, "admin");
        assert!(hash.starts_with("$2a$10$"), "{hash}");
        assert!(bcrypt::verify("s3cret", hash).expect("verify"));
        let bad = f(&mut NoCtx, &[Value::from("a:b"), Value::from("x")]).expect("no error");
        assert_eq!(bad.as_str(), Some("invalid username: a:b"));
    }
}
