//! HTTPS in front of [`HttpGitServer`]: a TLS-terminating proxy (rustls on std streams) with a
//! certificate for 127.0.0.1 issued by a throwaway CA made with the openssl CLI.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::{HttpAuth, HttpGitServer};

/// `git http-backend` over https; the CA that signed its certificate is [`Self::ca_pem`].
pub struct HttpsGitServer {
    _plain: HttpGitServer,
    port: u16,
    ca_pem: Vec<u8>,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a certificate for 127.0.0.1 it signed: (ca.crt, server.crt, server.key) as PEM.
fn issue_certificates() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=flux-rs test CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt"]);
    openssl(d, &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(d, &csr);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.crt",
        ],
    );
    let read = |f: &str| std::fs::read(d.join(f)).expect("read pem");
    (read("ca.crt"), read("server.crt"), read("server.key"))
}

impl HttpsGitServer {
    pub fn start(root: &Path, auth: HttpAuth) -> Self {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        let plain = HttpGitServer::start(root, auth);
        let (ca_pem, cert_pem, key_pem) = issue_certificates();
        let certs = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .expect("server certificate");
        let key = PrivateKeyDer::from_pem_slice(&key_pem).expect("server key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let backend = plain.port;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = proxy(stream, config, backend);
                });
            }
        });
        HttpsGitServer {
            _plain: plain,
            port,
            ca_pem,
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("https://127.0.0.1:{}/{repo}", self.port)
    }

    /// PEM of the CA that issued the server certificate (a Secret's `ca.crt`).
    pub fn ca_pem(&self) -> Vec<u8> {
        self.ca_pem.clone()
    }
}

/// Relays one TLS connection to the plain server. The TLS state is shared by the two
/// directions; socket writes to the client happen only under its lock.
fn proxy(
    client: TcpStream,
    config: Arc<rustls::ServerConfig>,
    backend_port: u16,
) -> std::io::Result<()> {
    let tls = Arc::new(Mutex::new(
        rustls::ServerConnection::new(config).map_err(std::io::Error::other)?,
    ));
    let backend = TcpStream::connect(("127.0.0.1", backend_port))?;

    let (tls_out, mut client_out, mut backend_in) =
        (tls.clone(), client.try_clone()?, backend.try_clone()?);
    std::thread::spawn(move || -> std::io::Result<()> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = backend_in.read(&mut buf)?;
            let mut conn = tls_out.lock().expect("tls lock");
            if n == 0 {
                conn.send_close_notify();
            } else {
                conn.writer().write_all(&buf[..n])?;
            }
            while conn.wants_write() {
                conn.write_tls(&mut client_out)?;
            }
            if n == 0 {
                return client_out.shutdown(std::net::Shutdown::Both);
            }
        }
    });

    let (mut client_in, mut client_reply, mut backend_out) = (client.try_clone()?, client, backend);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = client_in.read(&mut buf)?;
        if n == 0 {
            return backend_out.shutdown(std::net::Shutdown::Write);
        }
        let mut plain = Vec::new();
        {
            let mut conn = tls.lock().expect("tls lock");
            let mut input = &buf[..n];
            while !input.is_empty() {
                conn.read_tls(&mut input)?;
                conn.process_new_packets().map_err(std::io::Error::other)?;
            }
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match conn.reader().read(&mut chunk) {
                    Ok(0) => break,
                    Ok(k) => plain.extend_from_slice(&chunk[..k]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            while conn.wants_write() {
                conn.write_tls(&mut client_reply)?;
            }
        }
        backend_out.write_all(&plain)?;
    }
}
