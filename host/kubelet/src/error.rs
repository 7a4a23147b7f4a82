//! The errors of [`crate::simulate`] and the API server's field-error format.
//!
//! Upstream: k8s.io/apimachinery `pkg/util/validation/field/errors.go` (`Error.Error`,
//! `ErrorBody`, `ErrorList.ToAggregate`, which drops repeated messages), `pkg/util/errors/errors.go`
//! (the aggregate prints one error as is and several as `[a, b]`) and `pkg/api/errors/errors.go`
//! (`NewInvalid`: `Pod "NAME" is invalid: ...`).

use std::fmt;
use std::io;
use std::path::PathBuf;

use pod_introspect_kube::go_quote;

/// The type of a field error, with the text the API server prints for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldErrorType {
    /// `Not found`: a reference to something that does not exist (a volumeMount's volume).
    NotFound,
    /// `Required value`: a required field is empty.
    Required,
    /// `Duplicate value`: a name that must be unique is repeated.
    Duplicate,
    /// `Invalid value`: the value is malformed or out of range.
    Invalid,
    /// `Unsupported value`: the value is not one of a fixed set, which the message lists.
    NotSupported,
    /// `Forbidden`: the field may not be set here.
    Forbidden,
    /// `Too long`: the value exceeds a size limit (printed without the value).
    TooLong,
}

impl FieldErrorType {
    /// The API server's text for this type, e.g. `Unsupported value`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldErrorType::NotFound => "Not found",
            FieldErrorType::Required => "Required value",
            FieldErrorType::Duplicate => "Duplicate value",
            FieldErrorType::Invalid => "Invalid value",
            FieldErrorType::NotSupported => "Unsupported value",
            FieldErrorType::Forbidden => "Forbidden",
            FieldErrorType::TooLong => "Too long",
        }
    }
}

/// The offending value of a field error: strings print Go-quoted, numbers in decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadValue {
    /// A string value, printed as Go's `%q`.
    Str(String),
    /// An integer value such as a file mode, printed in decimal (`0o1000` prints as `512`).
    Int(i64),
}

/// One API-server validation error, printed as `field: Type: value: detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The error type.
    pub error_type: FieldErrorType,
    /// The field path, e.g. `spec.volumes[0].downwardAPI.fieldRef.fieldPath`.
    pub field: String,
    /// The offending value; `None` for `Required value` and `Forbidden`, which print none.
    pub bad_value: Option<BadValue>,
    /// Extra explanation after the value; may be empty.
    pub detail: String,
}

