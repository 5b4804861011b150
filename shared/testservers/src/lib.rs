//! Real servers on loopback for flux-rs tests, started and stopped by the tests themselves:
//! a source repository made with the git CLI, `git daemon`, `git http-backend` behind a small
//! HTTP/1.1 server that checks credentials, `sshd` serving git over ssh, and `docker-registry`.
//! Test support only: helpers panic with a clear message when a server cannot start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

mod registry;
pub use registry::{REGISTRY_PASSWORD, REGISTRY_USER, Registry};
mod moto;
pub use moto::Moto;
mod submodules;
pub use submodules::bare_repo;
mod gpg;
pub use gpg::Gpg;
mod tls;
pub use tls::HttpsGitServer;

/// Runs the git CLI in `dir` with a fixed identity and no user configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
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

/// A work repository plus its bare copy `fleet.git` that the servers export.
pub struct SourceRepo {
    dir: tempfile::TempDir,
}

impl Default for SourceRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl SourceRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("work");
        std::fs::create_dir_all(work.join("apps")).expect("mkdir");
        git(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(work.join("apps/app.yaml"), "kind: ConfigMap\n").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", work.join("link")).expect("symlink");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "initial"]);
        git(&work, &["tag", "v1.0.0"]);
        std::fs::write(work.join("apps/later.yaml"), "kind: Service\n").expect("write");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "later"]);
        git(&work, &["tag", "-a", "v1.2.0", "-m", "release 1.2.0"]);
        git(&work, &["tag", "v2.0.0-rc.1"]);
        git(&work, &["branch", "dev"]);
        git(dir.path(), &["clone", "-q", "--bare", "work", "fleet.git"]);
        SourceRepo { dir }
    }

    /// Directory holding `fleet.git`.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn rev(&self, what: &str) -> String {
        git(&self.dir.path().join("fleet.git"), &["rev-parse", what])
    }

    /// Commits a file in the work tree and pushes it to the bare repository.
    pub fn commit_file(&self, rel: &str, body: &str, message: &str) {
        let work = self.dir.path().join("work");
        let path = work.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", message]);
        git(&work, &["push", "-q", "../fleet.git", "main"]);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("port {port} never opened");
}

/// `git daemon` exporting a directory on a loopback port; killed on drop.
pub struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    pub fn start(base: &Path) -> Self {
        let port = free_port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
                &base.display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start git daemon");
        wait_for_port(port);
        GitDaemon { child, port }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy)]
pub enum HttpAuth {
    None,
    Basic(&'static str, &'static str),
    Bearer(&'static str),
}

/// `git http-backend` (smart HTTP) behind a thread-per-connection HTTP/1.1 server.
pub struct HttpGitServer {
    port: u16,
}

impl HttpGitServer {
    pub fn start(root: &Path, auth: HttpAuth) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, auth);
                });
            }
        });
        HttpGitServer { port }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}", self.port)
    }
}

fn authorized(headers: &[(String, String)], auth: HttpAuth) -> bool {
    if matches!(auth, HttpAuth::None) {
        return true;
    }
    let Some((_, value)) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    else {
        return false;
    };
    match auth {
        HttpAuth::Basic(user, pass) => {
            let expected =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            value.trim() == format!("Basic {expected}")
        }
        HttpAuth::Bearer(token) => value.trim() == format!("Bearer {token}"),
        HttpAuth::None => true,
    }
}

fn serve(stream: TcpStream, root: &PathBuf, auth: HttpAuth) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(len, 0);
            reader.read_exact(&mut body)?;
        } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                let mut size_line = String::new();
                reader.read_line(&mut size_line)?;
                let size = usize::from_str_radix(size_line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        }
        if !authorized(&headers, auth) {
            let scheme = match auth {
                HttpAuth::Basic(..) => "Basic realm=\"git\"",
                HttpAuth::Bearer(_) | HttpAuth::None => "Bearer",
            };
            write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {scheme}\r\nContent-Length: 0\r\n\r\n"
            )?;
            stream.flush()?;
            continue;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut child = Command::new("git")
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GIT_PROJECT_ROOT", root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("REQUEST_METHOD", &method)
            .env("PATH_INFO", path)
            .env("QUERY_STRING", query)
            .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
            .env("CONTENT_LENGTH", body.len().to_string())
            .env("GIT_PROTOCOL", header("git-protocol").unwrap_or_default())
            .env(
                "HTTP_CONTENT_ENCODING",
                header("content-encoding").unwrap_or_default(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(&body)?;
        }
        let output = child.wait_with_output()?;
        let raw = output.stdout;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
        let Some((end, sep)) = split else {
            write!(
                stream,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
            )?;
            continue;
        };
        let cgi_headers = String::from_utf8_lossy(&raw[..end]).to_string();
        let payload = &raw[end + sep..];
        let mut status = "200 OK".to_string();
        let mut out_headers = String::new();
        for line in cgi_headers.lines() {
            if let Some(s) = line.strip_prefix("Status:") {
                status = s.trim().to_string();
            } else if !line.trim().is_empty() {
                out_headers.push_str(line.trim_end());
                out_headers.push_str("\r\n");
            }
        }
        write!(
            stream,
            "HTTP/1.1 {status}\r\n{out_headers}Content-Length: {}\r\n\r\n",
            payload.len()
        )?;
        stream.write_all(payload)?;
        stream.flush()?;
    }
}

/// `sshd` on a loopback port accepting one generated client key, serving git over ssh.
pub struct SshServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .expect("run ssh-keygen");
    assert!(out.status.success(), "ssh-keygen failed");
}

impl SshServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        keygen(&d.join("other_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).expect("authorized");
        std::fs::create_dir_all("/run/sshd").expect("privsep dir");
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nAuthorizedKeysFile {ak}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPidFile {pid}\n",
            hk = d.join("host_key").display(),
            ak = d.join("authorized_keys").display(),
            pid = d.join("sshd.pid").display(),
        );
        std::fs::write(d.join("sshd_config"), config).expect("config");
        let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("sshd is installed (scripts/test-deps.sh installs openssh-server)");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        wait_for_port(port);
        SshServer { child, port, dir }
    }

    pub fn url(&self, absolute_repo: &Path) -> String {
        format!(
            "ssh://root@127.0.0.1:{}{}",
            self.port,
            absolute_repo.display()
        )
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).expect("read key")
    }

    pub fn client_identity(&self) -> Vec<u8> {
        self.read("client_key")
    }

    pub fn other_identity(&self) -> Vec<u8> {
        self.read("other_key")
    }

    /// A known_hosts line for this server's host key.
    pub fn known_hosts(&self) -> Vec<u8> {
        let key = String::from_utf8_lossy(&self.read("host_key.pub"))
            .trim()
            .to_string();
        format!("[127.0.0.1]:{} {key}\n", self.port).into_bytes()
    }

    /// A known_hosts line that names this server with some other key.
    pub fn wrong_known_hosts(&self) -> Vec<u8> {
        let key = String::from_utf8_lossy(&self.read("other_key.pub"))
            .trim()
            .to_string();
        format!("[127.0.0.1]:{} {key}\n", self.port).into_bytes()
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
