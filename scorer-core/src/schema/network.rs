//! IP address class: private, loopback, link-local or public.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::Value;

/// The four classes, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpClass {
    /// RFC 1918, carrier-grade NAT (100.64/10) and IPv6 unique-local (fc00::/7).
    Private,
    /// 127/8 and ::1.
    Loopback,
    /// 169.254/16 and fe80::/10.
    LinkLocal,
    /// Everything else.
    Public,
}

impl IpClass {
    /// Column order of the one-hot encoding.
    pub const ALL: [IpClass; 4] = [
        IpClass::Private,
        IpClass::Loopback,
        IpClass::LinkLocal,
        IpClass::Public,
    ];

    /// Column suffix.
    pub fn name(self) -> &'static str {
        match self {
            IpClass::Private => "private",
            IpClass::Loopback => "loopback",
            IpClass::LinkLocal => "link_local",
            IpClass::Public => "public",
        }
    }

    /// Classify an address (IPv4-mapped IPv6 addresses are classified as IPv4).
    pub fn of(ip: IpAddr) -> IpClass {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(v6),
            },
        }
    }

    fn of_v4(ip: Ipv4Addr) -> IpClass {
        let o = ip.octets();
        if ip.is_loopback() {
            IpClass::Loopback
        } else if ip.is_link_local() {
            IpClass::LinkLocal
        } else if ip.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
            IpClass::Private
        } else {
            IpClass::Public
        }
    }

    fn of_v6(ip: Ipv6Addr) -> IpClass {
        let s = ip.segments();
        if ip.is_loopback() {
            IpClass::Loopback
        } else if (s[0] & 0xffc0) == 0xfe80 {
            IpClass::LinkLocal
        } else if (s[0] & 0xfe00) == 0xfc00 {
            IpClass::Private
        } else {
            IpClass::Public
        }
    }
}

/// One-hot of the class; unparsable or missing → all zero and `false`.
pub(crate) fn ip_class(v: Value<'_>, out: &mut [f64]) -> bool {
    out.fill(0.0);
    let (Value::Text(s) | Value::NumericText(s, _)) = v else {
        return false;
    };
    let s = s.trim();
    // Accept a bracketed IPv6 literal and a trailing zone id (fe80::1%eth0).
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    let s = s.split('%').next().unwrap_or(s);
    match s.parse::<IpAddr>() {
        Ok(ip) => {
            out[IpClass::of(ip) as usize] = 1.0;
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<IpClass> {
        let mut out = [0.0; 4];
        ip_class(Value::Text(s), &mut out)
            .then(|| IpClass::ALL[out.iter().position(|x| *x == 1.0).unwrap()])
    }

    #[test]
    fn classes() {
        assert_eq!(class("10.1.2.3"), Some(IpClass::Private));
        assert_eq!(class("172.31.255.1"), Some(IpClass::Private));
        assert_eq!(class("172.32.0.1"), Some(IpClass::Public));
        assert_eq!(class("192.168.0.1"), Some(IpClass::Private));
        assert_eq!(class("100.64.0.1"), Some(IpClass::Private));
        assert_eq!(class("127.0.0.1"), Some(IpClass::Loopback));
        assert_eq!(class("169.254.10.10"), Some(IpClass::LinkLocal));
        assert_eq!(class("8.8.8.8"), Some(IpClass::Public));
        assert_eq!(class("::1"), Some(IpClass::Loopback));
        assert_eq!(class("fe80::1%eth0"), Some(IpClass::LinkLocal));
        assert_eq!(class("fd00::5"), Some(IpClass::Private));
        assert_eq!(class("2001:4860::8888"), Some(IpClass::Public));
        assert_eq!(class("::ffff:10.0.0.1"), Some(IpClass::Private));
        assert_eq!(class("[::1]"), Some(IpClass::Loopback));
        assert_eq!(class("not-an-ip"), None);
        assert_eq!(class("999.1.1.1"), None);
    }
}
