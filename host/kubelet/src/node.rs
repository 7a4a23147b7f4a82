//! The simulated node's allocatable resources, which the kubelet reports for `limits.cpu`,
//! `limits.memory` and `limits.ephemeral-storage` when a container sets no such limit.
//!
//! Upstream: kubernetes `pkg/api/v1/resource/helpers.go` (`MergeContainerResourceLimits`: only cpu,
//! memory and ephemeral-storage are filled in, and a zero limit counts as unset) and
//! `pkg/kubelet/kubelet_resources.go` (`defaultPodLimitsForDownwardAPI`).

use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use pod_introspect_kube::quantity;

/// The host's flag for the node allocatable, named in errors.
const FLAG: &str = "--node-allocatable";

/// Default allocatable cpu: 4 cores.
pub const DEFAULT_CPU: &str = "4";
/// Default allocatable memory: 8 GiB.
pub const DEFAULT_MEMORY: &str = "8Gi";
/// Default allocatable ephemeral storage: 100 GiB.
pub const DEFAULT_EPHEMERAL_STORAGE: &str = "100Gi";

/// The node allocatable the simulated kubelet reports for unset limits.
///
/// Parsed from the host's `--node-allocatable` flag as `cpu=4,memory=8Gi,ephemeral-storage=100Gi`
/// (any subset, in any order; unspecified keys keep the defaults [`DEFAULT_CPU`],
/// [`DEFAULT_MEMORY`], [`DEFAULT_EPHEMERAL_STORAGE`]). Values are Kubernetes quantities; `FromStr`
/// checks them, and [`crate::simulate`] checks them again for values set directly.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeAllocatable {
    /// Allocatable cpu, e.g. `4` or `3500m`.
    pub cpu: Quantity,
    /// Allocatable memory in bytes, e.g. `8Gi`.
    pub memory: Quantity,
    /// Allocatable ephemeral storage in bytes, e.g. `100Gi`.
    pub ephemeral_storage: Quantity,
}

impl Default for NodeAllocatable {
    fn default() -> Self {
        NodeAllocatable {
            cpu: Quantity(DEFAULT_CPU.to_string()),
            memory: Quantity(DEFAULT_MEMORY.to_string()),
            ephemeral_storage: Quantity(DEFAULT_EPHEMERAL_STORAGE.to_string()),
        }
    }
}

impl fmt::Display for NodeAllocatable {
    /// The flag form: `cpu=4,memory=8Gi,ephemeral-storage=100Gi`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cpu={},memory={},ephemeral-storage={}",
            self.cpu.0, self.memory.0, self.ephemeral_storage.0
        )
    }
}

/// Parses one allocatable value: a non-negative quantity.
fn parse_value(key: &str, text: &str) -> Result<quantity::Quantity, String> {
    let parsed =
        quantity::Quantity::parse(text).map_err(|e| format!("bad item \"{key}={text}\": {e}"))?;
    if parsed.milli_value() < 0 {
        return Err(format!(
            "bad item \"{key}={text}\": allocatable must not be negative"
        ));
    }
    Ok(parsed)
}

impl FromStr for NodeAllocatable {
    type Err = String;

    /// Parses `cpu=4,memory=8Gi`: comma-separated `KEY=QUANTITY` items with keys `cpu`, `memory`
    /// and `ephemeral-storage`; blanks around items are ignored. The error names the flag and the
    /// bad item: `--node-allocatable: bad item "gpu=1": unknown resource "gpu"; the keys are ...`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_flag(s).map_err(|e| format!("{FLAG}: {e}"))
    }
}

/// The body of [`NodeAllocatable::from_str`]; the error names the bad item.
fn parse_flag(s: &str) -> Result<NodeAllocatable, String> {
    let mut out = NodeAllocatable::default();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!(
                "bad item \"{item}\": expected KEY=QUANTITY with KEY one of cpu, memory, ephemeral-storage (e.g. cpu=4,memory=8Gi)"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        let slot = match key {
            "cpu" => &mut out.cpu,
            "memory" => &mut out.memory,
            "ephemeral-storage" => &mut out.ephemeral_storage,
            _ => {
                return Err(format!(
                    "bad item \"{item}\": unknown resource \"{key}\"; the keys are cpu, memory, ephemeral-storage"
                ));
            }
        };
        parse_value(key, value)?;
        *slot = Quantity(value.to_string());
    }
    Ok(out)
}

/// [`NodeAllocatable`] with every value parsed, as the simulation uses it.
#[derive(Debug, Clone)]
pub(crate) struct ParsedAllocatable {
    pub cpu: quantity::Quantity,
    pub memory: quantity::Quantity,
    pub ephemeral_storage: quantity::Quantity,
}

impl ParsedAllocatable {
    /// Parses the values; the error names the flag and the bad item.
    pub(crate) fn new(node: &NodeAllocatable) -> Result<ParsedAllocatable, String> {
        let parse = |key, text: &str| parse_value(key, text).map_err(|e| format!("{FLAG}: {e}"));
        Ok(ParsedAllocatable {
            cpu: parse("cpu", &node.cpu.0)?,
            memory: parse("memory", &node.memory.0)?,
            ephemeral_storage: parse("ephemeral-storage", &node.ephemeral_storage.0)?,
        })
    }

    /// The allocatable for a resource name (`cpu`, `memory`, `ephemeral-storage`); `None` for the
    /// rest, which the kubelet never fills in from the node (hugepages are never overcommitted).
    pub(crate) fn get(&self, resource_name: &str) -> Option<&quantity::Quantity> {
        match resource_name {
            "cpu" => Some(&self.cpu),
            "memory" => Some(&self.memory),
            "ephemeral-storage" => Some(&self.ephemeral_storage),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let d = NodeAllocatable::default();
        assert_eq!(d.to_string(), "cpu=4,memory=8Gi,ephemeral-storage=100Gi");
    }

    /// Expected (cpu, memory, ephemeral-storage), or the start of the error.
    type Want = Result<(&'static str, &'static str, &'static str), &'static str>;

    #[test]
    fn parse_table() {
        let cases: &[(&str, Want)] = &[
            ("", Ok(("4", "8Gi", "100Gi"))),
            ("cpu=2", Ok(("2", "8Gi", "100Gi"))),
            (" memory=1Gi , cpu=500m,", Ok(("500m", "1Gi", "100Gi"))),
            ("ephemeral-storage=10G", Ok(("4", "8Gi", "10G"))),
            (
                "gpu=abc",
                Err("--node-allocatable: bad item \"gpu=abc\": unknown resource \"gpu\""),
            ),
            (
                "cpu",
                Err("--node-allocatable: bad item \"cpu\": expected KEY=QUANTITY"),
            ),
            (
                "cpu=-1",
                Err("--node-allocatable: bad item \"cpu=-1\": allocatable must not be negative"),
            ),
        ];
        for (input, want) in cases {
            let got = input.parse::<NodeAllocatable>();
            match (got, want) {
                (Ok(n), Ok((c, m, e))) => {
                    assert_eq!(
                        (
                            n.cpu.0.as_str(),
                            n.memory.0.as_str(),
                            n.ephemeral_storage.0.as_str()
                        ),
                        (*c, *m, *e),
                        "{input}"
                    )
                }
                (Err(e), Err(prefix)) => assert!(e.starts_with(prefix), "{input}: {e}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
        let err = "cpu=abc"
            .parse::<NodeAllocatable>()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--node-allocatable: bad item \"cpu=abc\": "),
            "{err}"
        );
    }
}
