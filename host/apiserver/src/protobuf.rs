//! Request bodies in the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`),
//! decoded to the JSON object the rest of the server handles.
//!
//! client-go 1.32+ typed clients prefer protobuf for built-in kinds, so `kubectl create
//! configmap|secret|namespace|serviceaccount|deployment|service|role|...`, `kubectl create
//! token` and `kubectl auth can-i` send it, and do not fall back to JSON on a 415. The wire
//! format (`staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go`): the
//! 4-byte prefix `k8s\0`, then a `runtime.Unknown` message (`typeMeta` = 1 with `apiVersion` = 1
//! and `kind` = 2, `raw` = 2, `contentEncoding` = 3, `contentType` = 4) whose `raw` is the object
//! itself, encoded with the field numbers of the types' `generated.proto`
//! (`staging/src/k8s.io/api/*/v1/generated.proto`, `apimachinery/pkg/apis/meta/v1/generated.proto`).
//!
//! Only the messages those commands send are described here ([`MESSAGES`]); any other kind, or
//! a field number not listed, is refused (`415`) with a message saying to send JSON, never
//! dropped silently. Special messages map to their JSON forms as their Go `MarshalJSON`
//! does: `Time` (`seconds` = 1, `nanos` = 2) to RFC 3339, `Quantity` (`string` = 1) to its
//! string, `IntOrString` (`type` = 1, `intVal` = 2, `strVal` = 3) to a number or a string,
//! `bytes` to base64.

use base64::Engine;
use serde_json::{Map, Value, json};

/// The 4-byte prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8; 4] = b"k8s\x00";

/// What a field holds.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    /// `bytes`, base64 in JSON.
    Bytes,
    Msg(&'static Msg),
    /// `map<string, string>`.
    MapStr,
    /// `map<string, bytes>` (base64 values).
    MapBytes,
    /// `map<string, Quantity>`.
    MapQuantity,
    /// `meta/v1.Time`.
    Time,
    /// `util/intstr.IntOrString`.
    IntOrString,
    /// Read and dropped: the `status` of a create, which the registry resets
    /// (`PrepareForCreate`) or computes (reviews, TokenRequest).
    Ignored,
}

/// How often a field occurs, and how its zero value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    /// A Go value field (`string`, `int32`, `bool`, `metav1.Time`): gogo-protobuf always
    /// writes it, so its zero value means "unset" and is left out, as `omitempty` leaves it out
    /// of JSON.
    Value,
    /// A Go pointer field (`*int32`, `*bool`): written only when set, zero included.
    Pointer,
    /// A repeated field.
    Repeated,
}

