//! Test support for controller binaries: start the real process on free loopback ports,
//! query its endpoints over plain HTTP/1.1, and stop it with a real signal.

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
    let mut child = Command::new(bin)
        .args(args)
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
        let health: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let metrics: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let mut child = Command::new(bin)
            .arg(format!("--health-addr={health}"))
            .arg(format!("--metrics-addr={metrics}"))
            .args(args)
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
        let status = wait_timeout(&mut self.child, Duration::from_secs(15))?;
        let stderr = collect(std::mem::take(&mut self.stderr));
        Ok((status, stderr))
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
