//! The webhook dispatcher: one task per server process that fans the change feed out into
//! deliveries and sends them, signed as the Standard Webhooks specification says.
//!
//! Durable and at least once: fanning out is one write transaction (`store::webhooks::fan_out`),
//! and a delivery is claimed with a lease before it is sent and settled after, so a process
//! killed at any point leaves every change either not yet fanned out or a delivery that is sent
//! (again) once its lease runs out. Nothing waits on the network inside a transaction or on
//! the SQLite writer: the record's data is read and the attempt recorded in short database
//! calls around the send.
//!
//! Fair: each webhook has at most [`PER_WEBHOOK`] attempts in flight and the process at most
//! [`OVERALL`], each attempt times out, and attempts run side by side on the server's main
//! thread (plain async I/O), so one slow or dead receiver delays neither other webhooks nor
//! API requests (served by the worker threads).

pub mod target;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::configuration::ServerSettings;
use crate::db::{Database, Timestamp};
use crate::error::ApiError;
use crate::ids::WebhookId;
use crate::store::webhooks::{self as store, Claimed, Outcome};

/// Attempts in flight for one webhook, at most.
pub const PER_WEBHOOK: usize = 8;
/// Attempts in flight in one process, at most.
pub const OVERALL: usize = 64;
/// How long a claimed delivery is kept from other senders: longer than an attempt can take.
const LEASE: Duration = Duration::from_secs(60);
/// Connecting and receiving the response's head and start, at most.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(10 * 3600);
/// The most of a response body read (for the error excerpt).
const BODY_READ_LIMIT: usize = 4096;

/// How the dispatcher behaves (from [`ServerSettings`]).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether targets on private, loopback or link-local addresses are allowed.
    pub allow_private: bool,
    /// How often the change feed and the due deliveries are looked at.
    pub poll: Duration,
    /// The wait before the first retry; each later one doubles it, up to [`MAX_RETRY_DELAY`].
    pub first_retry: Duration,
    /// After failing this long without a success, a webhook is disabled.
    pub disable_after: Duration,
}

impl WebhookSettings {
    pub fn of(server: &ServerSettings) -> Self {
        Self {
            allow_private: server.webhook_allow_private,
            poll: Duration::from_millis(server.webhook_poll_ms),
            first_retry: Duration::from_millis(server.webhook_first_retry_ms),
            disable_after: Duration::from_secs(server.webhook_disable_after_seconds),
        }
    }
}

/// The `webhook-signature` of a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` keyed with the secret's bytes.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| "the webhook's secret is not base64".to_owned())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The wait before attempt `attempts + 1`: `first` doubled per attempt made, at most
/// [`MAX_RETRY_DELAY`], stretched by up to a quarter at random so that receivers coming back
/// are not hit by every retry at once.
pub fn retry_delay(attempts: i32, first: Duration, random: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let base = first.saturating_mul(1u32 << doublings).min(MAX_RETRY_DELAY);
    let jitter = base.mul_f64(f64::from(random) / f64::from(u32::MAX) / 4.0);
    (base + jitter).min(MAX_RETRY_DELAY)
}

/// Starts the dispatcher on the current (actix) thread; it stops once `db` is dropped.
pub fn spawn(db: Weak<Database>, settings: WebhookSettings) {
    actix_rt::spawn(async move {
        let client = match http_client() {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "webhooks are not delivered: no HTTP client");
                return;
            }
        };
        let dispatcher = Rc::new(Dispatcher {
            db,
            client,
            settings,
            in_flight: RefCell::new(HashMap::new()),
            wake: tokio::sync::Notify::new(),
        });
        loop {
            let Some(db) = dispatcher.db.upgrade() else {
                return;
            };
            if let Err(error) = fan_out(&db).await {
                tracing::warn!(%error, "webhook fan-out failed; will retry");
            }
            if let Err(error) = dispatcher.send_due(&db).await {
                tracing::warn!(%error, "claiming webhook deliveries failed; will retry");
            }
            drop(db);
            // The next round comes after the poll interval, or as soon as an attempt ends
            // (its webhook has room for the next delivery of its backlog).
            let _ =
                actix_rt::time::timeout(dispatcher.settings.poll, dispatcher.wake.notified()).await;
        }
    });
}

