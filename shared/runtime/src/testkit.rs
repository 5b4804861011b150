//! Test support for controllers: start the real binary on free loopback ports, query its
//! endpoints over plain HTTP/1.1 and stop it with a real signal; wait for an object to reach a
//! state and look for the Events a reconciler recorded.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Signal numbers for [`RunningController::stop_with`], so tests need no libc dependency.
pub const SIGTERM: i32 = libc::SIGTERM;
pub const SIGINT: i32 = libc::SIGINT;

/// A loopback port that was free a moment ago (the OS picks it; we release it for the child).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A minimal `GET` returning the status code and the whole response (headers and body).
pub fn http_get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an HTTP response: {response:?}")))?;
    Ok((status, response))
}

/// Sends `signal` (e.g. `libc::SIGTERM`) to the child.
pub fn send_signal(child: &Child, signal: i32) -> io::Result<()> {
    let pid = i32::try_from(child.id()).map_err(io::Error::other)?;
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child's.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Waits for the child to exit, killing it after `timeout`.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "process did not exit in time",
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The outcome of a process run to completion.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `bin args` to completion (at most 30 s).
pub fn run_to_exit(bin: &str, args: &[&str]) -> io::Result<Finished> {
    run_to_exit_with_env(bin, args, &[])
}

/// Runs `bin args` to completion (at most 30 s) with `env` added to the environment.
pub fn run_to_exit_with_env(
    bin: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> io::Result<Finished> {
    let mut child = Command::new(bin)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_timeout(&mut child, Duration::from_secs(30))?;
    Ok(Finished {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    })
}

type Drain = (Arc<Mutex<Vec<u8>>>, Option<JoinHandle<()>>);

/// Reads a pipe on a thread so a chatty child never blocks on a full pipe.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> Drain {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let handle = pipe.map(|mut pipe| {
        let buf = buf.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if let Ok(mut b) = buf.lock() {
                    b.extend_from_slice(&chunk[..n]);
                }
            }
        })
    });
    (buf, handle)
}

