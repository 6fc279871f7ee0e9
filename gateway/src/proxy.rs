//! The device's address: the socket's peer, or what a trusted proxy in front reports.
//!
//! A client writes whatever it likes into `X-Forwarded-For`; each proxy appends the address it
//! saw on the right. So the list is read from the right: past the proxies the operator trusts
//! (`GATEWAY_TRUSTED_PROXIES`), the first entry is the device's, and the headers count only
//! when the socket's peer is itself a trusted proxy. This is how Envoy (`xff_num_trusted_hops`)
//! and nginx (`set_real_ip_from` with `real_ip_recursive`) read it.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The proxies whose forwarding headers the gateway believes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// Where a device's call came from, as the gateway tells Adobe Pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The device's address.
    pub ip: IpAddr,
    /// Its source port, where known: the peer's without a proxy; behind one, the port the
    /// proxy reports in `Forwarded: for="ip:port"`, and none when it reports none.
    pub port: Option<u16>,
}

impl TrustedProxies {
    /// No proxy is trusted: the device's address is always the socket's peer.
    pub fn none() -> Self {
        Self::default()
    }

    /// A comma-separated list of addresses and CIDRs (`10.0.0.0/8, 192.0.2.7`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "GATEWAY_TRUSTED_PROXIES: {item:?} is not an address or a CIDR"
                        ))
                    }
                },
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The origin of a request that came from `peer` with `headers`.
    pub fn origin(&self, peer: SocketAddr, headers: &HeaderMap) -> Origin {
        let direct = Origin {
            ip: peer.ip().to_canonical(),
            port: Some(peer.port()),
        };
        if !self.contains(direct.ip) {
            return direct;
        }
        // Every hop the proxies report, left to right: RFC 7239 `Forwarded` where a proxy
        // sends it, else `X-Forwarded-For`. An entry that does not parse ends the walk, as
        // nothing left of it can be believed.
        let hops = forwarded(headers).unwrap_or_else(|| x_forwarded_for(headers));
        // No header: the peer itself (a trusted proxy that forwarded nothing).
        let mut chosen = direct;
        for hop in hops.iter().rev() {
            let Some(hop) = hop else { break };
            chosen = *hop;
            if !self.contains(hop.ip) {
                break;
            }
        }
        chosen
    }
}

/// The hops of `X-Forwarded-For` (every such header, in order), with no port.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<Origin>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("!").split(','))
        .map(|e| {
            e.trim().parse::<IpAddr>().ok().map(|ip| Origin {
                ip: ip.to_canonical(),
                port: None,
            })
        })
        .collect()
}

/// The `for=` hops of RFC 7239 `Forwarded` headers, with their ports; `None` without one.
fn forwarded(headers: &HeaderMap) -> Option<Vec<Option<Origin>>> {
    let mut hops = Vec::new();
    for value in headers.get_all("forwarded") {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in value.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
            });
            // An element without `for=` says nothing of this hop: it cannot be believed.
            hops.push(node.and_then(node_origin));
        }
    }
    (!hops.is_empty()).then_some(hops)
}

/// A `for=` node: `192.0.2.7`, `"192.0.2.7:4711"`, `"[2001:db8::1]:4711"`; obfuscated and
/// `unknown` nodes are not addresses.
fn node_origin(node: &str) -> Option<Origin> {
    let node = node.trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(Origin {
            ip: ip.to_canonical(),
            port: None,
        });
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(Origin {
            ip: addr.ip().to_canonical(),
            port: Some(addr.port()),
        });
    }
    let bracketed = node.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<IpAddr>().ok().map(|ip| Origin {
        ip: ip.to_canonical(),
        port: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn peer(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_a_trusted_peer_the_headers_count_for_nothing() {
        let none = TrustedProxies::none();
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("forwarded", "for=203.0.113.7"),
        ]);
        let o = none.origin(peer("198.51.100.2:5000"), &h);
        assert_eq!(o.ip, "198.51.100.2".parse::<IpAddr>().unwrap());
        assert_eq!(o.port, Some(5000));
        // A trusted list that does not hold the peer: the same.
        let lb = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(lb.origin(peer("198.51.100.2:5000"), &h), o);
    }

    #[test]
    fn the_list_is_read_from_the_right_past_the_trusted_proxies() {
        let lb = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        // The client wrote 1.2.3.4 itself; the proxy appended what it saw.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.1.1.1")]);
        let o = lb.origin(peer("192.0.2.1:443"), &h);
        assert_eq!(o.ip, "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_eq!(o.port, None, "X-Forwarded-For reports no port");
        // Two headers read as one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            lb.origin(peer("10.0.0.5:1"), &h).ip.to_string(),
            "203.0.113.9"
        );
        // Garbage on the right of the first untrusted entry: the walk stops at the last
        // believed hop.
        let h = headers(&[("x-forwarded-for", "203.0.113.7, nonsense, 10.1.1.1")]);
        assert_eq!(lb.origin(peer("10.0.0.5:1"), &h).ip.to_string(), "10.1.1.1");
        // Every hop trusted: the leftmost.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(lb.origin(peer("10.0.0.5:1"), &h).ip.to_string(), "10.9.9.9");
        // No header from a trusted peer: the peer.
        let o = lb.origin(peer("10.0.0.5:7"), &HeaderMap::new());
        assert_eq!(
            (o.ip.to_string(), o.port),
            ("10.0.0.5".to_string(), Some(7))
        );
    }

    #[test]
    fn forwarded_gives_the_port_and_wins_over_x_forwarded_for() {
        let lb = TrustedProxies::parse("127.0.0.1/32").unwrap();
        let h = headers(&[
            (
                "forwarded",
                r#"for="6.6.6.6:1";proto=https, for="203.0.113.7:4711";by=lb"#,
            ),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        let o = lb.origin(peer("127.0.0.1:9"), &h);
        assert_eq!(o.ip.to_string(), "203.0.113.7");
        assert_eq!(o.port, Some(4711));
        let h = headers(&[("forwarded", r#"for="[2001:db8::7]:80", for=unknown"#)]);
        // `unknown` on the right: nothing left of it is believed.
        assert_eq!(
            lb.origin(peer("127.0.0.1:9"), &h).ip.to_string(),
            "127.0.0.1"
        );
        let h = headers(&[("forwarded", r#"for="[2001:db8::7]:80""#)]);
        let o = lb.origin(peer("127.0.0.1:9"), &h);
        assert_eq!(
            (o.ip.to_string(), o.port),
            ("2001:db8::7".to_string(), Some(80))
        );
    }

    #[test]
    fn lists_are_checked_and_mapped_addresses_match() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("lb.internal")
            .unwrap_err()
            .contains("GATEWAY_TRUSTED_PROXIES"));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        let lb = TrustedProxies::parse("10.0.0.0/8,::1").unwrap();
        assert!(lb.contains("::ffff:10.2.3.4".parse().unwrap()));
        assert!(lb.contains("::1".parse().unwrap()));
        assert!(!lb.contains("11.0.0.1".parse().unwrap()));
    }
}
