//! Upgraded connections (exec, attach, port-forward over SPDY/3.1 or WebSocket): once the API
//! server answers `101 Switching Protocols`, the client's and the API server's connections are
//! spliced byte for byte (apimachinery `pkg/util/proxy/upgradeaware.go`).

use http::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::body::ProxyBody;
use crate::proxy::upstream::UpstreamIncoming;

/// Answers the client with the API server's `101` (headers as sent) and, in a task, copies bytes
/// both ways between the two upgraded connections until either side closes. `client` is the
/// client's pending upgrade (`None` if hyper could not offer one: then only the `101` is
/// passed on).
pub(super) fn splice(
    client: Option<OnUpgrade>,
    mut resp: Response<UpstreamIncoming>,
) -> Response<ProxyBody> {
    let upstream_upgrade = hyper::upgrade::on(&mut resp);
    if let Some(client_upgrade) = client {
        tokio::spawn(async move {
            match tokio::try_join!(client_upgrade, upstream_upgrade) {
                Ok((client, upstream)) => {
                    let mut client = TokioIo::new(client);
                    let mut upstream = TokioIo::new(upstream);
                    match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                        Ok((to_server, to_client)) => {
                            tracing::debug!(to_server, to_client, "upgraded connection closed")
                        }
                        Err(e) => tracing::debug!("upgraded connection ended: {e}"),
                    }
                }
                Err(e) => tracing::warn!("upgrade failed: {e}"),
            }
        });
    }
    let (parts, _) = resp.into_parts();
    Response::from_parts(parts, ProxyBody::empty())
}