/// awc over rustls (ring) with Mozilla's roots; no redirects (a redirect would lead past the
/// address check).
fn http_client() -> Result<awc::Client, String> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // ring rather than rustls' default aws-lc-rs: a far smaller C build, and the classical
    // key exchanges it offers are what webhook receivers speak.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(awc::Client::builder()
        .connector(
            awc::Connector::new()
                .rustls_0_23(Arc::new(tls))
                .timeout(ATTEMPT_TIMEOUT)
                .limit(OVERALL),
        )
        .timeout(ATTEMPT_TIMEOUT)
        .disable_redirects()
        .add_default_header(("user-agent", "meeting-registry-webhooks"))
        .finish())
}

/// Fans the change feed out for every enabled webhook that has news: a read first, so that a
/// quiet registry writes nothing.
async fn fan_out(db: &Database) -> Result<(), ApiError> {
    let subscriptions = db.run(store::subscriptions).await?;
    for subscription in subscriptions {
        let probe = subscription.clone();
        if !db.run(move |conn| store::has_news(conn, &probe)).await? {
            continue;
        }
        let id = subscription.id;
        loop {
            match db
                .write_bookkeeping(move |conn| store::fan_out(conn, id))
                .await
            {
                Ok(Some(done)) => {
                    if done.added > 0 {
                        tracing::debug!(webhook = %id, added = done.added, "webhook deliveries queued");
                    }
                    if !done.more {
                        break;
                    }
                }
                Ok(None) => break,
                // Another process fanned the same changes out first.
                Err(ApiError::Conflict { .. }) => break,
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}

struct Dispatcher {
    db: Weak<Database>,
    client: awc::Client,
    settings: WebhookSettings,
    /// Attempts in flight per webhook (this process's).
    in_flight: RefCell<HashMap<WebhookId, usize>>,
    /// Told when an attempt ends.
    wake: tokio::sync::Notify,
}

impl Dispatcher {
    fn total_in_flight(&self) -> usize {
        self.in_flight.borrow().values().sum()
    }

    /// Claims the due deliveries there is room for and starts their attempts.
    async fn send_due(self: &Rc<Self>, db: &Database) -> Result<(), ApiError> {
        let room = OVERALL.saturating_sub(self.total_in_flight());
        if room == 0 {
            return Ok(());
        }
        let now = Timestamp::now();
        let busy: HashMap<WebhookId, usize> = self.in_flight.borrow().clone();
        let mut random = [0u8; 8];
        let _ = getrandom::fill(&mut random);
        let offset = u64::from_le_bytes(random) as usize;
        // Each webhook's own oldest due deliveries, as many as it has room for, the webhooks
        // taken from a random one on: a webhook's backlog never hides another's deliveries.
        let chosen = db
            .run(move |conn| {
                let mut webhooks = store::due_webhooks(conn, now)?;
                if !webhooks.is_empty() {
                    let start = offset % webhooks.len();
                    webhooks.rotate_left(start);
                }
                let mut chosen = Vec::new();
                for webhook in webhooks {
                    let free = PER_WEBHOOK
                        .saturating_sub(busy.get(&webhook).copied().unwrap_or(0))
                        .min(room - chosen.len());
                    if free > 0 {
                        chosen.extend(store::due(conn, webhook, now, free as i64)?);
                    }
                    if chosen.len() >= room {
                        break;
                    }
                }
                Ok(chosen)
            })
            .await?;
        if chosen.is_empty() {
            return Ok(());
        }
        let lease_until = Timestamp::from(chrono::Utc::now() + LEASE);
        let claimed = db
            .write_bookkeeping(move |conn| store::claim(conn, &chosen, lease_until))
            .await?;
        for delivery in claimed {
            *self
                .in_flight
                .borrow_mut()
                .entry(delivery.webhook_id)
                .or_insert(0) += 1;
            let this = Rc::clone(self);
            actix_rt::spawn(async move {
                let webhook = delivery.webhook_id;
                this.attempt(delivery).await;
                {
                    let mut in_flight = this.in_flight.borrow_mut();
                    if let Some(count) = in_flight.get_mut(&webhook) {
                        *count -= 1;
                        if *count == 0 {
                            in_flight.remove(&webhook);
                        }
                    }
                }
                this.wake.notify_one();
            });
        }
        Ok(())
    }

    /// One attempt at one delivery, and its outcome recorded.
    async fn attempt(&self, delivery: Claimed) {
        let outcome = match self.send(&delivery).await {
            Ok(status) => Outcome::Delivered { status },
            Err((status, error)) => {
                let mut random = [0u8; 4];
                let _ = getrandom::fill(&mut random);
                let delay = retry_delay(
                    delivery.attempts,
                    self.settings.first_retry,
                    u32::from_le_bytes(random),
                );
                Outcome::Failed {
                    status,
                    error,
                    retry_at: Timestamp::from(
                        chrono::Utc::now()
                            + chrono::Duration::from_std(delay)
                                .unwrap_or(chrono::Duration::hours(10)),
                    ),
                }
            }
        };
        match &outcome {
            Outcome::Delivered { status } => {
                tracing::debug!(delivery = %delivery.id, webhook = %delivery.webhook_id, status, "webhook delivered")
            }
            Outcome::Failed { status, error, .. } => {
                tracing::info!(delivery = %delivery.id, webhook = %delivery.webhook_id, ?status, %error, "webhook delivery failed; will retry")
            }
        }
        let Some(db) = self.db.upgrade() else {
            return;
        };
        let disable_after = chrono::Duration::from_std(self.settings.disable_after)
            .unwrap_or(chrono::Duration::days(1));
        let (id, webhook) = (delivery.id, delivery.webhook_id);
        match db
            .write_bookkeeping(move |conn| {
                store::record(conn, id, webhook, &outcome, disable_after)
            })
            .await
        {
            Ok(true) => tracing::warn!(%webhook, "webhook disabled after failing too long"),
            Ok(false) => {}
            // The lease runs out and the delivery is attempted again.
            Err(error) => {
                tracing::warn!(%error, delivery = %id, "recording a webhook attempt failed")
            }
        }
    }

    /// Sends a delivery: the HTTP status of a 2xx answer, or what went wrong.
    async fn send(&self, delivery: &Claimed) -> Result<u16, (Option<u16>, String)> {
        let body = self.body(delivery).await.map_err(|e| (None, e))?;
        let url = target::parse(&delivery.url).map_err(|e| (None, format!("url {e}")))?;
        let address = target::resolve(&url, self.settings.allow_private)
            .await
            .map_err(|e| (None, format!("url {e}")))?;
        let id = delivery.id.to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signature =
            signature(&delivery.secret, &id, timestamp, &body).map_err(|e| (None, e))?;
        let request = self
            .client
            .post(url.as_str())
            .address(address)
            .insert_header(("content-type", "application/json"))
            .insert_header(("webhook-id", id))
            .insert_header(("webhook-timestamp", timestamp.to_string()))
            .insert_header(("webhook-signature", signature));
        let exchange = async {
            let mut response = request
                .send_body(body)
                .await
                .map_err(|e| (None, format!("sending failed: {e}")))?;
            let status = response.status();
            if status.is_success() {
                return Ok(status.as_u16());
            }
            let text = response
                .body()
                .limit(BODY_READ_LIMIT)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            Err((
                Some(status.as_u16()),
                format!("HTTP {}: {text}", status.as_u16()),
            ))
        };
        match actix_rt::time::timeout(ATTEMPT_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err((
                None,
                format!("no response within {} s", ATTEMPT_TIMEOUT.as_secs()),
            )),
        }
    }

    /// The change-feed item with `data`, the record as the webhook's viewer reads it now
    /// (`null` for a deletion, or a record it may no longer see).
    async fn body(&self, delivery: &Claimed) -> Result<Vec<u8>, String> {
        let mut item: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&delivery.payload).map_err(|e| e.to_string())?;
        let data = if delivery.action == "deleted" {
            serde_json::Value::Null
        } else {
            let db = self.db.upgrade().ok_or("the server is stopping")?;
            let (resource, record, viewer) = (
                delivery.resource.clone(),
                delivery.record_id,
                delivery.viewer,
            );
            db.run(move |conn| store::current_data(conn, &resource, record, viewer))
                .await
                .map_err(|e| format!("reading the record: {e}"))?
                .unwrap_or(serde_json::Value::Null)
        };
        item.insert("data".to_owned(), data);
        serde_json::to_vec(&item).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn retries_back_off_from_the_first_delay_to_ten_hours() {
        let first = Duration::from_secs(5);
        assert_eq!(retry_delay(1, first, 0), first);
        assert_eq!(retry_delay(2, first, 0), Duration::from_secs(10));
        assert_eq!(retry_delay(3, first, 0), Duration::from_secs(20));
        assert!(retry_delay(1, first, u32::MAX) <= Duration::from_millis(6250));
        assert_eq!(retry_delay(40, first, u32::MAX), MAX_RETRY_DELAY);
    }
}
