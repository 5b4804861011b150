//! OpenPGP signing with the real `gpg`: a throwaway keyring, and commits and annotated tags
//! signed by git through it.

use std::path::Path;
use std::process::Command;

use crate::SourceRepo;

/// A GnuPG home with one passphrase-less signing key; removed on drop.
pub struct Gpg {
    home: tempfile::TempDir,
    fingerprint: String,
}

impl Gpg {
    pub fn new(name: &str) -> Self {
        let home = tempfile::tempdir().expect("tempdir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
                .expect("chmod");
        }
        let uid = format!("{name} <{name}@example.com>");
        let gpg = Gpg {
            home,
            fingerprint: String::new(),
        };
        gpg.run(&[
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            &uid,
            "default",
            "default",
            "never",
        ]);
        let listing = gpg.run(&["--batch", "--with-colons", "--list-secret-keys"]);
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| !f.is_empty()))
            .expect("key fingerprint")
            .to_string();
        Gpg { fingerprint, ..gpg }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(args)
            .output()
            .expect("run gpg");
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// The 16-hex-digit key id gpg and Flux print (upper case).
    pub fn key_id(&self) -> String {
        self.fingerprint[self.fingerprint.len() - 16..].to_uppercase()
    }

    pub fn armored_public_key(&self) -> String {
        self.run(&["--batch", "--armor", "--export", &self.fingerprint])
    }

    /// Runs git in `dir` signing with this key.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", &format!("user.signingkey={}", self.fingerprint)])
            .args(args)
            .current_dir(dir)
            .env("GNUPGHOME", self.home.path())
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl SourceRepo {
    /// Commits a file signed with `gpg` and pushes it to `fleet.git`.
    pub fn commit_file_signed(&self, gpg: &Gpg, rel: &str, body: &str, message: &str) {
        let work = self.root().join("work");
        let path = work.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
        gpg.git(&work, &["add", "-A"]);
        gpg.git(&work, &["commit", "-q", "-S", "-m", message]);
        gpg.git(&work, &["push", "-q", "../fleet.git", "main"]);
    }

    /// Creates an annotated tag on `main` signed with `gpg` and pushes it.
    pub fn tag_signed(&self, gpg: &Gpg, tag: &str) {
        let work = self.root().join("work");
        gpg.git(&work, &["tag", "-s", tag, "-m", &format!("release {tag}")]);
        gpg.git(&work, &["push", "-q", "../fleet.git", tag]);
    }
}
