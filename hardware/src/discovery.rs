//! Finding devices on the office LAN by multicast DNS service discovery (RFC 6762 / RFC 6763),
//! through the `mdns-sd` crate: IPP printers announce `_ipp._tcp` (and `_ipps._tcp`), eSCL
//! scanners `_uscan._tcp` (and `_uscans._tcp`), raw-socket printers such as thermal ticket
//! printers `_pdl-datastream._tcp`.
//!
//! Everything in an announcement comes from whatever answers on the LAN, so it is treated as
//! untrusted input: names and TXT values are clipped and stripped of control characters, only
//! usable addresses are kept, and an announcement that does not make a usable device address is
//! left out rather than guessed. A found device is only a suggestion: it becomes a configured
//! device when a person adds it, and its identity is pinned at its first check.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::DeviceError;

/// The service types Simpul looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceType {
    /// IPP printer (`_ipp._tcp`).
    Ipp,
    /// IPP printer over TLS (`_ipps._tcp`).
    Ipps,
    /// eSCL scanner (`_uscan._tcp`).
    Escl,
    /// eSCL scanner over TLS (`_uscans._tcp`).
    EsclTls,
    /// Raw socket printer, e.g. an ESC/POS ticket printer on port 9100 (`_pdl-datastream._tcp`).
    RawPrinter,
}

impl ServiceType {
    /// Every type, in the order results are listed.
    pub const ALL: [ServiceType; 5] =
        [ServiceType::Ipp, ServiceType::Ipps, ServiceType::Escl, ServiceType::EsclTls, ServiceType::RawPrinter];

    /// The DNS-SD service type with its domain.
    pub fn dns_sd(self) -> &'static str {
        match self {
            ServiceType::Ipp => "_ipp._tcp.local.",
            ServiceType::Ipps => "_ipps._tcp.local.",
            ServiceType::Escl => "_uscan._tcp.local.",
            ServiceType::EsclTls => "_uscans._tcp.local.",
            ServiceType::RawPrinter => "_pdl-datastream._tcp.local.",
        }
    }

    fn from_dns_sd(ty: &str) -> Option<ServiceType> {
        ServiceType::ALL.into_iter().find(|t| t.dns_sd().eq_ignore_ascii_case(ty))
    }
}

/// One device announced on the LAN, with the address a driver of this crate takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announced {
    /// What it announced.
    pub service: ServiceType,
    /// Its instance name ("Kantor HP LaserJet"), cleaned.
    pub name: String,
    /// The address to configure: `ipp://…/ipp/print`, `http://…/eSCL`, `host:9100`.
    pub address: String,
    /// Make and model from the TXT record (`ty`), when given.
    pub model: Option<String>,
    /// The device's UUID from the TXT record (`UUID`), when given.
    pub uuid: Option<String>,
}

/// The parts of an announcement the address is built from (separate from `mdns-sd`'s types so
/// that the rules are tested without a network).
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// DNS-SD service type with domain (`_ipp._tcp.local.`).
    pub service_type: String,
    /// Full instance name (`Printer._ipp._tcp.local.`).
    pub fullname: String,
    /// Addresses the host resolved to.
    pub addresses: Vec<IpAddr>,
    /// SRV port.
    pub port: u16,
    /// TXT keys (lower-cased) and values.
    pub txt: BTreeMap<String, String>,
}

const MAX_NAME: usize = 80;
const MAX_VALUE: usize = 120;

/// Control characters out, whitespace collapsed, clipped to `max` characters.
fn clean(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.chars().take(max).collect()
}

/// A resource path from a TXT value (`rp`, `rs`): plain path characters only, no `..`.
fn resource_path(value: Option<&String>, default: &str) -> Option<String> {
    let path = value.map_or(default, |v| v.as_str()).trim_matches('/');
    let ok = path.len() <= 100
        && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        && !path.split('/').any(|segment| segment == "..");
    ok.then(|| path.to_string())
}

