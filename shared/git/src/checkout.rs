//! Fetching a reference into a persistent bare cache and writing its tree to a directory.
//!
//! The cache makes an unchanged remote cost one ref advertisement plus an empty negotiation;
//! only new objects travel. The working tree is written from the commit's tree object, so no
//! index or worktree state is kept.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::bstr::ByteSlice;
use gix::remote::Direction;

use crate::reference::Resolved;
use crate::{Auth, Error, GitRef, RemoteRef};

/// What to check out and from where.
#[derive(Debug, Clone)]
pub struct CheckoutOptions {
    pub url: String,
    pub reference: GitRef,
    pub auth: Auth,
    /// Largest total size of the checked-out files.
    pub max_size: u64,
}

/// A finished checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// Flux's revision string, e.g. `main@sha1:<hex>`.
    pub revision: String,
    pub commit: String,
    /// Commit message subject and author, for artifact metadata and events.
    pub message: String,
    /// Paths that were not written: symlinks and submodules.
    pub skipped: Vec<String>,
}

/// HTTPS goes through rustls with the ring provider; it must be chosen once per process.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Lists the remote's refs (the cheap "did anything change?" question).
pub fn list_remote_refs(
    cache_dir: &Path,
    url: &str,
    auth: &Auth,
    reference: &GitRef,
) -> Result<Vec<RemoteRef>, Error> {
    let repo = open_cache(cache_dir, url, auth)?;
    let remote = configured_remote(&repo, url, reference)?;
    let connection = connect(&remote, cache_dir, url, auth)?;
    let (ref_map, _) = connection
        .ref_map(gix::progress::Discard, Default::default())
        .map_err(|e| classify(url, cache_dir, e))?;
    Ok(remote_refs(&ref_map.remote_refs))
}

/// Fetches what `opts.reference` names into the bare repository at `cache_dir` (created when
/// missing) and writes the commit's files to `dest`, which must be empty or missing.
pub fn checkout(cache_dir: &Path, dest: &Path, opts: &CheckoutOptions) -> Result<Checkout, Error> {
    let url = opts.url.as_str();
    let repo = open_cache(cache_dir, url, &opts.auth)?;
    let remote = configured_remote(&repo, url, &opts.reference)?;
    let connection = connect(&remote, cache_dir, url, &opts.auth)?;
    let prepare = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| classify(url, cache_dir, e))?;
    let refs = remote_refs(&prepare.ref_map().remote_refs);
    let resolved: Resolved = opts.reference.resolve(&refs, url)?;
    prepare
        .receive(gix::progress::Discard, &AtomicBool::new(false))
        .map_err(|e| classify(url, cache_dir, e))?;

    let id = gix::ObjectId::from_hex(resolved.commit.as_bytes())
        .map_err(|_| Error::InvalidCommit(resolved.commit.clone()))?;
    if !repo.has_object(id) {
        return Err(Error::CommitNotFound {
            commit: resolved.commit.clone(),
            url: url.to_string(),
        });
    }
    let commit = repo.find_commit(id).map_err(|_| Error::CommitNotFound {
        commit: resolved.commit.clone(),
        url: url.to_string(),
    })?;
    let message = commit
        .message_raw()
        .map(|m| {
            m.lines()
                .next()
                .unwrap_or_default()
                .to_str_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let tree = commit
        .tree()
        .map_err(|e| Error::local("reading the commit's tree", e))?;
    std::fs::create_dir_all(dest).map_err(|e| Error::local(dest.display().to_string(), e))?;
    let mut writer = TreeWriter {
        max_size: opts.max_size,
        written: 0,
        skipped: Vec::new(),
    };
    writer.write_tree(&repo, &tree, dest, "")?;
    Ok(Checkout {
        revision: resolved.revision(),
        commit: resolved.commit,
        message,
        skipped: writer.skipped,
    })
}

/// Opens (or creates) the bare cache, isolated from the machine's git configuration and
/// credential helpers, with the transport settings `auth` needs.
fn open_cache(cache_dir: &Path, url: &str, auth: &Auth) -> Result<gix::Repository, Error> {
    validate_url(url)?;
    if url.starts_with("http://") && (auth.has_basic() || auth.bearer_token.is_some()) {
        return Err(Error::InsecureCredentials {
            url: url.to_string(),
        });
    }
    install_crypto_provider();
    if !cache_dir.join("HEAD").exists() {
        std::fs::create_dir_all(cache_dir)
            .map_err(|e| Error::local(cache_dir.display().to_string(), e))?;
        gix::init_bare(cache_dir).map_err(|e| Error::local("creating the git cache", e))?;
    }
    let mut repo = gix::open_opts(cache_dir, gix::open::Options::isolated())
        .map_err(|e| Error::local("opening the git cache", e))?;
    let mut overrides: Vec<String> = vec!["protocol.version=2".into()];
    if let Some(token) = &auth.bearer_token {
        overrides.push(format!("http.extraHeader=Authorization: Bearer {token}"));
    }
    if url.starts_with("ssh://") || is_scp_like(url) {
        overrides.push(format!("core.sshCommand={}", ssh_command(cache_dir, auth)?));
    }
    let mut config = repo.config_snapshot_mut();
    config
        .append_config(
            overrides.iter().map(String::as_str),
            gix::config::Source::Api,
        )
        .map_err(|e| Error::local("configuring the git transport", e))?;
    config
        .commit()
        .map_err(|e| Error::local("configuring the git transport", e))?;
    Ok(repo)
}

fn configured_remote<'r>(
    repo: &'r gix::Repository,
    url: &str,
    reference: &GitRef,
) -> Result<gix::Remote<'r>, Error> {
    let invalid = |e: &dyn std::fmt::Display| Error::InvalidUrl {
        url: url.to_string(),
        message: e.to_string(),
    };
    let remote = repo.remote_at(url).map_err(|e| invalid(&e))?;
    // Tags are fetched only through the refspecs, never implied.
    remote
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs(
            reference.refspecs().iter().map(String::as_str),
            Direction::Fetch,
        )
        .map_err(|e| invalid(&e))
}

