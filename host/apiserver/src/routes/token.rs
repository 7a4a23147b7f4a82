//! The `serviceaccounts/token` subresource (TokenRequest).

use std::time::Duration;

use http::{Response, StatusCode};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestStatus};

use super::{Body, Ctx, decode_body, json_response, lock};
use crate::status::Status;
use crate::tokens::{Ref, TokenSigner};

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
