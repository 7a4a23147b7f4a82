//! The `scale` subresource of deployments, replicasets and statefulsets: an `autoscaling/v1`
//! `Scale` view of `spec.replicas` (`pkg/registry/apps/deployment/storage/storage.go`
//! `ScaleREST`, `scaleFromDeployment`). `kubectl scale` patches it.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::objects::{body_value, with_warnings};
use super::{Body, Ctx, json_response, lock};
use crate::status::Status;
use crate::store::{Part, meta};

/// `metav1.FormatLabelSelector` of `spec.selector` (`matchLabels` as `k=v`, expressions as
/// `k in (a,b)`, `k notin (a)`, `k`, `!k`), sorted as Go's `labels.Selector.String()`.
fn selector_string(selector: &Value) -> String {
    let mut terms: Vec<String> = Vec::new();
    if let Some(m) = selector["matchLabels"].as_object() {
        for (k, v) in m {
            terms.push(format!("{k}={}", v.as_str().unwrap_or("")));
        }
    }
    if let Some(exprs) = selector["matchExpressions"].as_array() {
        for e in exprs {
            let key = e["key"].as_str().unwrap_or("");
            let mut values: Vec<&str> = e["values"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            values.sort_unstable();
            terms.push(match e["operator"].as_str().unwrap_or("") {
                "In" => format!("{key} in ({})", values.join(",")),
                "NotIn" => format!("{key} notin ({})", values.join(",")),
                "Exists" => key.to_owned(),
                "DoesNotExist" => format!("!{key}"),
                _ => continue,
            });
        }
    }
    terms.sort();
    terms.join(",")
}

fn scale_of(obj: &Value) -> Value {
    let m = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": {
            "replicas": obj["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector_string(&obj["spec"]["selector"]),
        },
    })
}

/// `get`, `update` and `patch` of `.../NAME/scale`.
pub(super) fn handle(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    let r = ctx.resource;
    let dry_run = ctx.dry_run()?;
    let mut store = lock(ctx.shared);
    let obj = store
        .get(r, ctx.ns(), &i.name)
        .cloned()
        .ok_or_else(|| crate::errors::not_found(r, &i.name))?;
    let current = scale_of(&obj);
    let (scale, unknown) = match i.verb.as_str() {
        "get" => return Ok(json_response(StatusCode::OK, &current)),
        "update" => (body_value(ctx)?, Vec::new()),
        "patch" => {
            let p = super::patch::apply(ctx, Some(&current))?;
            (p.object, p.unknown)
        }
        verb => return Err(crate::errors::method_not_supported(r, verb)),
    };
    let Some(replicas) = scale["spec"]["replicas"].as_i64() else {
        return Err(Status::bad_request("spec.replicas: Required value"));
    };
    if replicas < 0 {
        return Err(crate::status::Status::new(
            422,
            "Invalid",
            format!(
                "Scale.autoscaling \"{}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0",
                i.name
            ),
            None,
        ));
    }
    let mut updated = obj.clone();
    updated["spec"]["replicas"] = json!(replicas);
    let given_rv = meta::resource_version(&scale).to_owned();
    meta::set(&mut updated, "resourceVersion", json!(given_rv));
    let stored = store.update(r, ctx.ns(), &i.name, updated, Part::Main, dry_run)?;
    drop(store);
    Ok(with_warnings(
        json_response(StatusCode::OK, &scale_of(&stored)),
        &unknown,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_print_like_format_label_selector() {
        let s = json!({"matchLabels": {"app": "web", "tier": "a"},
                       "matchExpressions": [{"key": "env", "operator": "In", "values": ["b", "a"]}]});
        assert_eq!(selector_string(&s), "app=web,env in (a,b),tier=a");
    }
}
