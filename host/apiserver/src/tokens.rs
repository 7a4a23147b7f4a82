//! ServiceAccount tokens: JWTs shaped like the kubelet's bound tokens, and the admin token.
//!
//! A real cluster signs with RS256/ES256 and publishes the keys at
//! `/openid/v1/jwks`; this emulator signs with HS256 (HMAC-SHA256, a 32-byte secret) because
//! only the shape and the claims matter to clients: `header.payload.signature`, each part
//! base64url without padding, header `{"alg":"HS256","typ":"JWT","kid":...}`, and the claims of
//! `pkg/serviceaccount/claims.go` (`iss`, `sub`, `aud`, `exp`, `iat`, `nbf`, `jti`,
//! `kubernetes.io: {namespace, serviceaccount: {name, uid}, pod?: {name, uid}}`).
//!
//! Validation checks the signature, `iss`, `aud` and the time window `nbf <= now < exp`.
//! Unlike the real server (go-jose's one-minute `DefaultLeeway`) there is no leeway, so an
//! expired token is refused as soon as `exp` passes, which keeps tests short.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;
use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

use crate::ClusterError;

/// The issuer and audience of every token (`--service-account-issuer` of a kubeadm cluster).
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// The `{name, uid}` pair of a ServiceAccount or Pod a token is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    /// Object name.
    pub name: String,
    /// Object UID.
    pub uid: String,
}

/// The private `kubernetes.io` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesClaim {
    /// The ServiceAccount's namespace.
    pub namespace: String,
    /// The pod the token is bound to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Ref>,
    /// The ServiceAccount.
    pub serviceaccount: Ref,
}

/// The claims of a bound ServiceAccount token. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Audiences.
    pub aud: Vec<String>,
    /// Expiry.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// Issuer.
    pub iss: String,
    /// Unique token id.
    pub jti: String,
    /// Kubernetes-specific claims.
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaim,
    /// Not before.
    pub nbf: u64,
    /// `system:serviceaccount:NS:SA`.
    pub sub: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: String,
    #[serde(default)]
    typ: String,
}

/// Why a token was refused (all are a 401 on the wire).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts, bad JSON, or a different algorithm.
    #[error("malformed token")]
    Malformed,
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// Wrong issuer or audience.
    #[error("wrong issuer or audience")]
    WrongIssuer,
    /// `now >= exp`.
    #[error("token has expired")]
    Expired,
    /// `now < nbf`.
    #[error("token is not valid yet")]
    NotYetValid,
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs and verifies tokens with one HMAC-SHA256 secret.
pub struct TokenSigner {
    key: hmac::Key,
    kid: String,
    admin_token: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A signer over `secret` (at least 32 bytes are expected). The key id is the base64url
    /// of the first 16 bytes of SHA-256(secret), the admin token is derived from the secret so
    /// it survives restarts with the same `state_dir`.
    pub fn new(secret: &[u8]) -> Self {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let digest = ring::digest::digest(&ring::digest::SHA256, secret);
        let kid = URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]);
        let admin = hmac::sign(&key, b"pod-introspect admin token");
        let admin_token = format!(
            "pod-introspect-admin.{}",
            URL_SAFE_NO_PAD.encode(admin.as_ref())
        );
        TokenSigner {
            key,
            kid,
            admin_token,
        }
    }

    /// 32 fresh random bytes for [`TokenSigner::new`].
    pub fn generate_secret() -> Result<Vec<u8>, ClusterError> {
        let mut secret = vec![0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| ClusterError::Pki("system random number generator failed".into()))?;
        Ok(secret)
    }

    /// Encodes a secret for the `sa-signing.key` file (standard base64).
    pub fn encode_secret(secret: &[u8]) -> String {
        STANDARD.encode(secret)
    }

    /// Decodes the `sa-signing.key` file.
    pub fn decode_secret(text: &str) -> Result<Vec<u8>, ClusterError> {
        STANDARD.decode(text.trim()).map_err(|e| {
            ClusterError::Pki(format!("service account signing key is not base64: {e}"))
        })
    }

    /// The opaque admin bearer token (a `system:masters` user, like a static token file entry).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Builds the claims of a token for `namespace/sa` valid for `ttl` from now.
    pub fn claims(namespace: &str, sa: Ref, pod: Option<Ref>, ttl: Duration) -> Claims {
        let now = now_unix();
        Claims {
            aud: vec![ISSUER.to_owned()],
            exp: now + ttl.as_secs().max(1),
            iat: now,
            iss: ISSUER.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            sub: format!("system:serviceaccount:{namespace}:{}", sa.name),
            kubernetes: KubernetesClaim {
                namespace: namespace.to_owned(),
                pod,
                serviceaccount: sa,
            },
            nbf: now,
        }
    }

    /// Signs `claims` into a compact JWT.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header {
            alg: "HS256".into(),
            kid: self.kid.clone(),
            typ: "JWT".into(),
        };
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{h}.{p}");
        let sig = hmac::sign(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// Verifies a JWT at time `now` (Unix seconds) and returns its claims.
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        if header.alg != "HS256" {
            return Err(TokenError::Malformed);
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| TokenError::Malformed)?;
        let signing_input = &token[..h.len() + 1 + p.len()];
        hmac::verify(&self.key, signing_input.as_bytes(), &sig)
            .map_err(|_| TokenError::BadSignature)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        if claims.iss != ISSUER || !claims.aud.iter().any(|a| a == ISSUER) {
            return Err(TokenError::WrongIssuer);
        }
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        if now < claims.nbf {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::new(&[7u8; 32])
    }

    fn sa() -> Ref {
        Ref {
            name: "reader".into(),
            uid: "u1".into(),
        }
    }

    #[test]
    fn round_trip_and_shape() {
        let s = signer();
        let claims = TokenSigner::claims("ns1", sa(), None, Duration::from_secs(3607));
        let token = s.sign(&claims);
        assert_eq!(token.split('.').count(), 3);
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["typ"], "JWT");
        let got = s.verify(&token, claims.iat).unwrap();
        assert_eq!(got, claims);
        assert_eq!(got.sub, "system:serviceaccount:ns1:reader");
        assert_eq!(got.exp - got.iat, 3607);
        let payload: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(payload["kubernetes.io"]["serviceaccount"]["name"], "reader");
        assert!(payload["kubernetes.io"].get("pod").is_none());
    }

    #[test]
    fn rejects_bad_tokens() {
        let s = signer();
        let claims = TokenSigner::claims("ns1", sa(), None, Duration::from_secs(10));
        let token = s.sign(&claims);
        assert_eq!(s.verify(&token, claims.exp), Err(TokenError::Expired));
        assert_eq!(
            s.verify(&token, claims.nbf - 1),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            TokenSigner::new(&[8u8; 32]).verify(&token, claims.iat),
            Err(TokenError::BadSignature)
        );
        assert_eq!(s.verify("a.b", 0), Err(TokenError::Malformed));
        assert_eq!(s.verify("", 0), Err(TokenError::Malformed));
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 3, 'x');
        assert!(s.verify(&tampered, claims.iat).is_err());
    }
}
