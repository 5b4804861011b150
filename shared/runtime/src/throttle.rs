//! Client-side throttling of Kubernetes API requests (`--kube-api-qps`, `--kube-api-burst`), as
//! client-go's token bucket: up to `burst` requests at once, refilled at `qps` per second.
//!
//! The layer waits in `poll_ready`, so it must sit under a buffer that polls readiness before each
//! request, which kube's `Client` does.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use crate::flags::ClientFlags;

/// A token bucket; `qps <= 0` (or not a number) means unlimited, as `--kube-api-qps=-1` in
/// controller-runtime.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(qps: f32, burst: u32, now: Instant) -> Self {
        let capacity = f64::from(burst.max(1));
        TokenBucket {
            rate: f64::from(qps),
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes a token, or says how long to wait until one is available.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        if self.rate.is_nan() || self.rate <= 0.0 {
            return Ok(());
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            // A vanishingly small rate must wait "forever", not overflow the Duration.
            let wait = (1.0 - self.tokens) / self.rate;
            Err(Duration::try_from_secs_f64(wait)
                .unwrap_or(Duration::from_secs(u64::from(u32::MAX))))
        }
    }
}

/// The tower layer for `kube::client::ClientBuilder::with_layer`.
#[derive(Debug, Clone)]
pub struct ThrottleLayer {
    qps: f32,
    burst: u32,
}

impl ThrottleLayer {
    pub fn new(flags: &ClientFlags) -> Self {
        ThrottleLayer {
            qps: flags.qps,
            burst: flags.burst,
        }
    }
}

impl<S> Layer<S> for ThrottleLayer {
    type Service = Throttle<S>;

    fn layer(&self, inner: S) -> Throttle<S> {
        Throttle {
            inner,
            bucket: TokenBucket::new(self.qps, self.burst, Instant::now()),
            wait: None,
            has_token: false,
        }
    }
}

pub struct Throttle<S> {
    inner: S,
    bucket: TokenBucket,
    wait: Option<Pin<Box<Sleep>>>,
    has_token: bool,
}

impl<S, R> Service<R> for Throttle<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        while !self.has_token {
            if let Some(wait) = self.wait.as_mut() {
                ready!(wait.as_mut().poll(cx));
                self.wait = None;
            }
            match self.bucket.take(Instant::now()) {
                Ok(()) => self.has_token = true,
                Err(delay) => self.wait = Some(Box::pin(tokio::time::sleep(delay))),
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.has_token = false;
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[test]
    fn bucket_allows_a_burst_then_refills_at_qps() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3, t0);
        for _ in 0..3 {
            assert_eq!(bucket.take(t0), Ok(()));
        }
        let wait = bucket.take(t0).expect_err("bucket is empty");
        assert_eq!(wait, Duration::from_millis(100));
        assert_eq!(bucket.take(t0 + Duration::from_millis(100)), Ok(()));
        // A long pause refills no more than the burst.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.take(later), Ok(()));
        }
        assert!(bucket.take(later).is_err());
    }

    #[test]
    fn non_positive_qps_is_unlimited() {
        let t0 = Instant::now();
        for qps in [-1.0, 0.0, f32::NAN] {
            let mut bucket = TokenBucket::new(qps, 1, t0);
            for _ in 0..1000 {
                assert_eq!(bucket.take(t0), Ok(()));
            }
        }
    }

    #[test]
    fn a_vanishing_qps_waits_long_instead_of_overflowing() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(f32::MIN_POSITIVE, 1, t0);
        assert_eq!(bucket.take(t0), Ok(()));
        let wait = bucket.take(t0).expect_err("empty");
        assert!(wait >= Duration::from_secs(86_400 * 365), "{wait:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn service_waits_for_tokens_on_the_paused_clock() {
        let flags = ClientFlags { qps: 2.0, burst: 2 };
        let mut svc = ThrottleLayer::new(&flags).layer(tower::service_fn(|()| async {
            Ok::<_, ()>(Instant::now())
        }));
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            at.push(
                svc.ready()
                    .await
                    .expect("ready")
                    .call(())
                    .await
                    .expect("call")
                    - start,
            );
        }
        let ms: Vec<u128> = at.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 0, 500, 1000, 1500]);
    }
}
