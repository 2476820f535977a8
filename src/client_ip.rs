//! The address a request comes from: its peer's, or, when the peer is a proxy the operator
//! trusts (`REGISTRY_TRUSTED_PROXIES`), the address that proxy wrote in `X-Forwarded-For`.
//!
//! Behind a load balancer every peer is the balancer, so the comment limit and the commenter
//! address a comment keeps would name the balancer. `X-Forwarded-For` is a list each proxy
//! appends the address it received from to; only the entries added by trusted proxies can
//! be believed, since a client writes whatever it likes on the left. So the list is read from
//! the right, past every trusted proxy: the first address that is not one is the client. A
//! header nobody trusts is never read.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The most `X-Forwarded-For` entries read: more proxies than this in a row is no deployment.
const MAX_HOPS: usize = 32;

/// The proxies whose `X-Forwarded-For` the registry believes; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks.into_iter().map(|n| n.trunc()).collect())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client of a request from `peer` with these headers.
    pub fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        let mut client = peer?.ip().to_canonical();
        if self.0.is_empty() || !self.trusts(client) {
            return Some(client);
        }
        // Every header line, in order; a proxy may append a line rather than extend one.
        let lines: Vec<Option<&str>> = headers
            .get_all("x-forwarded-for")
            .map(|value| value.to_str().ok())
            .collect();
        let hops = lines
            .iter()
            .rev()
            .flat_map(|line| match line {
                Some(line) => line.rsplit(',').map(hop).collect::<Vec<_>>(),
                None => vec![None],
            })
            .take(MAX_HOPS);
        for hop in hops {
            // An entry that is not an address ends the list: the last trusted proxy is then
            // the nearest thing to a client there is.
            let Some(ip) = hop else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// The client of a request, by the proxies the application trusts (none if it names none).
pub fn of(req: &actix_web::HttpRequest) -> Option<IpAddr> {
    by_app(req.app_data(), req.headers(), req.peer_addr())
}

/// [`of`], for a request as middleware sees it.
pub fn of_service(req: &actix_web::dev::ServiceRequest) -> Option<IpAddr> {
    by_app(req.app_data(), req.headers(), req.peer_addr())
}

fn by_app(
    trusted: Option<&actix_web::web::Data<TrustedProxies>>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<IpAddr> {
    match trusted {
        Some(trusted) => trusted.client(headers, peer),
        None => peer.map(|a| a.ip().to_canonical()),
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.7:51000`,
/// `[2001:db8::1]:443`).
fn hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// A `REGISTRY_TRUSTED_PROXIES` entry: an address (`10.0.0.5`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not an IP address or network (e.g. 10.0.0.0/8)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(lines: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_bytes(line).expect("a header value"),
            );
        }
        map
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().expect("an address"), 40000))
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(
            list.iter()
                .map(|p| parse_proxy(p).expect("a proxy"))
                .collect(),
        )
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("an address"))
    }

    #[test]
    fn nobody_trusted_means_the_peer() {
        let none = TrustedProxies::default();
        let forged = headers(&[b"203.0.113.9"]);
        assert_eq!(none.client(&forged, peer("127.0.0.1")), ip("127.0.0.1"));
        assert_eq!(none.client(&forged, None), None);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_a_forged_left_is_ignored() {
        let haproxy = trusted(&["127.0.0.1", "10.0.0.0/8"]);
        let one = headers(&[b"203.0.113.7"]);
        assert_eq!(haproxy.client(&one, peer("127.0.0.1")), ip("203.0.113.7"));
        // The client forged the first entry; the proxy appended the real one.
        let forged = headers(&[b"198.51.100.1, 203.0.113.7"]);
        assert_eq!(
            haproxy.client(&forged, peer("127.0.0.1")),
            ip("203.0.113.7")
        );
        // Two trusted proxies in a row, the second on its own header line, with a port.
        let chain = headers(&[b"198.51.100.1, 203.0.113.7", b"10.1.2.3:5555"]);
        assert_eq!(haproxy.client(&chain, peer("10.0.0.2")), ip("203.0.113.7"));
        // Not from a trusted peer: the header is not read at all.
        assert_eq!(haproxy.client(&one, peer("192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn garbage_stops_at_the_last_trusted_proxy() {
        let haproxy = trusted(&["127.0.0.1"]);
        for line in [&b"not-an-address"[..], b"", b"203.0.113.7 , ", b"\xff\xfe"] {
            assert_eq!(
                haproxy.client(&headers(&[line]), peer("127.0.0.1")),
                ip("127.0.0.1"),
                "{line:?}"
            );
        }
        // No header: the proxy itself.
        assert_eq!(
            haproxy.client(&HeaderMap::new(), peer("127.0.0.1")),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_and_mapped_addresses() {
        let proxies = trusted(&["::1", "fd00::/8"]);
        let v6 = headers(&[b"[2001:db8::7]:443"]);
        assert_eq!(proxies.client(&v6, peer("::1")), ip("2001:db8::7"));
        let mapped = headers(&[b"::ffff:203.0.113.7"]);
        assert_eq!(proxies.client(&mapped, peer("fd00::1")), ip("203.0.113.7"));
        // A peer that is an IPv4-mapped loopback is the IPv4 loopback.
        let v4 = trusted(&["127.0.0.1"]);
        let one = headers(&[b"203.0.113.7"]);
        assert_eq!(v4.client(&one, peer("::ffff:127.0.0.1")), ip("203.0.113.7"));
    }

    #[test]
    fn proxies_are_addresses_or_networks() {
        assert!(parse_proxy("10.0.0.0/8").is_ok());
        assert!(parse_proxy(" 127.0.0.1 ").is_ok());
        assert!(parse_proxy("::1").is_ok());
        assert!(parse_proxy("haproxy").is_err());
        assert!(parse_proxy("10.0.0.0/33").is_err());
    }
}
