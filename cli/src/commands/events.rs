//! `flux events`: the Kubernetes Events of Flux objects, oldest first, with kubectl's
//! LAST SEEN column; `--for Kind/name` narrows them to one object and the objects it refers to.

use std::io::Write;

use clap::Args;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use serde_json::Value;

use super::CommandError;
use crate::cli::GlobalFlags;
use crate::cluster;

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Display events from all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Get the events of this object (Kind/name) and of the objects it refers to.
    #[arg(long = "for", value_name = "KIND/NAME")]
    pub for_object: Option<String>,

    /// Filter events by type: Normal, Warning (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,

    /// After listing, watch for new events until --timeout.
    #[arg(short = 'w', long)]
    pub watch: bool,
}

/// An object events are about: kind, namespace, name.
type Ref = (String, String, String);

pub fn run(
    global: &GlobalFlags,
    args: &EventsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    for t in &args.types {
        if !t.eq_ignore_ascii_case("Normal") && !t.eq_ignore_ascii_case("Warning") {
            return Err(CommandError::Cluster(format!(
                "type '{t}' not supported. Supported types are Normal, Warning"
            )));
        }
    }
    let namespace = (!args.all_namespaces).then_some(global.namespace.as_str());
    // A watch runs until --timeout and then ends quietly, as Flux's.
    let deadline = std::time::Instant::now() + global.timeout;
    let body = async {
        let client = cluster::client(global).await?;
        let refs = match &args.for_object {
            Some(selector) => Some(related(&client, selector, &global.namespace).await?),
            None => None,
        };
        let mut namespaces: Vec<Option<&str>> = vec![namespace];
        if let Some(refs) = &refs {
            for (_, ns, _) in refs {
                if namespace.is_some() && !namespaces.contains(&Some(ns.as_str())) {
                    namespaces.push(Some(ns.as_str()));
                }
            }
        }
        let show_namespace = namespace.is_none() || namespaces.len() > 1;
        let filter = Filter {
            args,
            refs: refs.as_ref(),
            show_namespace,
        };
        let mut kept: Vec<(Timestamp, Vec<String>)> = Vec::new();
        let mut version = String::new();
        for ns in &namespaces {
            let list = events_api(&client, *ns)
                .list(&ListParams::default())
                .await
                .map_err(cluster::api_error)?;
            version = list.metadata.resource_version.clone().unwrap_or_default();
            for e in &list.items {
                kept.extend(filter.row(e, Timestamp::now())?);
            }
        }
        let mut header = Vec::new();
        if show_namespace {
            header.push("Namespace");
        }
        header.extend(["Last seen", "Type", "Reason", "Object", "Message"]);
        if kept.is_empty() && !args.watch {
            let msg = match namespace {
                None => "No events found.".to_string(),
                Some(ns) => format!("No events found in {ns} namespace."),
            };
            cluster::Log(err).failure(msg)?;
            return Ok(());
        }
        // Stable: events at the same time keep the API server's order.
        kept.sort_by_key(|(t, _)| *t);
        let rows: Vec<Vec<String>> = kept.into_iter().map(|(_, r)| r).collect();
        if !rows.is_empty() {
            cluster::print_table(out, &header, &rows)?;
        }
        if !args.watch {
            return Ok(());
        }
        let mut first = rows.is_empty();
        // Events of several namespaces come from one watch of all of them.
        let scope = if namespaces.len() > 1 {
            None
        } else {
            namespace
        };
        let api = events_api(&client, scope);
        let params = WatchParams::default().timeout(290);
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            let Ok(stream) = tokio::time::timeout_at(deadline, api.watch(&params, &version)).await
            else {
                return Ok(());
            };
            let mut stream = std::pin::pin!(stream.map_err(cluster::api_error)?);
            while let Ok(Some(event)) = tokio::time::timeout_at(deadline, stream.next()).await {
                let e = match event.map_err(cluster::api_error)? {
                    WatchEvent::Added(e) | WatchEvent::Modified(e) => e,
                    WatchEvent::Deleted(e) => {
                        version = e.metadata.resource_version.clone().unwrap_or(version);
                        continue;
                    }
                    WatchEvent::Bookmark(b) => {
                        version = b.metadata.resource_version;
                        continue;
                    }
                    WatchEvent::Error(status) => {
                        return Err(CommandError::Cluster(status.message.clone()));
                    }
                };
                version = e.metadata.resource_version.clone().unwrap_or(version);
                if let Some((_, row)) = filter.row(&e, Timestamp::now())? {
                    let header = if first { header.clone() } else { Vec::new() };
                    first = false;
                    cluster::print_table(out, &header, &[row])?;
                    out.flush()?;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(());
            }
        }
    };
    if args.watch {
        cluster::block_on(body)
    } else {
        cluster::run(global, body)
    }
}

fn events_api(client: &kube::Client, namespace: Option<&str>) -> Api<Event> {
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Which events to show and how.
struct Filter<'a> {
    args: &'a EventsArgs,
    refs: Option<&'a Vec<Ref>>,
    show_namespace: bool,
}

