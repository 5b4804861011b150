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
#[derive(Debug, Clone, Default)]
pub struct CheckoutOptions {
    pub url: String,
    pub reference: GitRef,
    pub auth: Auth,
    /// Largest total size of the checked-out files (submodules included).
    pub max_size: u64,
    /// Check out the submodules `.gitmodules` names at the commits the tree records,
    /// recursively, with the same credentials (as Flux does).
    pub recurse_submodules: bool,
    /// Directories to write (everything below each); empty writes the whole tree.
    pub sparse_checkout: Vec<String>,
}

/// A finished checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// Flux's revision string, e.g. `main@sha1:<hex>`.
    pub revision: String,
    pub commit: String,
    /// Commit message subject and author, for artifact metadata and events.
    pub message: String,
    /// Paths that were not written: symlinks, and submodules unless recursing.
    pub skipped: Vec<String>,
    /// The tag the reference resolved through (`tag` or `semver`), for tag verification.
    pub tag: Option<String>,
}

/// Nested submodules deeper than this are refused, so a cycle of submodules cannot recurse forever.
const MAX_SUBMODULE_DEPTH: usize = 8;

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
    let sparse = normalize_sparse(&opts.sparse_checkout)?;
    let mut writer = TreeWriter {
        max_size: opts.max_size,
        written: 0,
        skipped: Vec::new(),
        sparse,
        recurse_submodules: opts.recurse_submodules,
        submodules: Vec::new(),
    };
    let out = checkout_into(cache_dir, dest, "", opts, &mut writer, 0)?;
    // Flux checks the directories after the checkout: a name that matched nothing is an error.
    for dir in &writer.sparse {
        if std::fs::symlink_metadata(dest.join(dir)).is_err() {
            return Err(Error::SparseCheckout(dir.clone()));
        }
    }
    Ok(out)
}

/// Checks out `opts` into `root.join(prefix)`; `prefix` is where a submodule sits in the
/// top-level tree, so that reported paths are relative to the top.
fn checkout_into(
    cache_dir: &Path,
    root: &Path,
    prefix: &str,
    opts: &CheckoutOptions,
    writer: &mut TreeWriter,
    depth: usize,
) -> Result<Checkout, Error> {
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
    let dest = root.join(prefix);
    std::fs::create_dir_all(&dest).map_err(|e| Error::local(dest.display().to_string(), e))?;
    writer.recurse_submodules = opts.recurse_submodules;
    let first_submodule = writer.submodules.len();
    writer.write_tree(&repo, &tree, &dest, prefix)?;
    let submodules = writer.submodules.split_off(first_submodule);
    if !submodules.is_empty() {
        let modules = read_gitmodules(&repo, &tree)?;
        for (path, commit) in submodules {
            let sub = Submodule {
                path: &path,
                within_parent: path[prefix.len()..].trim_start_matches('/'),
                commit,
            };
            checkout_submodule(cache_dir, root, opts, writer, depth, &modules, sub)?;
        }
    }
    let tag = if opts.reference.commit.is_none()
        && opts.reference.name.is_none()
        && (opts.reference.semver.is_some() || opts.reference.tag.is_some())
    {
        resolved.label.clone()
    } else {
        None
    };
    Ok(Checkout {
        revision: resolved.revision(),
        commit: resolved.commit,
        message,
        skipped: writer.skipped.clone(),
        tag,
    })
}

/// `path -> url` from the commit's `.gitmodules`.
fn read_gitmodules(
    repo: &gix::Repository,
    tree: &gix::Tree<'_>,
) -> Result<Vec<(String, String)>, Error> {
    let Some(entry) = tree
        .find_entry(".gitmodules")
        .map(|e| e.inner.oid.to_owned())
    else {
        return Ok(Vec::new());
    };
    let blob = repo
        .find_blob(entry)
        .map_err(|e| Error::local("reading .gitmodules", e))?;
    let file = gix::config::File::from_bytes_no_includes(
        &blob.data,
        gix::config::file::Metadata::api(),
        Default::default(),
    )
    .map_err(|e| Error::local("parsing .gitmodules", e))?;
    let mut out = Vec::new();
    for section in file.sections_by_name("submodule").into_iter().flatten() {
        let (Some(path), Some(url)) = (section.value("path"), section.value("url")) else {
            continue;
        };
        out.push((
            path.to_str_lossy().trim_end_matches('/').to_string(),
            url.to_str_lossy().into_owned(),
        ));
    }
    Ok(out)
}