type Connection<'a, 'r> = gix::remote::Connection<
    'a,
    'a,
    'r,
    Box<dyn gix::protocol::transport::client::blocking_io::Transport + Send>,
>;

fn connect<'a, 'r>(
    remote: &'a gix::Remote<'r>,
    cache_dir: &Path,
    url: &str,
    auth: &Auth,
) -> Result<Connection<'a, 'r>, Error> {
    let connection = remote
        .connect(Direction::Fetch)
        .map_err(|e| classify(url, cache_dir, e))?;
    let username = auth.username.clone().unwrap_or_else(|| "git".into());
    let password = auth.password.clone();
    let has_basic = auth.has_basic();
    // Never fall back to helpers or prompts: only the Secret's credentials are offered.
    Ok(connection.with_credentials(move |action| match action {
        gix::credentials::helper::Action::Get(ctx) if has_basic => {
            Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: username.clone(),
                    password: password.clone().unwrap_or_default(),
                    oauth_refresh_token: None,
                },
                next: ctx.into(),
            }))
        }
        _ => Ok(None),
    }))
}

fn remote_refs(refs: &[gix::protocol::handshake::Ref]) -> Vec<RemoteRef> {
    use gix::protocol::handshake::Ref;
    refs.iter()
        .filter_map(|r| match r {
            Ref::Peeled {
                full_ref_name,
                object,
                ..
            }
            | Ref::Direct {
                full_ref_name,
                object,
            }
            | Ref::Symbolic {
                full_ref_name,
                object,
                ..
            } => Some(RemoteRef {
                name: full_ref_name.to_str_lossy().into_owned(),
                commit: object.to_hex().to_string(),
            }),
            Ref::Unborn { .. } => None,
        })
        .collect()
}

fn validate_url(url: &str) -> Result<(), Error> {
    let scheme_ok = ["http://", "https://", "ssh://", "git://", "file://"]
        .iter()
        .any(|s| url.starts_with(s))
        || is_scp_like(url);
    if !scheme_ok {
        return Err(Error::UnsupportedScheme(url.to_string()));
    }
    gix::url::parse(url.as_bytes().as_bstr()).map_err(|e| Error::InvalidUrl {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    Ok(())
}

fn is_scp_like(url: &str) -> bool {
    !url.contains("://") && url.contains('@') && url.contains(':')
}

/// The ssh client invocation: only the Secret's identity, only its known hosts, no prompts.
fn ssh_command(cache_dir: &Path, auth: &Auth) -> Result<String, Error> {
    let dir = cache_dir.join("flux-ssh");
    std::fs::create_dir_all(&dir).map_err(|e| Error::local("preparing ssh credentials", e))?;
    let mut args = vec![
        "ssh".to_string(),
        "-F".into(),
        "/dev/null".into(),
        "-o".into(),
        "BatchMode=yes".into(),
        "-o".into(),
        "StrictHostKeyChecking=yes".into(),
    ];
    // ssh's own words ("Host key verification failed.") go to this log; gix only sees EOF.
    let log = dir.join("ssh.log");
    write_private(&log, b"")?;
    args.push("-E".into());
    args.push(log.display().to_string());
    let known_hosts = dir.join("known_hosts");
    write_private(
        &known_hosts,
        auth.known_hosts.as_deref().unwrap_or_default(),
    )?;
    args.push("-o".into());
    args.push(format!("UserKnownHostsFile={}", known_hosts.display()));
    if let Some(identity) = &auth.identity {
        let key = dir.join("identity");
        let mut body = identity.clone();
        if !body.ends_with(b"\n") {
            body.push(b'\n');
        }
        write_private(&key, &body)?;
        args.extend([
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-i".into(),
            key.display().to_string(),
        ]);
    }
    Ok(args.join(" "))
}

fn write_private(path: &Path, body: &[u8]) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::local("preparing ssh credentials", e))?;
    file.write_all(body)
        .map_err(|e| Error::local("preparing ssh credentials", e))
}

