//! End-to-end tests: the real `pod-introspect` host binary running the real guest component
//! (built for wasm32-wasip2 by `guest/artifact`) against container roots laid out like a kubelet's.
//!
//! Fixtures that stand for kubelet output are written by hand here, in the kubelet's format
//! (pkg/fieldpath/fieldpath.go, pkg/volume/util/atomic_writer.go), never by our own writer.

mod cluster;
mod harness;

mod api;
mod api_events;
mod api_verbs;
mod bundled;
mod commands;
mod downward_mounts;
mod downward_volume;
mod examples;
mod kubectl;
mod leader_election;
mod proxy;
mod proxy_api;
mod proxy_credentials;
mod proxy_h2;
mod proxy_load;
mod proxy_requests;
mod runtimes;
mod watch_cache;
mod watch_pod;