impl Filter<'_> {
    /// The sort time and row of an event about a Flux object that passes the filters.
    fn row(
        &self,
        e: &Event,
        now: Timestamp,
    ) -> Result<Option<(Timestamp, Vec<String>)>, CommandError> {
        let e = serde_json::to_value(e)
            .map_err(|e| CommandError::Cluster(format!("invalid Event: {e}")))?;
        let kind = cluster::str_at(&e, &["involvedObject", "kind"]);
        if flux_api::crds::kinds().iter().all(|k| k.kind != kind) {
            return Ok(None);
        }
        let type_ = cluster::str_at(&e, &["type"]);
        let types = &self.args.types;
        if !types.is_empty() && !types.iter().any(|t| t.eq_ignore_ascii_case(type_)) {
            return Ok(None);
        }
        if let Some(refs) = self.refs {
            let this = (
                kind.to_string(),
                cluster::str_at(&e, &["involvedObject", "namespace"]).to_string(),
                cluster::str_at(&e, &["involvedObject", "name"]).to_string(),
            );
            if !refs.contains(&this) {
                return Ok(None);
            }
        }
        let mut row = Vec::new();
        if self.show_namespace {
            row.push(cluster::str_at(&e, &["metadata", "namespace"]).to_string());
        }
        row.push(last_seen(&e, now));
        row.push(type_.to_string());
        row.push(cluster::str_at(&e, &["reason"]).to_string());
        row.push(format!(
            "{kind}/{}",
            cluster::str_at(&e, &["involvedObject", "name"])
        ));
        row.push(cluster::str_at(&e, &["message"]).to_string());
        Ok(Some((event_time(&e).unwrap_or_default(), row)))
    }
}

/// The object `--for Kind/name` names and those whose events Flux shows with it: its source
/// (Kustomization, HelmChart), chart source and HelmChart (HelmRelease), Provider (Alert),
/// ImageRepository (ImagePolicy).
async fn related(
    client: &kube::Client,
    selector: &str,
    namespace: &str,
) -> Result<Vec<Ref>, CommandError> {
    let (kind, name) = selector.split_once('/').ok_or_else(|| {
        CommandError::Cluster(format!("invalid --for {selector:?}: expected Kind/name"))
    })?;
    let info = flux_api::crds::kinds()
        .iter()
        .find(|k| k.kind.eq_ignore_ascii_case(kind))
        .ok_or_else(|| CommandError::Cluster(format!("'{kind}' is not a recognized Flux kind")))?;
    let obj = cluster::get(client, info, namespace, name).await?;
    let mut refs = vec![(
        info.kind.to_string(),
        namespace.to_string(),
        name.to_string(),
    )];
    let reference =
        |r: Option<&Value>, default_kind: Option<&str>, cross_ns: bool| -> Option<Ref> {
            let r = r?;
            let kind = default_kind.or_else(|| r.get("kind").and_then(Value::as_str))?;
            let ns = match r.get("namespace").and_then(Value::as_str) {
                Some(ns) if cross_ns => ns,
                _ => namespace,
            };
            Some((
                kind.to_string(),
                ns.to_string(),
                r.get("name")?.as_str()?.to_string(),
            ))
        };
    let more = match info.kind {
        "Kustomization" | "HelmChart" => {
            vec![reference(obj.pointer("/spec/sourceRef"), None, true)]
        }
        "HelmRelease" => {
            let source = reference(obj.pointer("/spec/chart/spec/sourceRef"), None, true);
            let chart_ns = source
                .as_ref()
                .map(|s| s.1.clone())
                .unwrap_or_else(|| namespace.to_string());
            vec![
                source,
                Some((
                    "HelmChart".to_string(),
                    chart_ns,
                    format!("{namespace}-{name}"),
                )),
                reference(obj.pointer("/spec/chartRef"), None, true),
            ]
        }
        "Alert" => vec![reference(
            obj.pointer("/spec/providerRef"),
            Some("Provider"),
            false,
        )],
        "ImagePolicy" => vec![reference(
            obj.pointer("/spec/imageRepositoryRef"),
            Some("ImageRepository"),
            true,
        )],
        _ => Vec::new(),
    };
    refs.extend(more.into_iter().flatten());
    Ok(refs)
}

fn time_at(e: &Value, path: &str) -> Option<Timestamp> {
    e.pointer(path)?.as_str()?.parse().ok()
}

/// kubectl's sort key: the series' last observation, else lastTimestamp, else eventTime.
fn event_time(e: &Value) -> Option<Timestamp> {
    time_at(e, "/series/lastObservedTime")
        .or_else(|| time_at(e, "/lastTimestamp"))
        .or_else(|| time_at(e, "/eventTime"))
}

/// kubectl's LAST SEEN: `5m`, or `5m (x3 over 2h)` for repeated events.
fn last_seen(e: &Value, now: Timestamp) -> String {
    let since = |t: Option<Timestamp>| match t {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".to_string(),
    };
    let first = match time_at(e, "/eventTime") {
        Some(t) => since(Some(t)),
        None => since(time_at(e, "/firstTimestamp")),
    };
    let count = e.get("count").and_then(Value::as_i64).unwrap_or(0);
    if let Some(series) = e.get("series").filter(|s| !s.is_null()) {
        let n = series.get("count").and_then(Value::as_i64).unwrap_or(0);
        format!(
            "{} (x{n} over {first})",
            since(time_at(e, "/series/lastObservedTime"))
        )
    } else if count > 1 {
        format!(
            "{} (x{count} over {first})",
            since(time_at(e, "/lastTimestamp"))
        )
    } else {
        first
    }
}

/// Kubernetes' `duration.HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_as_kubernetes() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(125), "2m5s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 5 * 60), "3h5m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(10 * 86400), "10d");
        assert_eq!(human_duration(3 * 365 * 86400 + 86400), "3y1d");
    }
}
