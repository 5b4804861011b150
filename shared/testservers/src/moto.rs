//! moto's S3 (and IAM) server, `moto_server`, on a free loopback port.
//!
//! moto accepts any request until told otherwise; [`Moto::create_access_key`] makes an IAM user
//! allowed `s3:*` and returns its keys, and [`Moto::require_signatures`] then turns on moto's
//! request authentication (`INITIAL_NO_AUTH_ACTION_COUNT=0`), after which a request signed with
//! a wrong or unknown key is refused with 403.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A `moto_server` process, killed on drop. `addr` is `127.0.0.1:PORT`.
pub struct Moto {
    child: Child,
    pub addr: String,
}

impl Moto {
    pub fn start() -> Moto {
        let port = crate::free_port();
        let args = ["-H", "127.0.0.1", "-p", &port.to_string()].map(str::to_string);
        let spawn = |program: &str, pre: &[&str]| {
            Command::new(program)
                .args(pre)
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        };
        // pip may put the `moto_server` script outside PATH; the module runs the same server.
        let child = spawn("moto_server", &[])
            .or_else(|_| spawn("python3", &["-m", "moto.server"]))
            .expect("moto must be installed (scripts/test-deps.sh: pip install 'moto[server]')");
        crate::wait_for_port(port);
        Moto {
            child,
            addr: format!("127.0.0.1:{port}"),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates the IAM user `name` with a policy allowing `s3:*` and returns its
    /// (access key id, secret access key). Must run before [`Moto::require_signatures`].
    pub fn create_access_key(&self, name: &str) -> (String, String) {
        self.iam(&format!(
            "Action=CreateUser&UserName={name}&Version=2010-05-08"
        ));
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        self.iam(&format!(
            "Action=PutUserPolicy&UserName={name}&PolicyName=s3&PolicyDocument={}&Version=2010-05-08",
            form_encode(policy)
        ));
        let body = self.iam(&format!(
            "Action=CreateAccessKey&UserName={name}&Version=2010-05-08"
        ));
        let field = |tag: &str| {
            let open = format!("<{tag}>");
            let start = body.find(&open).expect("access key in the answer") + open.len();
            let end = body[start..].find('<').expect("closing tag") + start;
            body[start..end].to_string()
        };
        (field("AccessKeyId"), field("SecretAccessKey"))
    }

    /// From now on every request must carry a valid signature of a known key.
    pub fn require_signatures(&self) {
        let (status, body) = self.post("/moto-api/reset-auth", "text/plain", &[], "0");
        assert_eq!(status, 200, "moto reset-auth: {body}");
    }

    /// An unsigned IAM query. moto routes a request by the service in its credential scope, so
    /// the request carries one; the signature is not checked before [`Moto::require_signatures`].
    fn iam(&self, form: &str) -> String {
        let scope = "AWS4-HMAC-SHA256 Credential=setup/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0";
        let (status, body) = self.post(
            "/",
            "application/x-www-form-urlencoded",
            &[("Authorization", scope)],
            form,
        );
        assert_eq!(status, 200, "moto IAM call {form}: {body}");
        body
    }

    fn post(
        &self,
        path: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to moto");
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