/// A submodule entry: its path from the top-level tree, its path in the repository that
/// records it, and the commit recorded there.
struct Submodule<'a> {
    path: &'a str,
    within_parent: &'a str,
    commit: gix::ObjectId,
}

fn checkout_submodule(
    cache_dir: &Path,
    root: &Path,
    parent: &CheckoutOptions,
    writer: &mut TreeWriter,
    depth: usize,
    modules: &[(String, String)],
    sub: Submodule<'_>,
) -> Result<(), Error> {
    let failed = |source: Error| Error::Submodule {
        path: sub.path.to_string(),
        source: Box::new(source),
    };
    let Some((_, url)) = modules.iter().find(|(p, _)| p == sub.within_parent) else {
        return Err(failed(Error::local(
            "reading .gitmodules",
            "no url for this path",
        )));
    };
    if depth + 1 >= MAX_SUBMODULE_DEPTH {
        return Err(failed(Error::local(
            "checking out submodules",
            format!("nested deeper than {MAX_SUBMODULE_DEPTH} levels"),
        )));
    }
    let url = resolve_submodule_url(&parent.url, url);
    let opts = CheckoutOptions {
        url: url.clone(),
        reference: GitRef {
            commit: Some(sub.commit.to_hex().to_string()),
            ..Default::default()
        },
        // go-git, and so Flux, offers the parent's credentials to every submodule.
        auth: parent.auth.clone(),
        max_size: parent.max_size,
        recurse_submodules: true,
        sparse_checkout: Vec::new(),
    };
    // One bare cache per submodule path inside the parent's cache, so unchanged submodules
    // cost a negotiation only.
    let cache = cache_dir
        .join("flux-modules")
        .join(hex_name(sub.within_parent));
    let sparse = std::mem::take(&mut writer.sparse);
    let result = checkout_into(&cache, root, sub.path, &opts, writer, depth + 1);
    writer.sparse = sparse;
    result.map(|_| ()).map_err(failed)
}

