//! Server-side apply (`application/apply-patch+yaml`): the applied configuration of one field
//! manager merged into the live object (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager`,
//! `sigs.k8s.io/structured-merge-diff`).

use serde_json::Value;

use crate::resources::ResourceType;
use crate::status::{Status, StatusDetails};

/// Applies `body` (YAML or JSON) as `manager`'s configuration to `live` (`None`: the object
/// does not exist and is created from it). Returns the object to store.
///
/// # Errors
/// 422 without a field manager (`PatchOptions` validation), 400 for a body that is not an
/// object of the resource's kind.
pub fn apply(
    r: &ResourceType,
    live: Option<&Value>,
    body: &[u8],
    manager: &str,
    _force: bool,
) -> Result<Value, Status> {
    if manager.is_empty() {
        return Err(Status::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            Some(StatusDetails {
                name: String::new(),
                group: "meta.k8s.io".into(),
                kind: "PatchOptions".into(),
            }),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| Status::bad_request(format!("error decoding YAML: {e}")))?;
    let config: Value = serde_saphyr::from_str(text)
        .map_err(|e| Status::bad_request(format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(Status::bad_request(format!(
            "error decoding YAML: an applied configuration is a {} object",
            r.kind
        )));
    }
    Ok(match live {
        None => config,
        Some(live) => {
            let mut merged = live.clone();
            json_patch::merge(&mut merged, &config);
            merged
        }
    })
}
