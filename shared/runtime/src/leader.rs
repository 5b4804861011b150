//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` does it
//! for controller-runtime (`--enable-leader-election`): only the holder of the Lease
//! `<controller>-leader-election` in the runtime namespace runs reconcilers.
//!
//! A candidate takes the Lease when it is free or when its holder has not renewed it for a full
//! lease duration, measured on the candidate's own clock from when it last saw the record change
//! (so clock skew between pods does not matter). Writes use the Lease's resourceVersion, so two
//! candidates can never both win the same round. The leader renews every retry period and gives
//! up after the renew deadline; on a clean stop it releases the Lease so a standby takes over
//! at once.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tokio::sync::{Mutex, watch};

use crate::flags::LeaderElectionFlags;
use crate::manager::ManagerError;

/// Where and how to elect a leader.
#[derive(Debug, Clone)]
pub struct LeaderElectionConfig {
    /// The Lease name; Flux uses `<controller>-leader-election`.
    pub lease_name: String,
    pub namespace: String,
    /// This candidate's identity, unique per process.
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
    /// Release the Lease on a clean stop (`--leader-election-release-on-cancel`).
    pub release_on_cancel: bool,
}

impl LeaderElectionConfig {
    /// The configuration from Flux's leader election flags.
    pub fn from_flags(controller: &str, namespace: &str, flags: &LeaderElectionFlags) -> Self {
        LeaderElectionConfig {
            lease_name: format!("{controller}-leader-election"),
            namespace: namespace.to_string(),
            identity: default_identity(),
            lease_duration: flags.lease_duration.as_duration(),
            renew_deadline: flags.renew_deadline.as_duration(),
            retry_period: flags.retry_period.as_duration(),
            release_on_cancel: flags.release_on_cancel,
        }
    }
}

/// `<hostname>_<random>`, as controller-runtime builds it (hostname plus a UUID).
pub fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "localhost".into());
    let mut random = [0u8; 8];
    let seeded = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random));
    let suffix = match seeded {
        Ok(()) => u64::from_le_bytes(random),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default();
            nanos ^ u64::from(std::process::id())
        }
    };
    format!("{host}_{suffix:016x}")
}

/// The last Lease record seen, and when (on our clock) it last changed.
struct Observed {
    holder: String,
    renew_time: Option<Timestamp>,
    at: Instant,
}

/// One candidate for the Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaderElectionConfig,
    observed: Mutex<Option<Observed>>,
}

/// Why a round of acquiring or renewing did not make us the holder.
#[derive(Debug)]
enum Round {
    /// Someone else holds a live lease.
    HeldByOther(String),
    /// The API call failed (including losing a write race).
    Failed(kube::Error),
}

impl LeaderElector {
    pub fn new(client: kube::Client, config: LeaderElectionConfig) -> Self {
        LeaderElector {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: Mutex::new(None),
        }
    }

    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    /// Tries every retry period until this candidate holds the Lease (`true`) or `stop`
    /// turns (`false`).
    pub async fn acquire(&self, stop: &mut watch::Receiver<bool>) -> bool {
        let mut logged_holder = String::new();
        loop {
            if *stop.borrow() {
                return false;
            }
            match self.try_acquire_or_renew().await {
                Ok(()) => {
                    tracing::info!(target: "setup", lease = %self.lease_ref(), identity = %self.config.identity, "successfully acquired lease");
                    return true;
                }
                Err(Round::HeldByOther(holder)) => {
                    if holder != logged_holder {
                        tracing::info!(target: "setup", lease = %self.lease_ref(), holder = %holder, "attempting to acquire leader lease; held by another candidate");
                        logged_holder = holder;
                    }
                }
                Err(Round::Failed(err)) => {
                    tracing::debug!(target: "setup", lease = %self.lease_ref(), error = %err, "failed to acquire lease");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.retry_period) => {}
                _ = stop.wait_for(|s| *s) => return false,
            }
        }
    }

