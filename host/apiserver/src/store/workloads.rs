//! The status the controllers would write for the apps workloads, written at once: the
//! emulator runs no controllers (no ReplicaSets or pods are created from a Deployment), so a
//! workload reads as fully rolled out at its current generation, and `kubectl rollout status`
//! ends with "successfully rolled out" instead of waiting forever.
//!
//! The fields and conditions are those of `pkg/controller/deployment/sync.go`
//! (`calculateStatus`, `MinimumReplicasAvailable`, `NewReplicaSetAvailable`),
//! `pkg/controller/replicaset/replica_set_utils.go`, `pkg/controller/statefulset/stateful_set_control.go`
//! and `pkg/controller/daemon/daemon_controller.go` (one node: one pod wanted); the checks they
//! satisfy are kubectl's `pkg/polymorphichelpers/rollout_status.go`.

use serde_json::{Value, json};

use crate::resources::ResourceType;

/// Writes the settled status of an apps workload (nothing for other resources).
pub(super) fn settle(r: &ResourceType, obj: &mut Value) {
    if r.group != "apps" {
        return;
    }
    let generation = obj["metadata"]["generation"].as_i64().unwrap_or(1);
    let replicas = obj["spec"]["replicas"].as_i64().unwrap_or(1).max(0);
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let revision = format!("{name}-{}", template_hash(&obj["spec"]["template"]));
    let counts = |status: &mut Value, fields: &[&str], n: i64| {
        for f in fields {
            // Go's omitempty: zero counts are left out.
            if n > 0 {
                status[*f] = json!(n);
            }
        }
    };
    let now = super::now_string();
    let status = match r.resource {
        "deployments" => {
            let mut s = json!({"observedGeneration": generation});
            counts(
                &mut s,
                &[
                    "replicas",
                    "updatedReplicas",
                    "readyReplicas",
                    "availableReplicas",
                ],
                replicas,
            );
            s["conditions"] = json!([
                {"type": "Available", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": "NewReplicaSetAvailable",
                 "message": format!("ReplicaSet \"{revision}\" has successfully progressed.")},
            ]);
            keep_transition_times(&mut s, &obj["status"]);
            let meta = &mut obj["metadata"];
            if meta["annotations"]["deployment.kubernetes.io/revision"].is_null() {
                meta["annotations"]["deployment.kubernetes.io/revision"] = json!("1");
            }
            s
        }
        "replicasets" => {
            let mut s = json!({"replicas": replicas, "observedGeneration": generation});
            counts(
                &mut s,
                &["fullyLabeledReplicas", "readyReplicas", "availableReplicas"],
                replicas,
            );
            s
        }
        "statefulsets" => {
            let mut s = json!({
                "replicas": replicas,
                "observedGeneration": generation,
                "currentRevision": revision,
                "updateRevision": revision,
                "collisionCount": 0,
            });
            counts(
                &mut s,
                &[
                    "readyReplicas",
                    "currentReplicas",
                    "updatedReplicas",
                    "availableReplicas",
                ],
                replicas,
            );
            s
        }
        "daemonsets" => json!({
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberAvailable": 1,
            "numberMisscheduled": 0,
            "numberReady": 1,
            "observedGeneration": generation,
            "updatedNumberScheduled": 1,
        }),
        _ => return,
    };
    obj["status"] = status;
}

/// Keeps each condition's `lastTransitionTime` from `old` when its status did not change, as the
/// controllers' `SetDeploymentCondition` does.
fn keep_transition_times(status: &mut Value, old: &Value) {
    let Some(conds) = status["conditions"].as_array_mut() else {
        return;
    };
    for c in conds {
        if let Some(prev) = old["conditions"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["type"] == c["type"]))
            && prev["status"] == c["status"]
        {
            c["lastTransitionTime"] = prev["lastTransitionTime"].clone();
        }
    }
}

/// A stable 10-character hash of the pod template, in the alphabet of the controllers'
/// `pod-template-hash` (`rand.SafeEncodeString` of a 32-bit FNV hash of the template).
fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let text = serde_json::to_string(template).unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.to_string()
        .bytes()
        .map(|d| ALPHABET[usize::from(d) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn a_deployment_reads_as_rolled_out_at_its_generation() {
        let d = find("apps", "v1", "deployments").unwrap();
        let mut obj = json!({"metadata": {"name": "web", "generation": 3},
                             "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a"}]}}}});
        settle(d, &mut obj);
        let s = &obj["status"];
        assert_eq!(s["observedGeneration"], 3);
        assert_eq!(s["replicas"], 2);
        assert_eq!(s["updatedReplicas"], 2);
        assert_eq!(s["availableReplicas"], 2);
        assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert_eq!(
            obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "1"
        );
        let mut zero = json!({"metadata": {"name": "z"}, "spec": {"replicas": 0}});
        settle(d, &mut zero);
        assert!(zero["status"].get("replicas").is_none(), "omitempty");
    }
}
