//! The admin kubeconfig written to `state_dir/kubeconfig` (client-go `clientcmd` v1 format):
//! rendered by [`pod_introspect_kube::kubeconfig`], which also reads kubeconfigs for the proxy and
//! `simulate --cluster`, so the writer and the readers share one format.

pub use pod_introspect_kube::kubeconfig::{CLUSTER_NAME, render};
