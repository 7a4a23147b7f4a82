//! The printer of `coordination.k8s.io/v1` leases.
//!
//! Upstream: `pkg/printers/internalversion/printers.go` (`leaseColumnDefinitions`,
//! `printLease`).

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use serde_json::json;

use super::{AGE, NAME, Printer, Row, col, decode, field, name_age};

/// `leaseColumnDefinitions`: NAME, HOLDER (`spec.holderIdentity`, empty when unset), AGE.
pub(super) static LEASES: Printer = Printer::new(
    &[
        NAME,
        col("Holder", field::<LeaseSpec>("holderIdentity")),
        AGE,
    ],
    |obj, now| {
        let l: Lease = decode(obj);
        let holder = l
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.clone())
            .unwrap_or_default();
        let (name, age) = name_age(&l.metadata, now);
        Row::cells(vec![name, json!(holder), age])
    },
);
