//! Resource types from the API server's discovery, cached in the client (one client per
//! component instance), as kubectl's and client-go's cached discovery client keeps them
//! (`k8s.io/client-go/discovery/aggregated_discovery.go`, `restmapper`).
//!
//! One request each for `/api` and `/apis`, asking for aggregated discovery
//! (apidiscovery.k8s.io/v2, served by kube-apiserver 1.30+) with the legacy documents as the
//! fallback the `Accept` header allows; a server that answers with the legacy `APIVersions` /
//! `APIGroupList` is asked for each group's preferred version's `APIResourceList`. Names resolve
//! with [`pod_introspect_kube::discovery::resolve`] (kubectl's rules).

use pod_introspect_kube::discovery::{self, AGGREGATED_ACCEPT, ApiResource, ResolveError};

use super::{ApiError, Client, MAX_BODY, Transport, read_all, status_error};

impl<T: Transport> Client<T> {
    /// The resource type `name` names (`deploy`, `deployments.apps`, `Lease`), from discovery
    /// read on first use. A name the cached discovery does not know is looked up once more
    /// against fresh discovery (a CRD installed since). Unknown: [`ApiError::Invalid`] with
    /// kubectl's `the server doesn't have a resource type "NAME"`.
    pub fn resolve(&mut self, name: &str) -> Result<ApiResource, ApiError> {
        let fresh = self.discovery.is_none();
        if fresh {
            self.discovery = Some(self.discover()?);
        }
        let found =
            discovery::resolve(name, self.discovery.as_deref().unwrap_or_default()).cloned();
        match found {
            Ok(r) => Ok(r),
            Err(ResolveError::NotFound { .. }) if !fresh => {
                self.discovery = Some(self.discover()?);
                discovery::resolve(name, self.discovery.as_deref().unwrap_or_default())
                    .cloned()
                    .map_err(|e| ApiError::Invalid(e.to_string()))
            }
            Err(e) => Err(ApiError::Invalid(e.to_string())),
        }
    }

    /// Every resource type the server serves, core group first, in discovery's priority order.
    fn discover(&mut self) -> Result<Vec<ApiResource>, ApiError> {
        let mut all = Vec::new();
        match self.discovery_document("/api")? {
            Document::Aggregated(resources) => all.extend(resources),
            Document::Legacy(_) => {
                let (_, body) = self.discovery_get("/api/v1")?;
                all.extend(parse(
                    discovery::parse_resource_list(&body, "", "v1"),
                    "/api/v1",
                )?);
            }
        }
        match self.discovery_document("/apis")? {
            Document::Aggregated(resources) => all.extend(resources),
            Document::Legacy(body) => {
                let groups = parse(discovery::parse_group_list(&body), "/apis")?;
                for (group, versions) in groups {
                    let Some(version) = versions.first() else {
                        continue;
                    };
                    let path = format!("/apis/{group}/{version}");
                    let (_, body) = self.discovery_get(&path)?;
                    all.extend(parse(
                        discovery::parse_resource_list(&body, &group, version),
                        &path,
                    )?);
                }
            }
        }
        Ok(all)
    }

    /// `path` asked for aggregated discovery; the answer as aggregated resources or the legacy
    /// body, by its `Content-Type`.
    fn discovery_document(&mut self, path: &str) -> Result<Document, ApiError> {
        let (content_type, body) = self.discovery_get_as(path, AGGREGATED_ACCEPT)?;
        if discovery::is_aggregated(&content_type) {
            Ok(Document::Aggregated(parse(
                discovery::parse_aggregated(&body),
                path,
            )?))
        } else {
            Ok(Document::Legacy(body))
        }
    }

    fn discovery_get(&mut self, path: &str) -> Result<(String, Vec<u8>), ApiError> {
        self.discovery_get_as(path, "application/json")
    }

    fn discovery_get_as(
        &mut self,
        path: &str,
        accept: &str,
    ) -> Result<(String, Vec<u8>), ApiError> {
        let mut r = self.send("GET", path, &[("accept".into(), accept.into())], None)?;
        let content_type = r.header("content-type").unwrap_or_default().to_string();
        let body = read_all(r.body.as_mut(), MAX_BODY)?;
        if !(200..300).contains(&r.status) {
            return Err(status_error(r.status, &body));
        }
        Ok((content_type, body))
    }
}

/// A discovery answer.
enum Document {
    /// apidiscovery.k8s.io/v2: every group's resources at once.
    Aggregated(Vec<ApiResource>),
    /// `APIVersions` (`/api`) or `APIGroupList` (`/apis`).
    Legacy(Vec<u8>),
}

fn parse<R>(r: Result<R, String>, path: &str) -> Result<R, ApiError> {
    r.map_err(|e| ApiError::Invalid(format!("discovery document {path}: {e}")))
}
