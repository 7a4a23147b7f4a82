//! The printer of `discovery.k8s.io/v1` endpoint slices.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`endpointSliceColumnDefinitions`,
//! `printEndpointSlice`, `formatDiscoveryPorts`, `formatDiscoveryEndpoints`). Upstream
//! describes the columns with the `discovery/v1beta1` fields; k8s-openapi has no such type, so
//! they use the `v1` fields of the same names.

use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

use super::format::list_with_more;
use super::{AGE, NAME, Printer, Row, col, decode, field, name_age};

/// `endpointSliceColumnDefinitions`: NAME, ADDRESSTYPE, PORTS, ENDPOINTS, AGE.
pub(super) static ENDPOINT_SLICES: Printer = Printer::new(
    &[
        NAME,
        col("AddressType", field::<EndpointSlice>("addressType")),
        col("Ports", field::<EndpointSlice>("ports")),
        col("Endpoints", field::<EndpointSlice>("endpoints")),
        AGE,
    ],
    |obj, now| {
        let s: EndpointSlice = decode(obj);
        // formatDiscoveryPorts: the port number, else its name, else `*`.
        let ports: Vec<String> = s
            .ports
            .iter()
            .flatten()
            .map(|p| match (p.port, &p.name) {
                (Some(n), _) => n.to_string(),
                (None, Some(name)) => name.clone(),
                (None, None) => "*".into(),
            })
            .collect();
        // formatDiscoveryEndpoints: every address of every endpoint.
        let addresses: Vec<String> = s
            .endpoints
            .iter()
            .flat_map(|e| e.addresses.iter().cloned())
            .collect();
        let (name, age) = name_age(&s.metadata, now);
        Row::cells(vec![
            name,
            json!(s.address_type),
            json!(list_with_more(&ports, ports.len(), 3)),
            json!(list_with_more(&addresses, addresses.len(), 3)),
            age,
        ])
    },
);