    /// Renews the Lease every retry period. Returns once renewing has failed for the whole
    /// renew deadline (leadership lost).
    pub async fn renew_until_lost(&self) -> ManagerError {
        let mut last_renew = Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            match self.try_acquire_or_renew().await {
                Ok(()) => last_renew = Instant::now(),
                Err(round) => {
                    tracing::debug!(target: "setup", lease = %self.lease_ref(), error = ?round, "failed to renew lease");
                    if let Round::HeldByOther(holder) = round {
                        return ManagerError::LeaderElection(format!(
                            "lease {} taken over by {holder}",
                            self.lease_ref()
                        ));
                    }
                    if last_renew.elapsed() >= self.config.renew_deadline {
                        return ManagerError::LeaderElection(format!(
                            "failed to renew lease {} within {:?}",
                            self.lease_ref(),
                            self.config.renew_deadline
                        ));
                    }
                }
            }
        }
    }

    /// Gives the Lease up if we hold it, so another candidate can take it at once.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.config.lease_name).await else {
            return;
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        let now = MicroTime(Timestamp::now());
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(now.clone());
        spec.renew_time = Some(now);
        match self
            .api
            .replace(&self.config.lease_name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => {
                tracing::info!(target: "setup", lease = %self.lease_ref(), "released leader lease")
            }
            Err(err) => {
                tracing::debug!(target: "setup", lease = %self.lease_ref(), error = %err, "failed to release lease")
            }
        }
    }

    fn lease_ref(&self) -> String {
        format!("{}/{}", self.config.namespace, self.config.lease_name)
    }

    fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.config.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX)
    }

    async fn try_acquire_or_renew(&self) -> Result<(), Round> {
        let now = MicroTime(Timestamp::now());
        let me = self.config.identity.clone();
        let Some(mut lease) = self
            .api
            .get_opt(&self.config.lease_name)
            .await
            .map_err(Round::Failed)?
        else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.lease_name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(me.clone()),
                    lease_duration_seconds: Some(self.lease_duration_seconds()),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now.clone()),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            self.api
                .create(&PostParams::default(), &lease)
                .await
                .map_err(Round::Failed)?;
            self.observe(&me, Some(now.0)).await;
            return Ok(());
        };

        let spec = lease.spec.get_or_insert_with(Default::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let renew_time = spec.renew_time.as_ref().map(|t| t.0);
        let held_by_other = !holder.is_empty() && holder != me;
        if held_by_other {
            let observed_at = self.observe(&holder, renew_time).await;
            let duration = spec
                .lease_duration_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs)
                .unwrap_or(self.config.lease_duration);
            if observed_at.elapsed() < duration {
                return Err(Round::HeldByOther(holder));
            }
        }
        if holder != me {
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.holder_identity = Some(me.clone());
        spec.lease_duration_seconds = Some(self.lease_duration_seconds());
        spec.renew_time = Some(now.clone());
        // The resourceVersion from the read makes this a compare-and-swap.
        self.api
            .replace(&self.config.lease_name, &PostParams::default(), &lease)
            .await
            .map_err(Round::Failed)?;
        self.observe(&me, Some(now.0)).await;
        Ok(())
    }

    /// Records the record seen now; returns when it last changed on our clock.
    async fn observe(&self, holder: &str, renew_time: Option<Timestamp>) -> Instant {
        let mut observed = self.observed.lock().await;
        match observed.as_ref() {
            Some(o) if o.holder == holder && o.renew_time == renew_time => o.at,
            _ => {
                let at = Instant::now();
                *observed = Some(Observed {
                    holder: holder.to_string(),
                    renew_time,
                    at,
                });
                at
            }
        }
    }
}

/// Runs `work` only while holding the Lease. Waits for leadership first (returning `Ok` if
/// `stop` turns before that); passes `work` a stop flag that turns with `stop`; releases the
/// Lease after `work` ends if configured to. Losing the Lease abandons `work` at once and
/// returns an error, as controller-runtime exits on "leader election lost".
pub async fn run_as_leader<W, Fut, E>(
    client: kube::Client,
    config: LeaderElectionConfig,
    mut stop: watch::Receiver<bool>,
    work: W,
) -> Result<(), ManagerError>
where
    W: FnOnce(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<ManagerError>,
{
    let elector = LeaderElector::new(client, config);
    tracing::info!(target: "setup", lease = %elector.lease_ref(), identity = %elector.identity(), "attempting to acquire leader lease");
    if !elector.acquire(&mut stop).await {
        return Ok(());
    }
    let (inner_tx, inner_rx) = watch::channel(false);
    let forward = async {
        let _ = stop.wait_for(|s| *s).await;
        let _ = inner_tx.send(true);
        std::future::pending::<std::convert::Infallible>().await
    };
    let result = tokio::select! {
        result = work(inner_rx) => result.map_err(Into::into),
        lost = elector.renew_until_lost() => {
            tracing::error!(target: "setup", error = %lost, "leader election lost");
            return Err(lost);
        }
        never = forward => match never {},
    };
    if elector.config.release_on_cancel {
        elector.release().await;
    }
    result
}

/// The namespace of the Lease: `RUNTIME_NAMESPACE`, else the pod's service account namespace.
pub fn lease_namespace() -> Result<String, ManagerError> {
    crate::manager::runtime_namespace()
        .or_else(|| {
            std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
                .ok()
                .map(|ns| ns.trim().to_string())
                .filter(|ns| !ns.is_empty())
        })
        .ok_or_else(|| {
            ManagerError::LeaderElection(
                "unable to find the leader election namespace: set RUNTIME_NAMESPACE".into(),
            )
        })
}

/// Runs `work` directly, or under [`run_as_leader`] with the Lease `<controller>-leader-election`
/// when `--enable-leader-election` is set.
pub async fn run_elected<W, Fut>(
    client: kube::Client,
    controller: &str,
    flags: &LeaderElectionFlags,
    stop: watch::Receiver<bool>,
    work: W,
) -> Result<(), ManagerError>
where
    W: FnOnce(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<(), ManagerError>>,
{
    if !flags.enable {
        return work(stop).await;
    }
    let config = LeaderElectionConfig::from_flags(controller, &lease_namespace()?, flags);
    run_as_leader(client, config, stop, work).await
}
