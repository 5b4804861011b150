//! Reconcile metrics with Flux's names: `gotk_reconcile_duration_seconds` (kind, name,
//! namespace) and controller-runtime's `controller_runtime_reconcile_total` (controller,
//! result) and `controller_runtime_reconcile_errors_total` (controller), plus the process
//! metrics (`process_resident_memory_bytes`, ...).

mod process;

pub use process::{ProcessCollector, ProcessStats};

use std::time::Instant;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ObjectLabels {
    kind: String,
    name: String,
    namespace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    controller: String,
    result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ControllerLabels {
    controller: String,
}

/// How a reconcile ended, with controller-runtime's `result` label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Error,
    Requeue,
    RequeueAfter,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error => "error",
            Outcome::Requeue => "requeue",
            Outcome::RequeueAfter => "requeue_after",
        }
    }
}

fn duration_histogram() -> Histogram {
    // Flux: prometheus.ExponentialBuckets(10e-9, 10, 10).
    Histogram::new(exponential_buckets(10e-9, 10.0, 10))
}

/// Keeps a family's `# HELP`/`# TYPE` lines in the output before its first sample, so that
/// scrapers and dashboards see every Flux metric from the start (OpenMetrics allows a family
/// without samples; prometheus-client would otherwise leave it out).
#[derive(Debug, Clone)]
struct Described<M>(M);

impl<M: EncodeMetric> EncodeMetric for Described<M> {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }

    fn is_empty(&self) -> bool {
        false
    }
}

/// The reconcile metrics of one controller process. Cheap to clone; clones share counts.
#[derive(Clone)]
pub struct ReconcileMetrics {
    duration: Family<ObjectLabels, Histogram, fn() -> Histogram>,
    total: Family<ResultLabels, Counter>,
    errors: Family<ControllerLabels, Counter>,
}

impl Default for ReconcileMetrics {
    fn default() -> Self {
        ReconcileMetrics {
            duration: Family::new_with_constructor(duration_histogram),
            total: Family::default(),
            errors: Family::default(),
        }
    }
}

impl ReconcileMetrics {
    /// Creates the metrics and registers them, with the process metrics, in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = ReconcileMetrics::default();
        registry.register_collector(Box::new(ProcessCollector));
        registry.register(
            "gotk_reconcile_duration_seconds",
            "The duration in seconds of a GitOps Toolkit resource reconciliation",
            Described(metrics.duration.clone()),
        );
        // prometheus-client appends `_total` to counter names.
        registry.register(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            Described(metrics.total.clone()),
        );
        registry.register(
            "controller_runtime_reconcile_errors",
            "Total number of reconciliation errors per controller",
            Described(metrics.errors.clone()),
        );
        metrics
    }

    /// Starts timing one reconcile: `let mut t = metrics.start("GitRepository", name, ns);`.
    /// The duration and outcome are recorded when the guard drops.
    pub fn start(&self, kind: &str, name: &str, namespace: &str) -> ReconcileTimer {
        ReconcileTimer {
            metrics: self.clone(),
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: namespace.to_string(),
            started: Instant::now(),
            outcome: Outcome::Success,
        }
    }

    /// Number of finished reconciles of `kind` with `outcome`.
    pub fn count(&self, kind: &str, outcome: Outcome) -> u64 {
        let labels = ResultLabels {
            controller: kind.to_lowercase(),
            result: outcome.label().to_string(),
        };
        self.total.get(&labels).map(|c| c.get()).unwrap_or(0)
    }

    /// Number of failed reconciles of `kind`.
    pub fn error_count(&self, kind: &str) -> u64 {
        let labels = ControllerLabels {
            controller: kind.to_lowercase(),
        };
        self.errors.get(&labels).map(|c| c.get()).unwrap_or(0)
    }
}

/// Records one reconcile when dropped. Defaults to success; call [`ReconcileTimer::set_outcome`]
/// (or [`ReconcileTimer::failed`]) before it drops.
pub struct ReconcileTimer {
    metrics: ReconcileMetrics,
    kind: String,
    name: String,
    namespace: String,
    started: Instant,
    outcome: Outcome,
}

impl ReconcileTimer {
    pub fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = outcome;
    }

    pub fn failed(&mut self) {
        self.outcome = Outcome::Error;
    }
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        let seconds = self.started.elapsed().as_secs_f64();
        let object = ObjectLabels {
            kind: std::mem::take(&mut self.kind),
            name: std::mem::take(&mut self.name),
            namespace: std::mem::take(&mut self.namespace),
        };
        // controller-runtime names a controller after the lower-cased kind.
        let controller = object.kind.to_lowercase();
        self.metrics
            .duration
            .get_or_create(&object)
            .observe(seconds);
        self.metrics
            .total
            .get_or_create(&ResultLabels {
                controller: controller.clone(),
                result: self.outcome.label().to_string(),
            })
            .inc();
        if self.outcome == Outcome::Error {
            self.metrics
                .errors
                .get_or_create(&ControllerLabels { controller })
                .inc();
        }
    }
}