/// The address to reach: an IPv4 address first (what every office device has), then a global
/// IPv6 one; link-local IPv6 needs a scope the stored address cannot keep.
fn best_address(addresses: &[IpAddr]) -> Option<String> {
    let usable = |a: &&IpAddr| !a.is_unspecified() && !a.is_multicast();
    addresses.iter().filter(usable).find(|a| a.is_ipv4()).map(|a| a.to_string()).or_else(|| {
        addresses
            .iter()
            .filter(usable)
            .find(|a| matches!(a, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) != 0xfe80))
            .map(|a| format!("[{a}]"))
    })
}

/// Makes a device suggestion out of an announcement, or `None` when it does not name a usable
/// address (no address, port 0, a resource path that is not a path).
pub fn announced(record: &Record) -> Option<Announced> {
    let service = ServiceType::from_dns_sd(&record.service_type)?;
    if record.port == 0 {
        return None;
    }
    let host = best_address(&record.addresses)?;
    let port = record.port;
    let address = match service {
        // RFC 8010 §8.2 / IPP Everywhere: `rp` is the resource path, "ipp/print" by convention.
        ServiceType::Ipp => format!("ipp://{host}:{port}/{}", resource_path(record.txt.get("rp"), "ipp/print")?),
        ServiceType::Ipps => format!("ipps://{host}:{port}/{}", resource_path(record.txt.get("rp"), "ipp/print")?),
        // Mopria eSCL: `rs` is the root, "eSCL" by convention.
        ServiceType::Escl => format!("http://{host}:{port}/{}", resource_path(record.txt.get("rs"), "eSCL")?),
        ServiceType::EsclTls => format!("https://{host}:{port}/{}", resource_path(record.txt.get("rs"), "eSCL")?),
        ServiceType::RawPrinter => format!("{host}:{port}"),
    };
    let instance = record
        .fullname
        .len()
        .checked_sub(record.service_type.len())
        .and_then(|end| record.fullname.get(..end))
        .map(|n| n.trim_end_matches('.'))
        .unwrap_or("");
    let name = clean(instance, MAX_NAME);
    let text = |key: &str| record.txt.get(key).map(|v| clean(v, MAX_VALUE)).filter(|v| !v.is_empty());
    let uuid = text("uuid").map(|u| u.trim_start_matches("urn:uuid:").to_ascii_lowercase());
    Some(Announced {
        service,
        name: if name.is_empty() { address.clone() } else { name },
        address,
        model: text("ty").or_else(|| text("product").map(|p| p.trim_matches(|c| c == '(' || c == ')').to_string())),
        uuid,
    })
}