/// A flat directory name for a submodule path; hex, because the path ends up in the ssh command
/// line, where `%` is a token.
fn hex_name(path: &str) -> String {
    path.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Git's rule for relative submodule URLs: `./x` and `../x` are taken relative to the
/// superproject's URL as if it were a directory.
fn resolve_submodule_url(parent: &str, url: &str) -> String {
    if !(url.starts_with("./") || url.starts_with("../")) {
        return url.to_string();
    }
    let mut base = parent.trim_end_matches('/').to_string();
    let mut rest = url;
    loop {
        if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("../") {
            rest = r;
            // Never strip into the scheme/host part, nor past an scp-like `host:` prefix.
            let floor = base.find("://").map(|i| i + 3).unwrap_or(0);
            match base[floor..].rfind(['/', ':']) {
                Some(i) if base[floor + i..].starts_with(':') => base.truncate(floor + i + 1),
                Some(i) => base.truncate(floor + i),
                None => {}
            }
        } else {
            break;
        }
    }
    if base.ends_with(':') {
        format!("{base}{rest}")
    } else {
        format!("{base}/{rest}")
    }
}

/// Sparse directories as tree paths: `./` and trailing `/` dropped, `..` refused.
fn normalize_sparse(dirs: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for dir in dirs {
        let parts: Vec<&str> = dir
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if parts.contains(&"..") {
            return Err(Error::SparseCheckout(dir.clone()));
        }
        if !parts.is_empty() {
            out.push(parts.join("/"));
        }
    }
    Ok(out)
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
    let mut connection = remote
        .connect(Direction::Fetch)
        .map_err(|e| classify(url, cache_dir, e))?;
    if let Some(options) = https_options(remote.repo(), url, auth)? {
        connection = connection.with_transport_options(options);
    }
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

/// HTTP transport options trusting the Secret's `ca.crt` in addition to the system roots, as
/// Flux does. gix's reqwest backend ignores `http.sslCAInfo`, so the certificates go to the
/// reqwest client builder through the backend hook.
fn https_options(
    repo: &gix::Repository,
    url: &str,
    auth: &Auth,
) -> Result<Option<Box<dyn std::any::Any>>, Error> {
    use gix::protocol::transport::client::blocking_io::http;
    let Some(ca) = auth
        .ca_cert
        .as_deref()
        .filter(|_| url.starts_with("https://"))
    else {
        return Ok(None);
    };
    let certs = reqwest::Certificate::from_pem_bundle(ca)
        .map_err(|e| Error::local("reading ca.crt from the Secret", e))?;
    if certs.is_empty() {
        return Err(Error::local(
            "reading ca.crt from the Secret",
            "no PEM certificate found",
        ));
    }
    let mut options = repo
        .transport_options(url, None)
        .map_err(|e| Error::local("configuring the git transport", e))?
        .and_then(|o| o.downcast::<http::Options>().ok())
        .map(|o| *o)
        .unwrap_or_default();
    let backend = http::reqwest::Options {
        configure_client: Some(Box::new(move |builder| {
            Ok(builder.tls_certs_merge(certs.clone()))
        })),
        configure_request: None,
    };
    options.backend = Some(std::sync::Arc::new(std::sync::Mutex::new(backend)));
    Ok(Some(Box::new(options)))
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
    /// Normalized sparse directories; empty writes everything.
    sparse: Vec<String>,
    recurse_submodules: bool,
    /// Submodule entries met while writing: path and the commit the tree records.
    submodules: Vec<(String, gix::ObjectId)>,
}

fn inside(rel: &str, dir: &str) -> bool {
    rel == dir || rel.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

impl TreeWriter {
    /// Whether a path is written: inside a sparse directory, or (for trees) on the way to one.
    fn wanted(&self, rel: &str, is_tree: bool) -> bool {
        self.sparse.is_empty()
            || self
                .sparse
                .iter()
                .any(|dir| inside(rel, dir) || (is_tree && inside(dir, rel)))
    }
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
            let kind = entry.inner.mode.kind();
            if !self.wanted(&rel, kind == EntryKind::Tree) {
                continue;
            }
            match kind {
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
                EntryKind::Commit if self.recurse_submodules => {
                    std::fs::create_dir_all(&path)
                        .map_err(|e| Error::local(path.display().to_string(), e))?;
                    self.submodules.push((rel, oid));
                }
                EntryKind::Link | EntryKind::Commit => self.skipped.push(rel),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_submodule_urls_resolve_like_git() {
        let cases = [
            (
                "https://h/org/app.git",
                "../lib.git",
                "https://h/org/lib.git",
            ),
            (
                "https://h/org/app.git/",
                "./lib",
                "https://h/org/app.git/lib",
            ),
            (
                "https://h/org/app.git",
                "../../x/lib.git",
                "https://h/x/lib.git",
            ),
            (
                "ssh://git@h:22/srv/app.git",
                "../lib.git",
                "ssh://git@h:22/srv/lib.git",
            ),
            ("git@h:org/app.git", "../lib.git", "git@h:org/lib.git"),
            ("git@h:app.git", "../lib.git", "git@h:lib.git"),
            (
                "https://h/app.git",
                "https://other/lib.git",
                "https://other/lib.git",
            ),
        ];
        for (parent, url, want) in cases {
            assert_eq!(resolve_submodule_url(parent, url), want, "{parent} + {url}");
        }
    }

    #[test]
    fn sparse_directories_are_normalized_and_may_not_leave_the_tree() {
        let dirs = ["./apps/".to_string(), "infra//base".to_string()];
        assert_eq!(normalize_sparse(&dirs).expect("ok"), ["apps", "infra/base"]);
        assert!(normalize_sparse(&["../x".to_string()]).is_err());
    }
}
