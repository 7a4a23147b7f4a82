//! ServiceAccounts: list, get, create, and the `token` subresource (TokenRequest).

use std::time::Duration;

use http::{Response, StatusCode};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestStatus};
use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::Value;

use super::list::{
    decode_continue, encode_continue, list_body, list_meta, ns_opt, paginate, parse_limit,
    selectors,
};
use super::{Body, Ctx, decode_body, json_response, lock};
use crate::selectors::META_FIELDS;
use crate::status::Status;
use crate::tokens::{Ref, TokenSigner};

pub(super) fn list_service_accounts(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let (labels, fields) = selectors(ctx.query, META_FIELDS)?;
    let limit = parse_limit(ctx.query)?;
    let cont = match ctx.query.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_continue(c)?),
        None => None,
    };
    let (rv, sas) = {
        let store = lock(ctx.shared);
        (
            store.resource_version(),
            store.service_accounts(ns_opt(ctx.info)),
        )
    };
    let keyed: Vec<(String, ServiceAccount)> = sas
        .into_iter()
        .filter(|s| {
            labels.matches(s.metadata.labels.as_ref())
                && fields.matches(|f| match f {
                    "metadata.name" => s.metadata.name.clone().unwrap_or_default(),
                    "metadata.namespace" => s.metadata.namespace.clone().unwrap_or_default(),
                    _ => String::new(),
                })
        })
        .map(|s| {
            (
                format!(
                    "{}/{}",
                    s.metadata.namespace.as_deref().unwrap_or(""),
                    s.metadata.name.as_deref().unwrap_or("")
                ),
                s,
            )
        })
        .collect();
    let start = cont
        .as_ref()
        .map(|c| c.start.trim_end_matches('\u{0}').to_owned());
    let (page, last, remaining) = paginate(keyed, start.as_deref(), limit);
    let meta = list_meta(rv, last.map(|k| encode_continue(rv, &k)), Some(remaining));
    let items = page
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &list_body("ServiceAccountList", meta, items),
    ))
}

pub(super) fn get_service_account(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    let sa = lock(ctx.shared)
        .service_account(&i.namespace, &i.name)
        .cloned()
        .ok_or_else(|| Status::not_found("serviceaccounts", &i.name))?;
    Ok(json_response(StatusCode::OK, &sa))
}

pub(super) fn create_service_account(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let sa: ServiceAccount = decode_body(ctx, "ServiceAccount", "v1")?;
    let created = lock(ctx.shared).create_service_account(sa, &ctx.info.namespace)?;
    Ok(json_response(StatusCode::CREATED, &created))
}

/// TokenRequest (`pkg/registry/core/serviceaccount/storage/token.go`): `spec.expirationSeconds`
/// defaults to the cluster's `token_ttl` and must be at least 600; `boundObjectRef` may name a
/// Pod of the same namespace (its UID must match when given), which adds the `pod` claim.
pub(super) fn create_token(ctx: &Ctx<'_>) -> Result<Response<Body>, Status> {
    let i = ctx.info;
    let mut tr: TokenRequest = decode_body(ctx, "TokenRequest", "authentication.k8s.io/v1")?;
    let seconds = tr
        .spec
        .expiration_seconds
        .unwrap_or(i64::try_from(ctx.shared.token_ttl.as_secs()).unwrap_or(3607));
    if seconds < 600 {
        return Err(Status::invalid(
            "TokenRequest",
            &i.name,
            &format!(
                "spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 10 minutes"
            ),
        ));
    }
    let (sa_ref, pod_ref) = {
        let store = lock(ctx.shared);
        let sa = store
            .service_account(&i.namespace, &i.name)
            .ok_or_else(|| Status::not_found("serviceaccounts", &i.name))?;
        let sa_ref = Ref {
            name: i.name.clone(),
            uid: sa.metadata.uid.clone().unwrap_or_default(),
        };
        let pod_ref = match &tr.spec.bound_object_ref {
            None => None,
            Some(b) if b.kind.as_deref() == Some("Pod") => {
                let name = b.name.clone().unwrap_or_default();
                let pod = store
                    .pod(&i.namespace, &name)
                    .ok_or_else(|| Status::not_found("pods", &name))?;
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                if b.uid.as_deref().is_some_and(|u| !u.is_empty() && u != uid) {
                    return Err(Status::conflict("pods", &name));
                }
                Some(Ref { name, uid })
            }
            Some(b) => {
                return Err(Status::bad_request(format!(
                    "cannot bind token to object of kind {:?}: only Pod is supported",
                    b.kind.as_deref().unwrap_or("")
                )));
            }
        };
        (sa_ref, pod_ref)
    };
    let mut claims = TokenSigner::claims(
        &i.namespace,
        sa_ref,
        pod_ref,
        Duration::from_secs(u64::try_from(seconds).unwrap_or(3607)),
    );
    if !tr.spec.audiences.is_empty() {
        claims.aud = tr.spec.audiences.clone();
    }
    tr.spec.audiences = claims.aud.clone();
    tr.spec.expiration_seconds = Some(seconds);
    let token = ctx.shared.signer.sign(&claims);
    let exp = k8s_openapi::jiff::Timestamp::from_second(i64::try_from(claims.exp).unwrap_or(0))
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    tr.status = Some(TokenRequestStatus {
        token,
        expiration_timestamp: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(exp),
    });
    tr.metadata.name = Some(i.name.clone());
    tr.metadata.namespace = Some(i.namespace.clone());
    tr.metadata.creation_timestamp = Some(crate::store::now_time());
    Ok(json_response(StatusCode::CREATED, &tr))
}
