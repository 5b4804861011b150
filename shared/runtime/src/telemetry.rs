//! Logging set-up: Flux's zap line format (`level`, `ts`, `logger`, `msg`, then fields) in JSON
//! or console encoding, on stderr, filtered by `--log-level`.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

use crate::flags::{LogEncoding, LogFlags, LogLevel};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("a global logger is already installed: {0}")]
    AlreadyInstalled(String),
    #[error("invalid log filter: {0}")]
    Filter(String),
}

/// The filter for a Flux log level. Chatty HTTP and TLS internals stay at info so that
/// `--log-level=debug` shows the controller's own decisions.
pub fn filter_for(level: LogLevel) -> Result<EnvFilter, TelemetryError> {
    let directives = match level {
        LogLevel::Trace => "trace,hyper=info,hyper_util=info,h2=info,rustls=info,tower=info",
        LogLevel::Debug => "debug,hyper=info,hyper_util=info,h2=info,rustls=info,tower=info",
        LogLevel::Info => "info",
        LogLevel::Error => "error",
    };
    EnvFilter::try_new(directives).map_err(|e| TelemetryError::Filter(e.to_string()))
}

/// Installs the global logger on stderr, as controller-runtime's zap logger does.
pub fn init(flags: &LogFlags) -> Result<(), TelemetryError> {
    init_with_writer(flags, std::io::stderr)
}

/// Installs the global logger writing to `writer`.
pub fn init_with_writer<W>(flags: &LogFlags, writer: W) -> Result<(), TelemetryError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter_for(flags.level)?)
        .fmt_fields(JsonFields::new())
        .event_format(ZapFormat::new(flags.encoding))
        .with_writer(writer)
        .try_init()
        .map_err(|e| TelemetryError::AlreadyInstalled(e.to_string()))
}

/// Formats events like Flux's zap logger. Span fields (kind, name, namespace, reconcileID)
/// are merged into every line logged inside the span.
#[derive(Debug, Clone, Copy)]
pub struct ZapFormat {
    encoding: LogEncoding,
}

impl ZapFormat {
    pub fn new(encoding: LogEncoding) -> Self {
        ZapFormat { encoding }
    }
}

impl<S, N> FormatEvent<S, N> for ZapFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        // Outer spans first so that inner spans and the event itself win on name clashes.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                if let Some(formatted) = ext.get::<FormattedFields<N>>()
                    && let Ok(Value::Object(map)) =
                        serde_json::from_str::<Value>(formatted.as_str())
                {
                    fields.extend(map);
                }
            }
        }
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        fields.extend(visitor.fields);

        let meta = event.metadata();
        let msg = visitor.message.unwrap_or_default();
        let logger = match fields.remove("logger") {
            Some(Value::String(name)) => name,
            _ => meta.target().to_string(),
        };
        let level = zap_level(*meta.level());
        let ts = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();

        match self.encoding {
            LogEncoding::Json => {
                let mut line = Map::new();
                line.insert("level".into(), Value::String(level.into()));
                line.insert("ts".into(), Value::String(ts));
                line.insert("logger".into(), Value::String(logger));
                line.insert("msg".into(), Value::String(msg));
                line.extend(fields);
                let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
                writeln!(writer, "{text}")
            }
            LogEncoding::Console => {
                write!(writer, "{ts}\t{}\t{logger}\t{msg}", level.to_uppercase())?;
                if !fields.is_empty() {
                    let text =
                        serde_json::to_string(&Value::Object(fields)).map_err(|_| fmt::Error)?;
                    write!(writer, "\t{text}")?;
                }
                writeln!(writer)
            }
        }
    }
}

fn zap_level(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// Collects an event's fields as JSON values, keeping numbers and booleans typed.
#[derive(Default)]
struct FieldVisitor {
    message: Option<String>,
    fields: Map<String, Value>,
}

impl FieldVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for FieldVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn capture(level: LogLevel, encoding: LogEncoding, f: impl FnOnce()) -> String {
        let buf = Buffer::default();
        let out = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter_for(level).unwrap())
            .fmt_fields(JsonFields::new())
            .event_format(ZapFormat::new(encoding))
            .with_writer(move || out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn json_lines_carry_zap_keys_and_span_fields() {
        let out = capture(LogLevel::Info, LogEncoding::Json, || {
            let span = tracing::info_span!(
                "reconcile",
                kind = "GitRepository",
                name = "podinfo",
                namespace = "flux-system"
            );
            let _g = span.enter();
            tracing::info!(target: "setup", revision = "main@sha1:abc", attempts = 3, "artifact stored");
        });
        let line: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["level"], "info");
        assert_eq!(line["logger"], "setup");
        assert_eq!(line["msg"], "artifact stored");
        assert_eq!(line["kind"], "GitRepository");
        assert_eq!(line["namespace"], "flux-system");
        assert_eq!(line["revision"], "main@sha1:abc");
        assert_eq!(line["attempts"], 3);
        let ts = line["ts"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.contains('T'), "{ts}");
    }

    #[test]
    fn error_level_hides_info_and_shows_errors() {
        let out = capture(LogLevel::Error, LogEncoding::Json, || {
            tracing::info!("hidden");
            tracing::error!(error = "boom", "reconcile failed");
        });
        assert!(!out.contains("hidden"));
        let line: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["level"], "error");
        assert_eq!(line["error"], "boom");
    }

    #[test]
    fn debug_level_shows_debug_lines() {
        let out = capture(LogLevel::Debug, LogEncoding::Json, || {
            tracing::debug!("detail")
        });
        assert!(out.contains("\"msg\":\"detail\""), "{out}");
        let out = capture(LogLevel::Info, LogEncoding::Json, || {
            tracing::debug!("detail")
        });
        assert!(out.is_empty(), "{out}");
    }

    #[test]
    fn console_encoding_is_tab_separated() {
        let out = capture(LogLevel::Info, LogEncoding::Console, || {
            tracing::info!(target: "setup", controller = "x", "starting manager");
        });
        let parts: Vec<&str> = out.trim_end().split('\t').collect();
        assert_eq!(parts[1..4], ["INFO", "setup", "starting manager"]);
        assert_eq!(parts[4], r#"{"controller":"x"}"#);
    }
}