/// One field of a message: its number, JSON name, kind and cardinality.
#[derive(Debug)]
struct Field(u32, &'static str, Kind, Card);

/// One message type.
#[derive(Debug)]
pub struct Msg {
    name: &'static str,
    fields: &'static [Field],
}

use Kind::*;

const fn f(tag: u32, json: &'static str, kind: Kind) -> Field {
    Field(tag, json, kind, Card::Value)
}
const fn ptr(tag: u32, json: &'static str, kind: Kind) -> Field {
    Field(tag, json, kind, Card::Pointer)
}
const fn rep(tag: u32, json: &'static str, kind: Kind) -> Field {
    Field(tag, json, kind, Card::Repeated)
}

static OWNER_REFERENCE: Msg = Msg {
    name: "OwnerReference",
    fields: &[
        f(1, "kind", Str),
        f(3, "name", Str),
        f(4, "uid", Str),
        f(5, "apiVersion", Str),
        ptr(6, "controller", Bool),
        ptr(7, "blockOwnerDeletion", Bool),
    ],
};
static OBJECT_META: Msg = Msg {
    name: "ObjectMeta",
    fields: &[
        f(1, "name", Str),
        f(2, "generateName", Str),
        f(3, "namespace", Str),
        f(4, "selfLink", Str),
        f(5, "uid", Str),
        f(6, "resourceVersion", Str),
        f(7, "generation", Int),
        f(8, "creationTimestamp", Time),
        f(9, "deletionTimestamp", Time),
        ptr(10, "deletionGracePeriodSeconds", Int),
        f(11, "labels", MapStr),
        f(12, "annotations", MapStr),
        rep(13, "ownerReferences", Msg(&OWNER_REFERENCE)),
        rep(14, "finalizers", Str),
    ],
};

static CONFIG_MAP: Msg = Msg {
    name: "ConfigMap",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "data", MapStr),
        f(3, "binaryData", MapBytes),
        ptr(4, "immutable", Bool),
    ],
};
static SECRET: Msg = Msg {
    name: "Secret",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "data", MapBytes),
        f(3, "type", Str),
        f(4, "stringData", MapStr),
        ptr(5, "immutable", Bool),
    ],
};
static NAMESPACE_SPEC: Msg = Msg {
    name: "NamespaceSpec",
    fields: &[rep(1, "finalizers", Str)],
};
static NAMESPACE: Msg = Msg {
    name: "Namespace",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "spec", Msg(&NAMESPACE_SPEC)),
        f(3, "status", Ignored),
    ],
};
static OBJECT_REFERENCE: Msg = Msg {
    name: "ObjectReference",
    fields: &[
        f(1, "kind", Str),
        f(2, "namespace", Str),
        f(3, "name", Str),
        f(4, "uid", Str),
        f(5, "apiVersion", Str),
        f(6, "resourceVersion", Str),
        f(7, "fieldPath", Str),
    ],
};
static LOCAL_OBJECT_REFERENCE: Msg = Msg {
    name: "LocalObjectReference",
    fields: &[f(1, "name", Str)],
};
static SERVICE_ACCOUNT: Msg = Msg {
    name: "ServiceAccount",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        rep(2, "secrets", Msg(&OBJECT_REFERENCE)),
        rep(3, "imagePullSecrets", Msg(&LOCAL_OBJECT_REFERENCE)),
        ptr(4, "automountServiceAccountToken", Bool),
    ],
};
static SERVICE_PORT: Msg = Msg {
    name: "ServicePort",
    fields: &[
        f(1, "name", Str),
        f(2, "protocol", Str),
        ptr(3, "port", Int),
        f(4, "targetPort", IntOrString),
        f(5, "nodePort", Int),
        ptr(6, "appProtocol", Str),
    ],
};
static SERVICE_SPEC: Msg = Msg {
    name: "ServiceSpec",
    fields: &[
        rep(1, "ports", Msg(&SERVICE_PORT)),
        f(2, "selector", MapStr),
        f(3, "clusterIP", Str),
        f(4, "type", Str),
        rep(5, "externalIPs", Str),
        f(7, "sessionAffinity", Str),
        f(8, "loadBalancerIP", Str),
        rep(9, "loadBalancerSourceRanges", Str),
        f(10, "externalName", Str),
        f(11, "externalTrafficPolicy", Str),
        f(12, "healthCheckNodePort", Int),
        f(13, "publishNotReadyAddresses", Bool),
        ptr(17, "ipFamilyPolicy", Str),
        rep(18, "clusterIPs", Str),
        rep(19, "ipFamilies", Str),
        ptr(20, "allocateLoadBalancerNodePorts", Bool),
        ptr(21, "loadBalancerClass", Str),
        ptr(22, "internalTrafficPolicy", Str),
        ptr(23, "trafficDistribution", Str),
    ],
};
static SERVICE: Msg = Msg {
    name: "Service",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "spec", Msg(&SERVICE_SPEC)),
        f(3, "status", Ignored),
    ],
};
static LABEL_SELECTOR_REQUIREMENT: Msg = Msg {
    name: "LabelSelectorRequirement",
    fields: &[
        f(1, "key", Str),
        f(2, "operator", Str),
        rep(3, "values", Str),
    ],
};
static LABEL_SELECTOR: Msg = Msg {
    name: "LabelSelector",
    fields: &[
        f(1, "matchLabels", MapStr),
        rep(2, "matchExpressions", Msg(&LABEL_SELECTOR_REQUIREMENT)),
    ],
};
static CONTAINER_PORT: Msg = Msg {
    name: "ContainerPort",
    fields: &[
        f(1, "name", Str),
        f(2, "hostPort", Int),
        ptr(3, "containerPort", Int),
        f(4, "protocol", Str),
        f(5, "hostIP", Str),
    ],
};
static ENV_VAR: Msg = Msg {
    name: "EnvVar",
    fields: &[f(1, "name", Str), f(2, "value", Str)],
};
static RESOURCE_REQUIREMENTS: Msg = Msg {
    name: "ResourceRequirements",
    fields: &[f(1, "limits", MapQuantity), f(2, "requests", MapQuantity)],
};
static CONTAINER: Msg = Msg {
    name: "Container",
    fields: &[
        f(1, "name", Str),
        f(2, "image", Str),
        rep(3, "command", Str),
        rep(4, "args", Str),
        f(5, "workingDir", Str),
        rep(6, "ports", Msg(&CONTAINER_PORT)),
        rep(7, "env", Msg(&ENV_VAR)),
        f(8, "resources", Msg(&RESOURCE_REQUIREMENTS)),
        f(13, "terminationMessagePath", Str),
        f(14, "imagePullPolicy", Str),
        f(16, "stdin", Bool),
        f(17, "stdinOnce", Bool),
        f(18, "tty", Bool),
        f(20, "terminationMessagePolicy", Str),
    ],
};
static POD_SPEC: Msg = Msg {
    name: "PodSpec",
    fields: &[
        rep(2, "containers", Msg(&CONTAINER)),
        f(3, "restartPolicy", Str),
        ptr(4, "terminationGracePeriodSeconds", Int),
        f(6, "dnsPolicy", Str),
        f(7, "nodeSelector", MapStr),
        f(8, "serviceAccountName", Str),
        f(10, "nodeName", Str),
        f(11, "hostNetwork", Bool),
        f(19, "schedulerName", Str),
        rep(20, "initContainers", Msg(&CONTAINER)),
    ],
};
static POD_TEMPLATE_SPEC: Msg = Msg {
    name: "PodTemplateSpec",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "spec", Msg(&POD_SPEC)),
    ],
};
static DEPLOYMENT_STRATEGY: Msg = Msg {
    name: "DeploymentStrategy",
    fields: &[f(1, "type", Str)],
};
static DEPLOYMENT_SPEC: Msg = Msg {
    name: "DeploymentSpec",
    fields: &[
        ptr(1, "replicas", Int),
        f(2, "selector", Msg(&LABEL_SELECTOR)),
        f(3, "template", Msg(&POD_TEMPLATE_SPEC)),
        f(4, "strategy", Msg(&DEPLOYMENT_STRATEGY)),
        f(5, "minReadySeconds", Int),
        ptr(6, "revisionHistoryLimit", Int),
        f(7, "paused", Bool),
        ptr(9, "progressDeadlineSeconds", Int),
    ],
};
static DEPLOYMENT: Msg = Msg {
    name: "Deployment",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "spec", Msg(&DEPLOYMENT_SPEC)),
        f(3, "status", Ignored),
    ],
};
static POLICY_RULE: Msg = Msg {
    name: "PolicyRule",
    fields: &[
        rep(1, "verbs", Str),
        rep(2, "apiGroups", Str),
        rep(3, "resources", Str),
        rep(4, "resourceNames", Str),
        rep(5, "nonResourceURLs", Str),
    ],
};
static AGGREGATION_RULE: Msg = Msg {
    name: "AggregationRule",
    fields: &[rep(1, "clusterRoleSelectors", Msg(&LABEL_SELECTOR))],
};
static ROLE: Msg = Msg {
    name: "Role",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        rep(2, "rules", Msg(&POLICY_RULE)),
    ],
};
static CLUSTER_ROLE: Msg = Msg {
    name: "ClusterRole",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        rep(2, "rules", Msg(&POLICY_RULE)),
        f(3, "aggregationRule", Msg(&AGGREGATION_RULE)),
    ],
};
static SUBJECT: Msg = Msg {
    name: "Subject",
    fields: &[
        f(1, "kind", Str),
        f(2, "apiGroup", Str),
        f(3, "name", Str),
        f(4, "namespace", Str),
    ],
};
static ROLE_REF: Msg = Msg {
    name: "RoleRef",
    fields: &[f(1, "apiGroup", Str), f(2, "kind", Str), f(3, "name", Str)],
};
static ROLE_BINDING: Msg = Msg {
    name: "RoleBinding",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        rep(2, "subjects", Msg(&SUBJECT)),
        f(3, "roleRef", Msg(&ROLE_REF)),
    ],
};
static RESOURCE_ATTRIBUTES: Msg = Msg {
    name: "ResourceAttributes",
    fields: &[
        f(1, "namespace", Str),
        f(2, "verb", Str),
        f(3, "group", Str),
        f(4, "version", Str),
        f(5, "resource", Str),
        f(6, "subresource", Str),
        f(7, "name", Str),
    ],
};
static NON_RESOURCE_ATTRIBUTES: Msg = Msg {
    name: "NonResourceAttributes",
    fields: &[f(1, "path", Str), f(2, "verb", Str)],
};
static SSAR_SPEC: Msg = Msg {
    name: "SelfSubjectAccessReviewSpec",
    fields: &[
        f(1, "resourceAttributes", Msg(&RESOURCE_ATTRIBUTES)),
        f(2, "nonResourceAttributes", Msg(&NON_RESOURCE_ATTRIBUTES)),
    ],
};
static SSAR: Msg = Msg {
    name: "SelfSubjectAccessReview",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "spec", Msg(&SSAR_SPEC)),
        f(3, "status", Ignored),
    ],
};
static BOUND_OBJECT_REFERENCE: Msg = Msg {
    name: "BoundObjectReference",
    fields: &[
        f(1, "kind", Str),
        f(2, "apiVersion", Str),
        f(3, "name", Str),
        f(4, "uid", Str),
    ],
};
static TOKEN_REQUEST_SPEC: Msg = Msg {
    name: "TokenRequestSpec",
    fields: &[
        rep(1, "audiences", Str),
        f(3, "boundObjectRef", Msg(&BOUND_OBJECT_REFERENCE)),
        ptr(4, "expirationSeconds", Int),
    ],
};
static TOKEN_REQUEST: Msg = Msg {
    name: "TokenRequest",
    fields: &[
        f(1, "metadata", Msg(&OBJECT_META)),
        f(2, "spec", Msg(&TOKEN_REQUEST_SPEC)),
        f(3, "status", Ignored),
    ],
};