/// Turns a gix error into an error that says what failed, in Flux's words.
fn classify(url: &str, cache_dir: &Path, err: impl std::fmt::Debug) -> Error {
    let ssh_log = std::fs::read_to_string(cache_dir.join("flux-ssh").join("ssh.log")).ok();
    // gix keeps the useful part (ssh's or the server's words) in the cause chain, which its
    // alternate Debug form prints as "Caused by:" lines; keep them, one line.
    let message = format!("{err:#?}")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Caused by:")
        .map(|l| {
            l.trim_start_matches(|c: char| c.is_ascii_digit() || c == ':')
                .trim()
        })
        .chain(ssh_log.iter().flat_map(|l| l.lines()).map(str::trim))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    let lower = message.to_ascii_lowercase();
    if lower.contains("no credentials were returned") {
        // gix's wording when the server wants credentials and we offered none.
        return Error::Authentication {
            url: url.to_string(),
            message: "the server requires credentials and none were given (spec.secretRef)".into(),
        };
    }
    if lower.contains("authenticat")
        || lower.contains("401")
        || lower.contains("403")
        || lower.contains("permission denied")
        || lower.contains("host key verification failed")
    {
        Error::Authentication {
            url: url.to_string(),
            message,
        }
    } else {
        Error::Fetch {
            url: url.to_string(),
            message,
        }
    }
}

struct TreeWriter {
    max_size: u64,
    written: u64,
    skipped: Vec<String>,
}

impl TreeWriter {
    fn write_tree(
        &mut self,
        repo: &gix::Repository,
        tree: &gix::Tree<'_>,
        dir: &Path,
        prefix: &str,
    ) -> Result<(), Error> {
        use gix::object::tree::EntryKind;
        for entry in tree.iter() {
            let entry = entry.map_err(|e| Error::local("reading a tree", e))?;
            let name = entry.inner.filename.to_str_lossy().into_owned();
            if name.is_empty() || name == "." || name == ".." || name.contains('/') {
                return Err(Error::InvalidTreeEntry(name));
            }
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let path: PathBuf = dir.join(&name);
            let oid = entry.inner.oid.to_owned();
            match entry.inner.mode.kind() {
                EntryKind::Tree => {
                    std::fs::create_dir_all(&path)
                        .map_err(|e| Error::local(path.display().to_string(), e))?;
                    let sub = repo
                        .find_tree(oid)
                        .map_err(|e| Error::local("reading a tree", e))?;
                    self.write_tree(repo, &sub, &path, &rel)?;
                }
                kind @ (EntryKind::Blob | EntryKind::BlobExecutable) => {
                    let blob = repo
                        .find_blob(oid)
                        .map_err(|e| Error::local("reading a file", e))?;
                    self.written += blob.data.len() as u64;
                    if self.written > self.max_size {
                        return Err(Error::TooLarge {
                            limit: self.max_size,
                        });
                    }
                    std::fs::write(&path, &blob.data)
                        .map_err(|e| Error::local(path.display().to_string(), e))?;
                    #[cfg(unix)]
                    if kind == EntryKind::BlobExecutable {
                        use std::os::unix::fs::PermissionsExt;
                        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                            .map_err(|e| Error::local(path.display().to_string(), e))?;
                    }
                }
                EntryKind::Link | EntryKind::Commit => self.skipped.push(rel),
            }
        }
        Ok(())
    }
}
