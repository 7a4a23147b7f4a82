//! The cluster PKI: a self-signed CA and a serving certificate signed by it, plus the rustls
//! server configuration (ALPN `h2`, `http/1.1`).
//!
//! The serving certificate carries the SANs kube-apiserver's does (`kubernetes`,
//! `kubernetes.default`, `kubernetes.default.svc`, `kubernetes.default.svc.cluster.local`,
//! see `pkg/controlplane/apiserver/options` / `cmd/kube-apiserver/app/options/options.go`
//! `MaybeDefaultWithSelfSignedCerts`), plus `localhost`, the listen IP, `127.0.0.1` and `::1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use ring::rand::SecureRandom;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::ClusterError;
use crate::files;

/// The CA certificate's common name.
pub const CA_COMMON_NAME: &str = "pod-introspect-dev-cluster-ca";

/// The DNS SANs of the serving certificate (the in-cluster names of the `kubernetes` Service).
pub const SERVING_DNS_NAMES: &[&str] = &[
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
];

fn pki_err(e: rcgen::Error) -> ClusterError {
    ClusterError::Pki(e.to_string())
}

fn random_serial() -> Result<SerialNumber, ClusterError> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ClusterError::Pki("system random number generator failed".into()))?;
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // no leading zero byte
    Ok(SerialNumber::from_slice(&bytes))
}

/// The CA's parameters; deterministic apart from the serial, so a persisted CA key can be
/// turned back into an [`Issuer`] without parsing the certificate.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// The cluster certificate authority.
pub struct ClusterCa {
    /// The CA certificate, PEM.
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for ClusterCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterCa")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

impl ClusterCa {
    /// Generates a new CA (ECDSA P-256), or loads `ca.crt` + `ca.key` from `state_dir` when both
    /// exist there; a newly generated CA is written to `state_dir` (key with mode 0600).
    pub fn load_or_generate(state_dir: Option<&Path>) -> Result<Self, ClusterError> {
        if let Some(dir) = state_dir
            && let (Some(cert_pem), Some(key_pem)) = (
                files::read_optional(dir, files::CA_CERT_FILE)?,
                files::read_optional(dir, files::CA_KEY_FILE)?,
            )
        {
            let key = KeyPair::from_pem(&key_pem).map_err(pki_err)?;
            return Ok(ClusterCa {
                cert_pem,
                issuer: Issuer::new(ca_params(), key),
            });
        }
        let key = KeyPair::generate().map_err(pki_err)?;
        let mut params = ca_params();
        params.serial_number = Some(random_serial()?);
        let cert = params.self_signed(&key).map_err(pki_err)?;
        let cert_pem = cert.pem();
        if let Some(dir) = state_dir {
            files::write_atomic(
                dir,
                files::CA_KEY_FILE,
                key.serialize_pem().as_bytes(),
                true,
            )?;
            files::write_atomic(dir, files::CA_CERT_FILE, cert_pem.as_bytes(), false)?;
        }
        Ok(ClusterCa {
            cert_pem,
            issuer: Issuer::new(ca_params(), key),
        })
    }

    /// Issues a serving certificate for `listen_ip` and returns the rustls server configuration.
    /// With `ip_sans_only` the certificate carries only the listen IP as SAN.
    pub fn serving_config(
        &self,
        listen_ip: IpAddr,
        ip_sans_only: bool,
    ) -> Result<Arc<rustls::ServerConfig>, ClusterError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kube-apiserver");
        params.distinguished_name = dn;
        params.serial_number = Some(random_serial()?);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let mut ips = vec![listen_ip];
        if !ip_sans_only {
            for name in SERVING_DNS_NAMES {
                params
                    .subject_alt_names
                    .push(SanType::DnsName((*name).try_into().map_err(pki_err)?));
            }
            ips.extend([
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]);
        }
        let mut seen = Vec::new();
        for ip in ips {
            if !ip.is_unspecified() && !seen.contains(&ip) {
                seen.push(ip);
                params.subject_alt_names.push(SanType::IpAddress(ip));
            }
        }
        let key = KeyPair::generate().map_err(pki_err)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(pki_err)?;
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(self.cert_pem.as_bytes())
            .map_err(|e: rustls::pki_types::pem::Error| {
                ClusterError::Pki(format!("CA certificate PEM: {e}"))
            })?;
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone(), ca_der];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}
