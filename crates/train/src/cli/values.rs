//! The flags' values: each parsed from its text, with one line that says what is wrong.

use study::model::Activation;
use study::sweep::Placement;
use trainer::backend::Backend;
use trainer::cases::CASE_COUNT;

pub(super) fn parse_backend(s: &str) -> Result<Backend, String> {
    s.parse().map_err(|e| backend_advice(&e))
}

/// A backend's refusal with the way out: the build that has it, or the backends that exist.
pub fn backend_advice(e: &trainer::backend::BackendError) -> String {
    match e {
        trainer::backend::BackendError::NotBuilt(name) => format!(
            "{e}: rebuild with `cargo build --release -p train --features {name}`, or use wgpu (which reaches Vulkan, Metal and DirectX GPUs) or a CPU backend (flex, ndarray)"
        ),
        other => other.to_string(),
    }
}

/// A whole number ≥ 1.
pub(super) fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

/// A whole number (its range is the library's to check).
pub(super) fn whole_number(s: &str) -> Result<usize, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number"))
}

/// A number (its range is the library's to check).
pub(super) fn ratio(s: &str) -> Result<f64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))
}

/// A dropout placement: none, hidden, hidden+output.
pub(super) fn parse_placement(s: &str) -> Result<Placement, String> {
    s.trim().parse()
}

/// An activation: relu or sigmoid.
pub(super) fn parse_activation(s: &str) -> Result<Activation, String> {
    match s.trim() {
        "relu" => Ok(Activation::Relu),
        "sigmoid" => Ok(Activation::Sigmoid),
        _ => Err(format!("{s:?} is neither relu nor sigmoid")),
    }
}

/// A study case, 1–7.
pub(super) fn case_number(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=CASE_COUNT).contains(&n) => Ok(n),
        _ => Err(format!(
            "unknown case {s}: the study has cases 1 to {CASE_COUNT}"
        )),
    }
}

/// An IP address, or a host name (`localhost`) resolved to its first address, IPv4 first.
pub(super) fn parse_address(s: &str) -> Result<std::net::IpAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(ip) = s.parse() {
        return Ok(ip);
    }
    let addresses: Vec<std::net::IpAddr> = (s, 0)
        .to_socket_addrs()
        .map(|a| a.map(|a| a.ip()).collect())
        .unwrap_or_default();
    // IPv4 first: `localhost` is 127.0.0.1 wherever IPv6 is off.
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| {
            format!("{s:?} is neither an IP address nor a host name this machine resolves")
        })
}