impl FieldError {
    pub(crate) fn required(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            error_type: FieldErrorType::Required,
            field: field.into(),
            bad_value: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn too_long(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            error_type: FieldErrorType::TooLong,
            field: field.into(),
            bad_value: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            error_type: FieldErrorType::Forbidden,
            field: field.into(),
            bad_value: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(
        field: impl Into<String>,
        value: BadValue,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            error_type: FieldErrorType::Invalid,
            field: field.into(),
            bad_value: Some(value),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_str(
        field: impl Into<String>,
        value: &str,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError::invalid(field, BadValue::Str(value.to_string()), detail)
    }

    pub(crate) fn not_found(field: impl Into<String>, value: &str) -> FieldError {
        FieldError {
            error_type: FieldErrorType::NotFound,
            field: field.into(),
            bad_value: Some(BadValue::Str(value.to_string())),
            detail: String::new(),
        }
    }

    pub(crate) fn duplicate(field: impl Into<String>, value: &str) -> FieldError {
        FieldError {
            error_type: FieldErrorType::Duplicate,
            field: field.into(),
            bad_value: Some(BadValue::Str(value.to_string())),
            detail: String::new(),
        }
    }

    /// `field.NotSupported`: the detail lists the supported values, each Go-quoted, in the order
    /// given (callers pass them sorted, as `sets.List` does).
    pub(crate) fn not_supported(
        field: impl Into<String>,
        value: &str,
        supported: &[&str],
    ) -> FieldError {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|v| go_quote::quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        FieldError {
            error_type: FieldErrorType::NotSupported,
            field: field.into(),
            bad_value: Some(BadValue::Str(value.to_string())),
            detail,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.error_type.as_str())?;
        let prints_value = !matches!(
            self.error_type,
            FieldErrorType::Required | FieldErrorType::Forbidden | FieldErrorType::TooLong
        );
        if prints_value {
            match &self.bad_value {
                Some(BadValue::Str(s)) => write!(f, ": {}", go_quote::quote(s))?,
                Some(BadValue::Int(i)) => write!(f, ": {i}")?,
                None => f.write_str(": null")?,
            }
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The validation errors of one Pod, printed like the API server's aggregate: one error as is,
/// several as `[err1, err2]`. Errors with the same message appear once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Builds the list, dropping errors whose message repeats an earlier one (`ToAggregate`).
    pub(crate) fn dedup(errors: Vec<FieldError>) -> FieldErrors {
        let mut seen = std::collections::HashSet::new();
        FieldErrors(
            errors
                .into_iter()
                .filter(|e| seen.insert(e.to_string()))
                .collect(),
        )
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => Ok(()),
            [one] => write!(f, "{one}"),
            many => {
                f.write_str("[")?;
                for (i, e) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Why [`crate::simulate`] (or [`crate::ContainerSandbox::load`]) failed. Every message names the
/// manifest file or the path involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulateError {
    /// The manifest is not one `v1` `Pod` document, or a value in it cannot be decoded (YAML syntax,
    /// a wrong type, a malformed quantity). The message gives the line and column when known.
    #[error("{manifest}: {message}")]
    Manifest {
        /// The manifest's file name as given in [`crate::SimulateOptions::manifest_name`].
        manifest: String,
        /// What is wrong and where.
        message: String,
    },
    /// The API server would reject the Pod: the errors in its own format, e.g.
    /// `pod.yaml: Pod "x" is invalid: spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: ...`.
    #[error("{manifest}: Pod {} is invalid: {errors}", go_quote::quote(.pod))]
    Invalid {
        /// The manifest's file name.
        manifest: String,
        /// `metadata.name` of the Pod.
        pod: String,
        /// The validation errors, in the API server's order.
        errors: FieldErrors,
    },
    /// `--container` names no container (nor init container) of the Pod.
    #[error("{manifest}: container {} is not valid for pod {}: the pod has {available}", go_quote::quote(.container), go_quote::quote(.pod))]
    ContainerNotFound {
        /// The manifest's file name.
        manifest: String,
        /// `metadata.name` of the Pod.
        pod: String,
        /// The requested container name.
        container: String,
        /// The Pod's container names, comma-separated.
        available: String,
    },
    /// The API server accepts the Pod but the kubelet could not start the container, e.g. a volume
    /// item's `resourceFieldRef.containerName` names no container (`MountVolume.SetUp failed for
    /// volume "podinfo" : container foo not found`).
    #[error("{manifest}: {message}")]
    Kubelet {
        /// The manifest's file name.
        manifest: String,
        /// The kubelet's error, with the container it concerns.
        message: String,
    },
    /// A node allocatable quantity is malformed (see [`crate::NodeAllocatable`]); the message
    /// starts with `--node-allocatable: ` and names the bad item.
    #[error("{0}")]
    NodeAllocatable(String),
    /// A file or directory under the root could not be read or written.
    #[error("{action} {}: {error}", .path.display())]
    Io {
        /// What was being done, e.g. `failed to write`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error (in the message, so not also a `source()` that would repeat it).
        error: io::Error,
    },
    /// `<root>/.pod-introspect/container.json` exists but is not a sandbox description.
    #[error("{}: malformed sandbox description: {message}", .path.display())]
    Sandbox {
        /// The sandbox file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl SimulateError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        SimulateError::Io {
            action,
            path: path.into(),
            error: source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_error_format() {
        let cases = [
            (
                FieldError::required("spec.containers", ""),
                "spec.containers: Required value",
            ),
            (
                FieldError::required(
                    "spec.volumes[0].downwardAPI",
                    "one of fieldRef and resourceFieldRef is required",
                ),
                "spec.volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required",
            ),
            (
                FieldError::invalid(
                    "x.mode",
                    BadValue::Int(512),
                    "must be a number between 0 and 0777 (octal), both inclusive",
                ),
                "x.mode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive",
            ),
            (
                FieldError::invalid_str("x", "a\"b\n", "bad"),
                "x: Invalid value: \"a\\\"b\\n\": bad",
            ),
            (
                FieldError::not_found("m.name", "v"),
                "m.name: Not found: \"v\"",
            ),
            (
                FieldError::duplicate("c.name", "app"),
                "c.name: Duplicate value: \"app\"",
            ),
            (
                FieldError::not_supported("f", "spec.nodeName", &["metadata.name", "metadata.uid"]),
                "f: Unsupported value: \"spec.nodeName\": supported values: \"metadata.name\", \"metadata.uid\"",
            ),
            (
                FieldError::forbidden("s", "may not"),
                "s: Forbidden: may not",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn aggregate_format_drops_repeats() {
        let one = FieldErrors::dedup(vec![FieldError::required("a", "")]);
        assert_eq!(one.to_string(), "a: Required value");
        let many = FieldErrors::dedup(vec![
            FieldError::required("a", ""),
            FieldError::required("b", ""),
            FieldError::required("a", ""),
        ]);
        assert_eq!(many.0.len(), 2);
        assert_eq!(many.to_string(), "[a: Required value, b: Required value]");
        let err = SimulateError::Invalid {
            manifest: "pod.yaml".into(),
            pod: "x".into(),
            errors: many,
        };
        assert_eq!(
            err.to_string(),
            "pod.yaml: Pod \"x\" is invalid: [a: Required value, b: Required value]"
        );
    }
}
