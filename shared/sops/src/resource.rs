//! Decryption of built Kubernetes objects as kustomize-controller's `DecryptResource` does:
//! a whole sops-encrypted object, or the sops-encrypted files inside a Secret's `data`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::{DecryptOptions, Error, Format, Keyring, decrypt_with, detect_format};

fn object_id(obj: &Value) -> String {
    let s = |ptr: &str| obj.pointer(ptr).and_then(Value::as_str).unwrap_or("");
    format!(
        "{} {}/{}",
        s("/kind"),
        s("/metadata/namespace"),
        s("/metadata/name")
    )
}

/// True when the object carries sops metadata with a MAC (`isSOPSEncryptedResource`).
pub fn is_encrypted_resource(obj: &Value) -> bool {
    obj.pointer("/sops/mac")
        .is_some_and(|m| !m.is_null() && m.as_str() != Some(""))
}

/// Decrypts an object after `kustomize build`. A sops-encrypted object is decrypted whole
/// (through JSON, without the MAC check, since the build rewrote its clear fields); a Secret's
/// `data` entries holding sops files are decrypted into the format their key names. Returns
/// `None` when there was nothing to decrypt.
pub fn decrypt_resource(obj: &Value, keys: &Keyring) -> Result<Option<Value>, Error> {
    let wrap = |e: Error| Error::Resource {
        object: object_id(obj),
        source: Box::new(e),
    };
    if is_encrypted_resource(obj) {
        let input = serde_json::to_vec(obj).map_err(|e| {
            wrap(Error::Emit {
                format: "json",
                reason: e.to_string(),
            })
        })?;
        let opts = DecryptOptions::kustomize_controller(Format::Json, Format::Json);
        let out = decrypt_with(&input, &opts, keys).map_err(wrap)?;
        let value = serde_json::from_slice(&out).map_err(|e| {
            wrap(Error::Parse {
                format: "json",
                reason: e.to_string(),
            })
        })?;
        return Ok(Some(value));
    }
    if obj.get("kind").and_then(Value::as_str) != Some("Secret") {
        return Ok(None);
    }
    let Some(data) = obj.get("data").and_then(Value::as_object) else {
        return Ok(None);
    };
    let mut out = obj.clone();
    let mut changed = false;
    for (key, value) in data {
        // Undecodable values are left for the build or the API server to reject.
        let Some(bytes) = value.as_str().and_then(|v| STANDARD.decode(v).ok()) else {
            continue;
        };
        let Some(input_format) = detect_format(&bytes) else {
            continue;
        };
        let opts =
            DecryptOptions::kustomize_controller(input_format, Format::for_kustomize_key(key));
        let plain = decrypt_with(&bytes, &opts, keys).map_err(|e| Error::Resource {
            object: format!("{} data '{key}'", object_id(obj)),
            source: Box::new(e),
        })?;
        out["data"][key] = Value::String(STANDARD.encode(plain));
        changed = true;
    }
    Ok(changed.then_some(out))
}
