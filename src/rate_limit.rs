//! Per-client rate limiting: a token bucket per bearer token, else per client IP address
//! (governor's GCRA; the address is the peer's, or the one a trusted proxy forwarded, see
//! [`crate::client_ip`]). 429 with `Retry-After` when a client exceeds it.
//!
//! The buckets live in this process: with several replicas each limits on its own, so the
//! effective limit is per replica. That keeps replicas stateless towards each other.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

type Limiter =
    RateLimiter<String, governor::state::keyed::DefaultKeyedStateStore<String>, DefaultClock>;

/// Shared limiter state; `None` when limiting is off.
#[derive(Clone)]
pub struct RateLimit(Option<Arc<Limiter>>);

impl RateLimit {
    /// `per_second` requests per second per client, with bursts of twice that; 0 turns
    /// limiting off.
    pub fn new(per_second: u32) -> Self {
        let Some(rate) = NonZeroU32::new(per_second) else {
            return Self(None);
        };
        let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
        Self(Some(Arc::new(RateLimiter::keyed(
            Quota::per_second(rate).allow_burst(burst),
        ))))
    }
}

fn client_key(req: &ServiceRequest) -> String {
    client_of(req.headers(), crate::client_ip::of_service(req))
}

/// The client a request counts against: its bearer token (hashed), else its address.
fn client_of(headers: &header::HeaderMap, client: Option<IpAddr>) -> String {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        // The hash of the credentials, so a bad token cannot hide behind a good one's bucket.
        return format!(
            "token:{}",
            hex::encode(&Sha256::digest(value.as_bytes())[..12])
        );
    }
    match client {
        Some(IpAddr::V6(ip)) => {
            // One bucket per /64: a single host usually has a whole /64.
            let segments = ip.segments();
            format!(
                "ip:{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".to_owned(),
    }
}

/// 429 with the wait `not_until` asks for, at least a second.
fn too_many(not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::TooManyRequests {
        retry_after_secs: retry_after_secs.max(1),
    }
}

/// The limit on posting comments, per client as above, on top of the request rate: a flood of
/// comments is refused long before it reaches the general limit. `None` inside when off.
#[derive(Clone)]
pub struct CommentRateLimit(Option<Arc<Limiter>>);

impl CommentRateLimit {
    /// `per_minute` comments per minute per client, all of them at once at most; 0 turns the
    /// limit off.
    pub fn new(per_minute: u32) -> Self {
        Self(
            NonZeroU32::new(per_minute)
                .map(|rate| Arc::new(RateLimiter::keyed(Quota::per_minute(rate)))),
        )
    }

    /// Counts a comment of this request's client; 429 with `Retry-After` past the limit.
    pub fn check(&self, req: &actix_web::HttpRequest) -> Result<(), ApiError> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter
            .check_key(&client_of(req.headers(), crate::client_ip::of(req)))
            .map_err(too_many)?;
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        Ok(())
    }
}

pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let limiter = req
        .app_data::<web::Data<RateLimit>>()
        .and_then(|l| l.0.clone());
    if let Some(limiter) = limiter {
        let key = client_key(&req);
        if let Err(not_until) = limiter.check_key(&key) {
            let response = too_many(not_until).error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
    }
    Ok(next
        .call(req)
        .await?
        .map_into_boxed_body()
        .map_into_left_body())
}
