//! Stopping without failing a request: on SIGTERM or SIGINT the process first drains, then
//! stops.
//!
//! Draining means `/readyz` answers 503 at once while everything else is still served, for
//! `REGISTRY_DRAIN_SECONDS`: long enough for a load balancer's health checks to take the
//! process out of rotation, so that no new request is routed to it once it stops accepting.
//! Then actix's graceful shutdown closes the listener and idle connections and lets in-flight
//! requests finish. A second signal during the drain ends it early.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Whether the process has begun to drain; `/readyz` reads it.
#[derive(Debug, Default)]
pub struct Draining(AtomicBool);

impl Draining {
    pub fn begin(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Completes when the server should begin its graceful shutdown: `period` after the first
/// SIGTERM or SIGINT (marking `draining` at once), or at a second signal.
pub async fn drained(draining: Arc<Draining>, period: Duration) {
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "cannot listen for SIGTERM and SIGINT; the process will not drain");
            return std::future::pending().await;
        }
    };
    let first = next_signal(&mut term, &mut int, None).await;
    draining.begin();
    tracing::info!(
        signal = first,
        drain_seconds = period.as_secs_f64(),
        "draining: /readyz answers 503; stopping after the drain period (signal again to stop now)"
    );
    let deadline = pin!(actix_rt::time::sleep(period));
    match next_signal(&mut term, &mut int, Some(deadline)).await {
        "" => tracing::info!("drained; stopping (in-flight requests finish)"),
        second => tracing::info!(signal = second, "second signal: stopping now"),
    }
}

/// The name of the next signal received, or "" when `deadline` passes first.
async fn next_signal(
    term: &mut Signal,
    int: &mut Signal,
    mut deadline: Option<std::pin::Pin<&mut actix_rt::time::Sleep>>,
) -> &'static str {
    poll_fn(|cx| {
        if term.poll_recv(cx).is_ready() {
            return Poll::Ready("SIGTERM");
        }
        if int.poll_recv(cx).is_ready() {
            return Poll::Ready("SIGINT");
        }
        match deadline.as_mut().map(|sleep| sleep.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(""),
            _ => Poll::Pending,
        }
    })
    .await
}
