//! Benchmark: ConfigMap creates/s and gets/s with one kube-rs client, and watch delivery latency
//! to 100 watchers. `cargo run --release -p flux-apiserver --example bench`

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..Default::default()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let server = flux_apiserver::start(flux_apiserver::ServerOptions::default()).await?;
    let client = server.client().await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let start = Instant::now();
    let results: Vec<_> = stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &cm(&format!("cm-{i}")))
                    .await
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let errors = results.iter().filter(|r| r.is_err()).count();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "creates: {n} in {secs:.2}s = {:.0}/s (goal 5000/s), errors {errors}",
        n as f64 / secs
    );

    let start = Instant::now();
    let gets = n * 2;
    let _: Vec<_> = stream::iter(0..gets)
        .map(|i| {
            let api = api.clone();
            async move { api.get(&format!("cm-{}", i % n)).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "gets: {gets} in {secs:.2}s = {:.0}/s (goal 20000/s)",
        gets as f64 / secs
    );

    let rv = server.resource_version().to_string();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    for _ in 0..100 {
        let mut events = api.watch(&WatchParams::default(), &rv).await?.boxed();
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Ok(Some(ev)) = events.try_next().await {
                if let WatchEvent::Added(_) = ev {
                    let _ = tx.send(Instant::now());
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut latencies = Vec::new();
    for i in 0..50 {
        let sent = Instant::now();
        api.create(&PostParams::default(), &cm(&format!("w-{i}")))
            .await?;
        for _ in 0..100 {
            match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                Ok(Some(t)) => latencies.push(t.saturating_duration_since(sent)),
                _ => break,
            }
        }
    }
    latencies.sort();
    let p = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "watch: {} deliveries to 100 watchers, p50 {:.2} ms, p99 {:.2} ms (goal p99 < 5 ms)",
        latencies.len(),
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3
    );
    server.shutdown().await?;
    Ok(())
}
