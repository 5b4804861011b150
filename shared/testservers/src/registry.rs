//! Debian's `docker-registry` (the CNCF distribution registry) on a free loopback port.

use std::process::{Child, Command, Stdio};

/// The user and password a registry started with `htpasswd` accepts.
pub const REGISTRY_USER: &str = "flux";
pub const REGISTRY_PASSWORD: &str = "s3cret";

/// bcrypt of `s3cret` (cost 4): docker-registry's htpasswd accepts only bcrypt hashes.
const BCRYPT_S3CRET: &str = "$2b$04$.7ztzGVF.u4CNaaiEoIVTO9pO3RHswqZmWXyTSIEe8VUpiQ9htA2O";

/// A `docker-registry` process, killed on drop. `addr` is `127.0.0.1:PORT`.
pub struct Registry {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// With `htpasswd`, the registry wants [`REGISTRY_USER`] / [`REGISTRY_PASSWORD`] (Basic auth).
    pub fn start(htpasswd: bool) -> Registry {
        Self::start_with(|dir| {
            if !htpasswd {
                return String::new();
            }
            let file = dir.join("htpasswd");
            std::fs::write(&file, format!("{REGISTRY_USER}:{BCRYPT_S3CRET}\n")).expect("htpasswd");
            format!(
                "auth:\n  htpasswd:\n    realm: flux-rs\n    path: {}\n",
                file.display()
            )
        })
    }

    /// With the configuration section `extra` returns (e.g. `auth: token: ...`), given the
    /// registry's own temporary directory for any files it names.
    pub fn start_with(extra: impl FnOnce(&std::path::Path) -> String) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = crate::free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        config.push_str(&extra(dir.path()));
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry must be installed (apt-get install docker-registry)");
        crate::wait_for_port(port);
        Registry {
            child,
            addr,
            _dir: dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