fn collect((buf, handle): Drain) -> String {
    if let Some(h) = handle {
        let _ = h.join();
    }
    let bytes = buf.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A controller process listening on loopback health and metrics ports.
pub struct RunningController {
    child: Child,
    stderr: Drain,
    pub health: SocketAddr,
    pub metrics: SocketAddr,
}

impl RunningController {
    /// Starts `bin` with `--health-addr`/`--metrics-addr` on free loopback ports plus `args`,
    /// and waits (up to 20 s) until `/healthz` answers.
    pub fn start(bin: &str, args: &[String]) -> io::Result<Self> {
        Self::start_with_env(bin, args, &[])
    }

    /// Like [`RunningController::start`], with `env` added to the child's environment
    /// (`KUBECONFIG`, `RUNTIME_NAMESPACE`).
    pub fn start_with_env(bin: &str, args: &[String], env: &[(&str, &str)]) -> io::Result<Self> {
        let health: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let metrics: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let mut child = Command::new(bin)
            .arg(format!("--health-addr={health}"))
            .arg(format!("--metrics-addr={metrics}"))
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = drain(child.stderr.take());
        let mut running = RunningController {
            child,
            stderr,
            health,
            metrics,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((200, _)) = http_get(health, "/healthz") {
                return Ok(running);
            }
            if let Some(status) = running.child.try_wait()? {
                let log = collect(std::mem::take(&mut running.stderr));
                return Err(io::Error::other(format!(
                    "{bin} exited early with {status}: {log}"
                )));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{bin} never became healthy"),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (up to 15 s) for the exit, returning the status and stderr.
    pub fn terminate(self) -> io::Result<(ExitStatus, String)> {
        self.stop_with(libc::SIGTERM)
    }

    /// Sends `signal` and waits (up to 15 s) for the exit, returning the status and stderr.
    pub fn stop_with(mut self, signal: i32) -> io::Result<(ExitStatus, String)> {
        send_signal(&self.child, signal)?;
        let status = wait_timeout(&mut self.child, Duration::from_secs(15));
        let stderr = collect(std::mem::take(&mut self.stderr));
        match status {
            Ok(status) => Ok((status, stderr)),
            Err(e) => Err(io::Error::new(e.kind(), format!("{e}; stderr:\n{stderr}"))),
        }
    }
}

impl Drop for RunningController {
    fn drop(&mut self) {
        // A test that failed half-way must not leave its controller running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The checks every controller binary must pass, with what differs per controller.
#[derive(Debug, Clone, Copy)]
pub struct BinarySpec<'a> {
    /// Path to the binary (`env!("CARGO_BIN_EXE_...")`).
    pub bin: &'a str,
    /// The controller name it logs (`"controller":"<name>"`).
    pub name: &'a str,
    /// Controller-specific flags for the serving run, proving they parse.
    pub args: &'a [&'a str],
    /// Added to the environment of every run (e.g. `KUBECONFIG` of a test API server).
    pub env: &'a [(&'a str, &'a str)],
    /// A duration flag with a bad value (`--flag=value`) and a fragment of the expected error.
    pub bad_duration: (&'a str, &'a str),
}

/// Runs the checks shared by all controller binaries, panicking on the first failure: the
/// process serves `/healthz`, `/readyz` and OpenMetrics `/metrics`, exits 0 on SIGTERM after
/// logging it; unknown flags, bad durations and unknown feature gates exit 1 with a clear
/// message; `--help` exits 0 and lists Flux's common flags.
pub fn check_controller_binary(spec: &BinarySpec<'_>) {
    check_serves_and_stops_on_sigterm(spec);
    check_flag_errors(spec);
    check_help(spec);
}

/// `/healthz`, `/readyz`, `/metrics`, then SIGTERM → exit 0.
pub fn check_serves_and_stops_on_sigterm(spec: &BinarySpec<'_>) {
    let args: Vec<String> = spec.args.iter().map(|s| s.to_string()).collect();
    let ctl = RunningController::start_with_env(spec.bin, &args, spec.env)
        .unwrap_or_else(|e| panic!("{} did not start: {e}", spec.name));

    let (status, _) = http_get(ctl.health, "/healthz").expect("healthz");
    assert_eq!(status, 200, "/healthz");
    let (status, _) = http_get(ctl.health, "/readyz").expect("readyz");
    assert_eq!(status, 200, "/readyz");

    let (status, body) = http_get(ctl.metrics, "/metrics").expect("metrics");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.to_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE gotk_reconcile_duration_seconds histogram"),
        "{body}"
    );
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    assert!(body.contains("process_resident_memory_bytes "), "{body}");

    let (status, stderr) = ctl.terminate().expect("terminate");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(r#""msg":"starting manager""#), "{stderr}");
    let controller = format!(r#""controller":"{}""#, spec.name);
    assert!(stderr.contains(&controller), "{stderr}");
    assert!(stderr.contains(r#""signal":"SIGTERM""#), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Unknown flag, bad duration and unknown feature gate: exit 1, message naming the problem.
pub fn check_flag_errors(spec: &BinarySpec<'_>) {
    let run = |args: &[&str]| {
        run_to_exit_with_env(spec.bin, args, spec.env)
            .unwrap_or_else(|e| panic!("{} {args:?}: {e}", spec.name))
    };
    let out = run(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);

    let (flag, message) = spec.bad_duration;
    let out = run(&[flag]);
    assert_eq!(out.status.code(), Some(1), "{flag}: {}", out.stderr);
    assert!(out.stderr.contains(message), "{flag}: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{flag}: {}", out.stderr);

    let out = run(&[
        "--feature-gates=NoSuchGate=true",
        "--health-addr=127.0.0.1:0",
        "--metrics-addr=0",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("feature-gate 'NoSuchGate' not supported"),
        "{}",
        out.stderr
    );
}

/// `--help` exits 0 and lists Flux's common flags.
pub fn check_help(spec: &BinarySpec<'_>) {
    let out = run_to_exit(spec.bin, &["--help"]).expect("help");
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    for flag in [
        "--metrics-addr",
        "--health-addr",
        "--enable-leader-election",
        "--log-level",
        "--watch-all-namespaces",
    ] {
        assert!(
            out.stdout.contains(flag),
            "{flag} missing from help:\n{}",
            out.stdout
        );
    }
}

/// For controllers that talk to Kubernetes: without a usable kubeconfig, with
/// `--watch-all-namespaces=false` but no `RUNTIME_NAMESPACE`, or against a cluster without the
/// Flux CRDs (`bare_kubeconfig`), the process exits 1 saying why. `spec.env` must not set
/// `KUBECONFIG` or `RUNTIME_NAMESPACE` for this check.
pub fn check_needs_a_cluster(spec: &BinarySpec<'_>, bare_kubeconfig: &str) {
    let quiet = ["--health-addr=127.0.0.1:0", "--metrics-addr=0"];
    let mut env = spec.env.to_vec();
    env.push(("KUBECONFIG", "/nonexistent/flux-rs/kubeconfig"));
    let out = run_to_exit_with_env(spec.bin, &quiet, &env).expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("unable to load the kubeconfig"),
        "{}",
        out.stderr
    );

    let mut args = quiet.to_vec();
    args.push("--watch-all-namespaces=false");
    let out = run_to_exit_with_env(spec.bin, &args, spec.env).expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("RUNTIME_NAMESPACE"), "{}", out.stderr);

    let mut env = spec.env.to_vec();
    env.push(("KUBECONFIG", bare_kubeconfig));
    let out = run_to_exit_with_env(spec.bin, &quiet, &env).expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("are the CRDs installed?"),
        "{}",
        out.stderr
    );
}

/// Polls the object `name` until `done` holds, for up to 60 s (generous: CI machines are
/// small and busy); panics with its last state.
pub async fn wait_for<K>(api: &kube::Api<K>, name: &str, done: impl Fn(&K) -> bool) -> K
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let obj = api
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("get {name}: {e}"));
        if done(&obj) {
            return obj;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {name}; last seen: {obj:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The Events about the object `name` in `namespace`, as they are now.
pub async fn events_for(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Vec<k8s_openapi::api::core::v1::Event> {
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(client.clone(), namespace);
    events
        .list(&Default::default())
        .await
        .map(|list| list.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(name))
        .collect()
}

/// Whether an Event of `type_` and `reason` about the object `name` shows up in `namespace`
/// within 10 s (reconcilers record events after they patch the status).
pub async fn has_event(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    type_: &str,
    reason: &str,
) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = events_for(client, namespace, name)
            .await
            .iter()
            .any(|e| e.type_.as_deref() == Some(type_) && e.reason.as_deref() == Some(reason));
        if found || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
