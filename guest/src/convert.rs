//! Conversions between the guest's model ([`crate::model`], [`crate::api`],
//! [`crate::config_store`]) and the WIT types of [`crate::world`], one function per type.

use crate::api::{
    self, ApiError, DeleteOptions, ListOptions, PatchType, WatchOptions, WriteOptions,
};
use crate::config_store::StoreError;
use crate::model::{PodInfo, Problem, ResourceValue, Source};
use crate::world::exports::pod_introspect::pod::pod_introspect as wit;
use crate::world::exports::wasi::config::store as config;
use pod_introspect_kube::discovery::{ApiResource, GroupVersionResource};

/// WIT `source`.
pub fn source(s: Source) -> wit::Source {
    match s {
        Source::VolumeFile(p) => wit::Source::VolumeFile(p),
        Source::Env(n) => wit::Source::Env(n),
        Source::ServiceAccount(p) => wit::Source::ServiceAccount(p),
        Source::Api(p) => wit::Source::Api(p),
        Source::Config(k) => wit::Source::Env(pod_introspect_kube::contract::config_env_name(&k)),
    }
}

/// WIT `error`.
pub fn error(p: Problem) -> wit::Error {
    match p {
        Problem::NotExposed { field, hint } => {
            wit::Error::NotExposed(wit::NotExposedError { field, hint })
        }
        Problem::Malformed { file, line, reason } => {
            wit::Error::Malformed(wit::MalformedError { file, line, reason })
        }
        Problem::Io { path, message } => wit::Error::Io(wit::IoError { path, message }),
        Problem::Api(e) => wit::Error::Api(api_error(e)),
    }
}

/// WIT `resource-value` of resource `name`.
pub fn resource(name: String, r: ResourceValue) -> wit::ResourceValue {
    wit::ResourceValue {
        name,
        value: r.value,
        divisor: r.divisor,
        millicores: r.millicores,
        bytes: r.bytes,
    }
}

/// WIT `command-report`, from the report `info-report` builds.
pub fn command_report(r: crate::report::InfoReport) -> wit::CommandReport {
    wit::CommandReport {
        json: r.json,
        error_count: r.error_count,
        nothing_found: r.nothing_found,
    }
}

/// WIT `pod-info`.
pub fn info(info: PodInfo) -> wit::PodInfo {
    wit::PodInfo {
        name: info.name,
        namespace: info.namespace,
        uid: info.uid,
        labels: info.labels.map(|m| m.into_iter().collect()),
        annotations: info.annotations.map(|m| m.into_iter().collect()),
        node_name: info.node_name,
        service_account_name: info.service_account_name,
        host_ip: info.host_ip,
        host_ips: info.host_ips,
        pod_ip: info.pod_ip,
        pod_ips: info.pod_ips,
        resources: info
            .resources
            .into_iter()
            .map(|(n, r)| resource(n, r))
            .collect(),
        sources: info
            .sources
            .into_iter()
            .map(|(field, s)| wit::FieldSource {
                field,
                source: source(s),
            })
            .collect(),
        errors: info.errors.into_iter().map(field_error).collect(),
    }
}

/// WIT `field-error`.
fn field_error(e: crate::model::FieldError) -> wit::FieldError {
    wit::FieldError {
        field: e.field,
        source: e.source.map(source),
        error: error(e.problem),
    }
}

/// WIT `pod-change`, with its JSON line.
pub fn pod_change(c: crate::pod_changes::PodChange) -> wit::PodChange {
    let json = c.to_json();
    let keys = |v: Vec<crate::pod_changes::KeyChange>| -> Vec<wit::KeyChange> {
        v.into_iter()
            .map(|k| wit::KeyChange {
                key: k.key,
                old: k.old,
                new: k.new,
            })
            .collect()
    };
    wit::PodChange {
        labels: keys(c.labels),
        annotations: keys(c.annotations),
        fields: keys(c.fields),
        versions: c.versions,
        errors: c.errors.into_iter().map(field_error).collect(),
        json,
    }
}

/// `wasi:config/store` `error`.
pub fn config_error(e: StoreError) -> config::Error {
    match e {
        StoreError::Io(m) => config::Error::Io(m),
        StoreError::Upstream(m) => config::Error::Upstream(m),
    }
}

/// WIT `api-status`.
pub fn api_status(s: api::ApiStatus) -> wit::ApiStatus {
    wit::ApiStatus {
        code: s.code,
        reason: s.reason,
        message: s.message,
        details: s.details.map(|d| wit::StatusDetails {
            name: d.name,
            group: d.group,
            kind: d.kind,
            uid: d.uid,
            causes: d
                .causes
                .into_iter()
                .map(|c| wit::StatusCause {
                    reason: c.reason,
                    message: c.message,
                    field: c.field,
                })
                .collect(),
            retry_after_seconds: d.retry_after_seconds,
        }),
        status: s.status.into(),
    }
}