/// The process's reconcile metrics, set once by the controller's main (controller-runtime keeps
/// its metrics in a global registry too), so reconcilers record without carrying a handle.
static PROCESS_METRICS: std::sync::OnceLock<ReconcileMetrics> = std::sync::OnceLock::new();

/// Makes `metrics` the ones [`timed`] records into; later calls are ignored.
pub fn install(metrics: ReconcileMetrics) {
    let _ = PROCESS_METRICS.set(metrics);
}

/// Wraps a kube-runtime reconcile function so each call is timed into
/// `gotk_reconcile_duration_seconds` and counted, an `Err` as an error. Without installed
/// metrics (libraries, tests, `flux local`) it only forwards the call.
pub fn timed<K, C, F, Fut, T, E>(
    kind: &'static str,
    mut reconcile: F,
) -> impl FnMut(std::sync::Arc<K>, std::sync::Arc<C>) -> futures::future::BoxFuture<'static, Result<T, E>>
where
    K: kube::Resource,
    F: FnMut(std::sync::Arc<K>, std::sync::Arc<C>) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>> + Send + 'static,
{
    move |obj, ctx| {
        let meta = obj.meta();
        let timer = PROCESS_METRICS.get().map(|m| {
            m.start(
                kind,
                meta.name.as_deref().unwrap_or_default(),
                meta.namespace.as_deref().unwrap_or_default(),
            )
        });
        let fut = reconcile(obj, ctx);
        Box::pin(async move {
            let mut timer = timer;
            let result = fut.await;
            if result.is_err()
                && let Some(t) = timer.as_mut()
            {
                t.failed();
            }
            result
        })
    }
}

/// Encodes `registry` in the OpenMetrics text format (ending with `# EOF`).
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, registry)?;
    Ok(out)
}

/// The content type of [`encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_records_duration_and_success_count() {
        let mut registry = Registry::default();
        let metrics = ReconcileMetrics::register(&mut registry);
        {
            let _t = metrics.start("GitRepository", "podinfo", "flux-system");
        }
        assert_eq!(metrics.count("GitRepository", Outcome::Success), 1);
        assert_eq!(metrics.error_count("GitRepository"), 0);
        let text = encode(&registry).unwrap();
        assert!(
            text.contains(r#"gotk_reconcile_duration_seconds_count{kind="GitRepository",name="podinfo",namespace="flux-system"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"controller_runtime_reconcile_total{controller="gitrepository",result="success"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn failed_timer_counts_an_error() {
        let mut registry = Registry::default();
        let metrics = ReconcileMetrics::register(&mut registry);
        for _ in 0..2 {
            let mut t = metrics.start("Kustomization", "apps", "flux-system");
            t.failed();
        }
        let mut t = metrics.start("Kustomization", "apps", "flux-system");
        t.set_outcome(Outcome::RequeueAfter);
        drop(t);
        assert_eq!(metrics.error_count("Kustomization"), 2);
        assert_eq!(metrics.count("Kustomization", Outcome::Error), 2);
        assert_eq!(metrics.count("Kustomization", Outcome::RequeueAfter), 1);
        let text = encode(&registry).unwrap();
        assert!(
            text.contains(
                r#"controller_runtime_reconcile_errors_total{controller="kustomization"} 2"#
            ),
            "{text}"
        );
    }

    #[test]
    fn families_are_described_before_the_first_reconcile() {
        let mut registry = Registry::default();
        let _metrics = ReconcileMetrics::register(&mut registry);
        let text = encode(&registry).unwrap();
        assert!(
            text.contains("# TYPE gotk_reconcile_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE controller_runtime_reconcile counter"),
            "{text}"
        );
        assert!(
            !text.contains("gotk_reconcile_duration_seconds_count"),
            "{text}"
        );
    }

    #[test]
    fn histogram_uses_flux_buckets() {
        let mut registry = Registry::default();
        let metrics = ReconcileMetrics::register(&mut registry);
        drop(metrics.start("HelmRelease", "podinfo", "default"));
        let text = encode(&registry).unwrap();
        // First and last of ExponentialBuckets(10e-9, 10, 10).
        assert!(text.contains(r#"le="1e-8""#), "{text}");
        assert!(text.contains(r#"le="10.0""#), "{text}");
        assert!(
            text.contains("# TYPE gotk_reconcile_duration_seconds histogram"),
            "{text}"
        );
    }
}