/// Listens for `window` for devices of the given types announcing themselves on every
/// multicast-capable interface of this machine (loopback excluded). Blocking: call it from a
/// blocking task. The same device announced twice (over two interfaces, or as `_ipp` and
/// `_ipps`) is listed once per address.
pub fn browse(types: &[ServiceType], window: Duration) -> Result<Vec<Announced>, DeviceError> {
    let daemon = mdns_sd::ServiceDaemon::new().map_err(|e| DeviceError::Discovery(e.to_string()))?;
    let mut receivers = Vec::new();
    for ty in types {
        receivers.push(daemon.browse(ty.dns_sd()).map_err(|e| DeviceError::Discovery(e.to_string()))?);
    }
    let deadline = Instant::now() + window;
    let mut found: BTreeMap<String, Announced> = BTreeMap::new();
    // A bound on what a noisy LAN can make this hold.
    const MAX_FOUND: usize = 200;
    while Instant::now() < deadline && found.len() < MAX_FOUND {
        let mut quiet = true;
        for receiver in &receivers {
            while let Ok(event) = receiver.try_recv() {
                quiet = false;
                if let mdns_sd::ServiceEvent::ServiceResolved(service) = event {
                    let record = Record {
                        service_type: service.ty_domain.clone(),
                        fullname: service.fullname.clone(),
                        addresses: service.addresses.iter().map(|a| a.to_ip_addr()).collect(),
                        port: service.port,
                        txt: service
                            .txt_properties
                            .iter()
                            .map(|p| (p.key().to_ascii_lowercase(), p.val_str().to_string()))
                            .collect(),
                    };
                    if let Some(device) = announced(&record) {
                        found.entry(device.address.clone()).or_insert(device);
                    }
                }
            }
        }
        if quiet {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Shutting down says goodbye to nothing (nothing was registered); its answer is not awaited.
    let _ = daemon.shutdown();
    let mut list: Vec<Announced> = found.into_values().collect();
    list.sort_by(|a, b| (a.service, &a.name, &a.address).cmp(&(b.service, &b.name, &b.address)));
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ty: &str, name: &str, addresses: &[&str], port: u16, txt: &[(&str, &str)]) -> Record {
        Record {
            service_type: ty.into(),
            fullname: format!("{name}.{ty}"),
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
            port,
            txt: txt.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn each_service_type_makes_the_address_its_driver_takes() {
        let ipp = announced(&record(
            "_ipp._tcp.local.",
            "Printer Loket",
            &["fe80::1", "192.168.1.20"],
            631,
            &[("rp", "ipp/print"), ("ty", "HP LaserJet M110"), ("uuid", "urn:uuid:ABCD-1")],
        ))
        .unwrap();
        assert_eq!(ipp.address, "ipp://192.168.1.20:631/ipp/print");
        assert_eq!(ipp.name, "Printer Loket");
        assert_eq!(ipp.model.as_deref(), Some("HP LaserJet M110"));
        assert_eq!(ipp.uuid.as_deref(), Some("abcd-1"));
        let escl = announced(&record("_uscan._tcp.local.", "Scanner", &["10.0.0.5"], 8080, &[])).unwrap();
        assert_eq!(escl.address, "http://10.0.0.5:8080/eSCL");
        let escl_tls =
            announced(&record("_uscans._tcp.local.", "Scanner", &["10.0.0.5"], 443, &[("rs", "/scan/")])).unwrap();
        assert_eq!(escl_tls.address, "https://10.0.0.5:443/scan");
        let raw = announced(&record("_pdl-datastream._tcp.local.", "Tiket", &["10.0.0.9"], 9100, &[])).unwrap();
        assert_eq!(raw.address, "10.0.0.9:9100");
        let v6 = announced(&record("_ipp._tcp.local.", "P", &["2001:db8::7"], 631, &[("rp", "")])).unwrap();
        assert_eq!(v6.address, "ipp://[2001:db8::7]:631/");
    }

    #[test]
    fn an_announcement_that_makes_no_usable_address_is_left_out() {
        // Only link-local IPv6, no address, port 0, a resource path that is not a path, a type
        // not asked for.
        assert!(announced(&record("_ipp._tcp.local.", "P", &["fe80::1"], 631, &[])).is_none());
        assert!(announced(&record("_ipp._tcp.local.", "P", &[], 631, &[])).is_none());
        assert!(announced(&record("_ipp._tcp.local.", "P", &["10.0.0.1"], 0, &[])).is_none());
        assert!(announced(&record("_ipp._tcp.local.", "P", &["10.0.0.1"], 631, &[("rp", "../etc")])).is_none());
        assert!(announced(&record("_ipp._tcp.local.", "P", &["10.0.0.1"], 631, &[("rp", "a?b=<x>")])).is_none());
        assert!(announced(&record("_http._tcp.local.", "P", &["10.0.0.1"], 80, &[])).is_none());
        assert!(announced(&record("_ipp._tcp.local.", "P", &["0.0.0.0"], 631, &[])).is_none());
    }

    #[test]
    fn names_and_txt_values_from_the_lan_are_cleaned_and_clipped() {
        let long = "A".repeat(500);
        let got = announced(&record(
            "_ipp._tcp.local.",
            "Evil\u{7}\nName\t  here",
            &["10.0.0.1"],
            631,
            &[("ty", &long), ("uuid", "\u{1b}[31m")],
        ))
        .unwrap();
        assert_eq!(got.name, "Evil Name here");
        assert_eq!(got.model.unwrap().chars().count(), MAX_VALUE);
        assert_eq!(got.uuid.as_deref(), Some("[31m"));
        let nameless =
            Record { fullname: "_ipp._tcp.local.".into(), ..record("_ipp._tcp.local.", "", &["10.0.0.1"], 631, &[]) };
        assert_eq!(announced(&nameless).unwrap().name, "ipp://10.0.0.1:631/ipp/print");
    }
}
