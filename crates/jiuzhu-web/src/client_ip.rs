//! The client's address. It is the TCP peer's, except when the peer is a reverse proxy named
//! with `serve --trusted-proxy`: then `X-Forwarded-For` is read from the right, skipping trusted
//! proxies, and the first address that is not one is the client. A header from anyone else is
//! ignored, so a client cannot choose the address it is throttled and audited under.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;
pub use ipnet::IpNet;

/// The resolved client address of a request (in the request's extensions). `None` only for
/// requests that did not come through a socket (in-process tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The address as audit entries and sessions record it.
    pub fn origin(&self) -> String {
        self.0
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// The key that limits and throttles count under: an IPv4 address, or an IPv6 /64 (one
    /// customer's network, in which every host may pick its own address).
    pub fn key(&self) -> IpAddr {
        match self.0 {
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            Some(v4) => v4,
            None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        }
    }
}

/// Parses a `--trusted-proxy` value: an address (`10.0.0.2`) or a network (`10.0.0.0/24`).
pub fn parse_trusted_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("不是有效的地址或网段: {s}"))
}

/// The client of a request that arrived from `peer` with these headers.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> ClientIp {
    let Some(peer) = peer else {
        return ClientIp(None);
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return ClientIp(Some(peer));
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An address the proxies did not write stops the walk at the last trusted hop.
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    ClientIp(Some(client))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxies = vec![
            parse_trusted_proxy("10.0.0.2").unwrap(),
            parse_trusted_proxy("10.1.0.0/16").unwrap(),
        ];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // A client that sends the header itself is still its peer address.
        let r = resolve(ip("203.0.113.7"), &headers("1.2.3.4"), &proxies);
        assert_eq!(r.origin(), "203.0.113.7");
        // Through the proxy: the rightmost address the proxies did not add.
        let r = resolve(
            ip("10.0.0.2"),
            &headers("1.2.3.4, 198.51.100.9, 10.1.3.3"),
            &proxies,
        );
        assert_eq!(r.origin(), "198.51.100.9");
        // A proxy without the header is the client.
        assert_eq!(
            resolve(ip("10.0.0.2"), &HeaderMap::new(), &proxies).origin(),
            "10.0.0.2"
        );
        assert!(parse_trusted_proxy("10.0.0.300").is_err());
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let a = ClientIp(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = ClientIp(Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        assert_eq!(a.key(), b.key());
        let mapped = ClientIp(Some("::ffff:192.0.2.1".parse().unwrap()));
        assert_eq!(mapped.key().to_string(), "192.0.2.1");
    }
}