/// The kinds this server decodes from protobuf: (apiVersion, kind, message).
pub static MESSAGES: &[(&str, &str, &Msg)] = &[
    ("v1", "ConfigMap", &CONFIG_MAP),
    ("v1", "Secret", &SECRET),
    ("v1", "Namespace", &NAMESPACE),
    ("v1", "ServiceAccount", &SERVICE_ACCOUNT),
    ("v1", "Service", &SERVICE),
    ("apps/v1", "Deployment", &DEPLOYMENT),
    ("rbac.authorization.k8s.io/v1", "Role", &ROLE),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", &CLUSTER_ROLE),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", &ROLE_BINDING),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        &ROLE_BINDING,
    ),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", &SSAR),
    ("authentication.k8s.io/v1", "TokenRequest", &TOKEN_REQUEST),
];

/// Why a protobuf body was not decoded (the text of a `415`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}; send the object as application/json instead")]
pub struct ProtobufError(String);

fn err(s: impl Into<String>) -> ProtobufError {
    ProtobufError(s.into())
}

/// A protobuf reader over one message's bytes.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self
                .buf
                .split_first()
                .ok_or_else(|| err("a truncated varint"))?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(err("a varint longer than 10 bytes"))
    }

    fn bytes(&mut self) -> Result<&'a [u8], ProtobufError> {
        let n = usize::try_from(self.varint()?).map_err(|_| err("a length too large"))?;
        if n > self.buf.len() {
            return Err(err("a length beyond the end of the message"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next (field number, wire type), or `None` at the end.
    fn key(&mut self) -> Result<Option<(u32, u8)>, ProtobufError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let k = self.varint()?;
        let tag = u32::try_from(k >> 3).map_err(|_| err("a field number too large"))?;
        Ok(Some((tag, (k & 7) as u8)))
    }
}

fn utf8(b: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(b.to_vec()).map_err(|_| err("a string that is not UTF-8"))
}

fn b64(b: &[u8]) -> Value {
    json!(base64::engine::general_purpose::STANDARD.encode(b))
}

/// A `map` entry: key = 1, value = 2.
fn map_entry(bytes: &[u8], value: Kind) -> Result<(String, Value), ProtobufError> {
    let mut r = Reader { buf: bytes };
    let (mut k, mut v) = (String::new(), Value::Null);
    while let Some((tag, wire)) = r.key()? {
        if wire != 2 {
            return Err(err("a map entry field that is not length-delimited"));
        }
        let b = r.bytes()?;
        match tag {
            1 => k = utf8(b)?,
            2 => {
                v = match value {
                    Bytes => b64(b),
                    Kind::Str => json!(utf8(b)?),
                    _ => quantity(b)?,
                }
            }
            _ => return Err(err(format!("map entry field {tag}"))),
        }
    }
    if v.is_null() {
        v = match value {
            Kind::Str | Bytes => json!(""),
            _ => json!("0"),
        };
    }
    Ok((k, v))
}

/// `resource.Quantity` (`string` = 1) as its string.
fn quantity(bytes: &[u8]) -> Result<Value, ProtobufError> {
    let mut r = Reader { buf: bytes };
    let mut s = String::new();
    while let Some((tag, wire)) = r.key()? {
        match (tag, wire) {
            (1, 2) => s = utf8(r.bytes()?)?,
            _ => return Err(err(format!("Quantity field {tag}"))),
        }
    }
    Ok(json!(s))
}

/// `meta/v1.Time` as RFC 3339 in UTC, whole seconds (`Time.MarshalJSON`); the zero time is
/// `null`.
fn time(bytes: &[u8]) -> Result<Value, ProtobufError> {
    let mut r = Reader { buf: bytes };
    let mut seconds = 0i64;
    while let Some((tag, wire)) = r.key()? {
        match (tag, wire) {
            (1, 0) => seconds = r.varint()? as i64,
            (2, 0) => {
                r.varint()?;
            }
            _ => return Err(err(format!("Time field {tag}"))),
        }
    }
    // Go's zero time.Time (0001-01-01T00:00:00Z) is JSON null.
    if seconds == -62_135_596_800 {
        return Ok(Value::Null);
    }
    let ts = k8s_openapi::jiff::Timestamp::from_second(seconds)
        .map_err(|_| err("a Time out of range"))?;
    Ok(json!(crate::store::format_time(ts)))
}

/// `IntOrString` (`type` = 1: 0 int, 1 string; `intVal` = 2; `strVal` = 3).
fn int_or_string(bytes: &[u8]) -> Result<Value, ProtobufError> {
    let mut r = Reader { buf: bytes };
    let (mut ty, mut i, mut s) = (0u64, 0i64, String::new());
    while let Some((tag, wire)) = r.key()? {
        match (tag, wire) {
            (1, 0) => ty = r.varint()?,
            (2, 0) => i = r.varint()? as i32 as i64,
            (3, 2) => s = utf8(r.bytes()?)?,
            _ => return Err(err(format!("IntOrString field {tag}"))),
        }
    }
    Ok(if ty == 1 { json!(s) } else { json!(i) })
}

fn decode_msg(msg: &Msg, bytes: &[u8]) -> Result<Value, ProtobufError> {
    let mut r = Reader { buf: bytes };
    let mut out = Map::new();
    while let Some((tag, wire)) = r.key()? {
        let Some(Field(_, name, kind, card)) = msg.fields.iter().find(|f| f.0 == tag) else {
            return Err(err(format!(
                "dev-cluster does not decode field {tag} of the protobuf message {}",
                msg.name
            )));
        };
        let value = match (kind, wire) {
            (Ignored, 2) => {
                r.bytes()?;
                continue;
            }
            (Bool, 0) => json!(r.varint()? != 0),
            (Int, 0) => json!(r.varint()? as i64),
            (Kind::Str, 2) => json!(utf8(r.bytes()?)?),
            (Bytes, 2) => b64(r.bytes()?),
            (Msg(m), 2) => decode_msg(m, r.bytes()?)?,
            (Time, 2) => time(r.bytes()?)?,
            (IntOrString, 2) => int_or_string(r.bytes()?)?,
            (MapStr | MapBytes | MapQuantity, 2) => {
                let value_kind = match kind {
                    MapStr => Kind::Str,
                    MapBytes => Bytes,
                    _ => MapQuantity,
                };
                let (k, v) = map_entry(r.bytes()?, value_kind)?;
                let m = out
                    .entry(name.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(m) = m.as_object_mut() {
                    m.insert(k, v);
                }
                continue;
            }
            _ => {
                return Err(err(format!(
                    "field {tag} of {} has wire type {wire}, not the type's",
                    msg.name
                )));
            }
        };
        let zero = matches!(&value, Value::Null)
            || value == json!("")
            || value == json!(0)
            || value == json!(false);
        if *card == Card::Value && zero {
            continue;
        }
        if *card == Card::Repeated {
            let list = out
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Some(a) = list.as_array_mut() {
                a.push(value);
            }
        } else {
            out.insert(name.to_string(), value);
        }
    }
    Ok(Value::Object(out))
}

/// Decodes a whole request body (`k8s\0` + `runtime.Unknown`) to the JSON object, with its
/// `apiVersion` and `kind` from the envelope.
///
/// # Errors
/// A [`ProtobufError`] for a body without the prefix, a malformed message, a kind not in
/// [`MESSAGES`], a field this server does not decode, or a `contentEncoding`.
pub fn decode_object(body: &[u8]) -> Result<Value, ProtobufError> {
    let rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| err("the body does not start with the Kubernetes protobuf prefix k8s\\0"))?;
    let mut r = Reader { buf: rest };
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    while let Some((tag, wire)) = r.key()? {
        match (tag, wire) {
            (1, 2) => {
                let mut tm = Reader { buf: r.bytes()? };
                while let Some((t, w)) = tm.key()? {
                    match (t, w) {
                        (1, 2) => api_version = utf8(tm.bytes()?)?,
                        (2, 2) => kind = utf8(tm.bytes()?)?,
                        _ => return Err(err(format!("TypeMeta field {t}"))),
                    }
                }
            }
            (2, 2) => raw = r.bytes()?,
            (3, 2) => {
                if !r.bytes()?.is_empty() {
                    return Err(err("a contentEncoding"));
                }
            }
            (4, 2) => {
                r.bytes()?;
            }
            _ => return Err(err(format!("runtime.Unknown field {tag}"))),
        }
    }
    let Some((_, _, msg)) = MESSAGES
        .iter()
        .find(|(v, k, _)| *v == api_version && *k == kind)
    else {
        return Err(err(format!(
            "dev-cluster does not decode {api_version} {kind} from protobuf"
        )));
    };
    let mut obj = decode_msg(msg, raw)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length-delimited field.
    fn ld(tag: u8, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![(tag << 3) | 2, bytes.len() as u8];
        v.extend_from_slice(bytes);
        v
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut tm = ld(1, api_version.as_bytes());
        tm.extend(ld(2, kind.as_bytes()));
        let mut body = MAGIC.to_vec();
        body.extend(ld(1, &tm));
        body.extend(ld(2, raw));
        body.extend(ld(3, b""));
        body.extend(ld(4, b""));
        body
    }

    /// What `kubectl create configmap settings --from-literal=a=1` sends (client-go 1.32),
    /// assembled by hand from the field numbers of core/v1 `generated.proto`.
    #[test]
    fn a_config_map_as_kubectl_sends_it() {
        let meta = ld(1, b"settings");
        let mut entry = ld(1, b"a");
        entry.extend(ld(2, b"1"));
        let mut raw = ld(1, &meta);
        raw.extend(ld(2, &entry));
        let got = decode_object(&envelope("v1", "ConfigMap", &raw)).unwrap();
        assert_eq!(
            got,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}})
        );
    }

    #[test]
    fn secrets_carry_bytes_as_base64_and_times_as_rfc3339() {
        let mut entry = ld(1, b"password");
        entry.extend(ld(2, b"s3cr3t"));
        // creationTimestamp {seconds: 1700000000}
        let ts = [8u8, 0x80, 0xe2, 0xcf, 0xaa, 0x06];
        let mut meta = ld(1, b"creds");
        meta.extend(ld(8, &ts));
        let mut raw = ld(1, &meta);
        raw.extend(ld(2, &entry));
        raw.extend(ld(3, b"Opaque"));
        let got = decode_object(&envelope("v1", "Secret", &raw)).unwrap();
        assert_eq!(got["data"]["password"], "czNjcjN0");
        assert_eq!(got["type"], "Opaque");
        assert_eq!(got["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn unknown_kinds_and_fields_are_refused_not_dropped() {
        let e = decode_object(&envelope("batch/v1", "Job", b"")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dev-cluster does not decode batch/v1 Job from protobuf; send the object as application/json instead"
        );
        let raw = ld(9, b"x");
        let e = decode_object(&envelope("v1", "ConfigMap", &raw)).unwrap_err();
        assert!(
            e.to_string()
                .contains("field 9 of the protobuf message ConfigMap"),
            "{e}"
        );
        assert!(decode_object(b"{}").is_err());
        let mut truncated = envelope("v1", "ConfigMap", &ld(1, b"x"));
        truncated.pop();
        assert!(decode_object(&truncated).is_err());
    }
}
