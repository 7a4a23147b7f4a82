//! The apimachinery name checks the Pod validation uses: one copy, in
//! [`pod_introspect_kube::names`] (shared with the API-server emulator's label selectors).

pub(crate) use pod_introspect_kube::names::{
    is_config_map_key, is_dns1123_label, is_dns1123_subdomain, is_qualified_name,
    is_relaxed_env_var_name, is_valid_label_value,
};