/// WIT `api-error`.
pub fn api_error(e: ApiError) -> wit::ApiError {
    match e {
        ApiError::NotInCluster(m) => wit::ApiError::NotInCluster(m),
        ApiError::Credentials(m) => wit::ApiError::Credentials(m),
        ApiError::Unauthorized(s) => wit::ApiError::Unauthorized(api_status(s)),
        ApiError::Forbidden(s) => wit::ApiError::Forbidden(api_status(s)),
        ApiError::NotFound(s) => wit::ApiError::NotFound(api_status(s)),
        ApiError::Gone(s) => wit::ApiError::Gone(api_status(s)),
        ApiError::Conflict(s) => wit::ApiError::Conflict(api_status(s)),
        ApiError::Rejected(s) => wit::ApiError::Rejected(api_status(s)),
        ApiError::ServerError(s) => wit::ApiError::ServerError(api_status(s)),
        ApiError::Transport(m) => wit::ApiError::Transport(m),
        ApiError::Tls(m) => wit::ApiError::Tls(m),
        ApiError::Invalid(m) => wit::ApiError::Invalid(m),
    }
}

/// The client's list options from WIT `list-options`.
pub fn list_options(o: wit::ListOptions) -> ListOptions {
    ListOptions {
        namespace: o.namespace,
        label_selector: o.label_selector,
        field_selector: o.field_selector,
        limit: o.limit,
        continue_token: o.continue_token,
        resource_version: o.resource_version,
        resource_version_match: o.resource_version_match,
        timeout_seconds: o.timeout_seconds,
    }
}

/// WIT `pod-list`.
pub fn pod_list(list: api::PodList) -> wit::PodList {
    wit::PodList {
        items: list.items,
        resource_version: list.resource_version,
        continue_token: list.continue_token,
        remaining_item_count: list.remaining_item_count,
    }
}

/// The watch's options from WIT `watch-options`.
pub fn watch_options(o: wit::WatchOptions) -> WatchOptions {
    WatchOptions {
        namespace: o.namespace,
        label_selector: o.label_selector,
        field_selector: o.field_selector,
        resource_version: o.resource_version,
        allow_bookmarks: o.allow_bookmarks,
        timeout_seconds: o.timeout_seconds,
    }
}

/// WIT `watch-event`.
pub fn watch_event(ev: api::WatchEvent) -> wit::WatchEvent {
    wit::WatchEvent {
        kind: match ev.kind {
            api::EventKind::Added => wit::WatchEventKind::Added,
            api::EventKind::Modified => wit::WatchEventKind::Modified,
            api::EventKind::Deleted => wit::WatchEventKind::Deleted,
            api::EventKind::Bookmark => wit::WatchEventKind::Bookmark,
        },
        object: ev.object,
        resource_version: ev.resource_version,
    }
}

/// WIT `object-list`.
pub fn object_list(list: api::PodList) -> wit::ObjectList {
    wit::ObjectList {
        items: list.items,
        resource_version: list.resource_version,
        continue_token: list.continue_token,
        remaining_item_count: list.remaining_item_count,
    }
}

/// The resource type of WIT `group-version-resource`.
pub fn gvr(g: wit::GroupVersionResource) -> GroupVersionResource {
    GroupVersionResource {
        group: g.group,
        version: g.version,
        resource: g.resource,
    }
}

/// WIT `api-resource`.
pub fn api_resource(r: ApiResource) -> wit::ApiResource {
    wit::ApiResource {
        gvr: wit::GroupVersionResource {
            group: r.group,
            version: r.version,
            resource: r.resource,
        },
        kind: r.kind,
        singular_name: r.singular,
        namespaced: r.namespaced,
        verbs: r.verbs,
        short_names: r.short_names,
        subresources: r.subresources,
    }
}

/// The client's write options from WIT `write-options`.
pub fn write_options(o: wit::WriteOptions) -> WriteOptions {
    WriteOptions {
        dry_run: o.dry_run,
        field_manager: o.field_manager,
        field_validation: o.field_validation,
        subresource: o.subresource,
        force: o.force,
    }
}

/// The client's patch type from WIT `patch-type`.
pub fn patch_type(t: wit::PatchType) -> PatchType {
    match t {
        wit::PatchType::Json => PatchType::Json,
        wit::PatchType::Merge => PatchType::Merge,
        wit::PatchType::Strategic => PatchType::Strategic,
        wit::PatchType::Apply => PatchType::Apply,
    }
}

/// The client's delete options from WIT `delete-options`.
pub fn delete_options(o: wit::DeleteOptions) -> DeleteOptions {
    DeleteOptions {
        grace_period_seconds: o.grace_period_seconds,
        propagation_policy: o.propagation_policy.map(|p| match p {
            wit::PropagationPolicy::Orphan => "Orphan",
            wit::PropagationPolicy::Background => "Background",
            wit::PropagationPolicy::Foreground => "Foreground",
        }),
        precondition_uid: o.precondition_uid,
        precondition_resource_version: o.precondition_resource_version,
        dry_run: o.dry_run,
    }
}
