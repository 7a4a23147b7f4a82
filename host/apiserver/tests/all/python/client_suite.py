"""The official Python `kubernetes` client against dev-cluster.

Run by `tests/all/python_client.rs` as `python client_suite.py KUBECONFIG`. Drives pods,
configmaps and deployments through the generated API classes (create, list with a label
selector, watch with `timeout_seconds`, strategic merge patch, replace with a stale
resourceVersion, replace, delete), the deployment `scale` subresource, `list_namespace` and a
`coordination.k8s.io` Lease, and prints one JSON line of what it saw for the Rust test to
assert. Every object the client returns has been through the client's own deserialization
(`ApiClient.deserialize`, with its required-field checks), so a response it cannot model fails
the script.

Upstream: kubernetes-client/python `kubernetes/client/api/*_api.py`, `kubernetes/watch/watch.py`.
"""

import datetime
import json
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "py-suite"
SELECTOR = "suite=py"
# Long enough for every change below to happen inside the watch; the stream then ends when the
# server closes it.
WATCH_SECONDS = 6


class Watcher(threading.Thread):
    """Watches one collection from `resource_version` until the server ends the stream."""

    def __init__(self, func, resource_version):
        super().__init__(daemon=True)
        self.func = func
        self.resource_version = resource_version
        self.events = []
        self.ended = False
        self.error = None
        self.seconds = None

    def run(self):
        began = time.monotonic()
        try:
            w = watch.Watch()
            for e in w.stream(
                self.func,
                NS,
                label_selector=SELECTOR,
                resource_version=self.resource_version,
                timeout_seconds=WATCH_SECONDS,
            ):
                obj = e["object"]
                self.events.append(
                    [e["type"], obj.metadata.name, obj.metadata.resource_version]
                )
            self.ended = True
            self.seconds = time.monotonic() - began
        except Exception as err:  # reported, and the Rust test fails on it
            self.error = repr(err)


def conflict(fn, *args):
    """Calls `fn(*args)`, expecting an ApiException; returns what the client made of it."""
    try:
        fn(*args)
    except ApiException as e:
        body = json.loads(e.body)
        return {
            "status": e.status,
            "reason": e.reason,
            "body_kind": body.get("kind"),
            "body_code": body.get("code"),
            "body_reason": body.get("reason"),
            "body_message": body.get("message"),
            "body_details": body.get("details"),
        }
    return None


def names(items):
    return [i.metadata.name for i in items]


def configmaps(core, out):
    """ConfigMaps, built from the client's models."""
    r = {}
    made = core.create_namespaced_config_map(
        NS,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="x", labels={"suite": "py"}),
            data={"a": "1", "b": "2"},
        ),
    )
    core.create_namespaced_config_map(
        NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="unlabelled"))
    )
    r["created"] = [made.metadata.name, made.metadata.resource_version, made.data]
    listed = core.list_namespaced_config_map(NS, label_selector=SELECTOR)
    r["listed"] = names(listed.items)
    r["list_kind"] = [listed.kind, listed.api_version]
    stale = core.read_namespaced_config_map("x", NS)
    # A dict body: the client sends application/strategic-merge-patch+json.
    patched = core.patch_namespaced_config_map("x", NS, {"data": {"b": "20", "c": "3"}})
    r["patched"] = [patched.metadata.resource_version, patched.data]
    stale.data["a"] = "stale"
    r["conflict"] = conflict(core.replace_namespaced_config_map, "x", NS, stale)
    fresh = core.read_namespaced_config_map("x", NS)
    fresh.data["a"] = "fresh"
    replaced = core.replace_namespaced_config_map("x", NS, fresh)
    r["replaced"] = [replaced.metadata.resource_version, replaced.data]
    # A list body: the client sends application/json-patch+json.
    jp = core.patch_namespaced_config_map(
        "unlabelled", NS, [{"op": "add", "path": "/data", "value": {"k": "v"}}]
    )
    r["json_patched"] = jp.data
    status = core.delete_namespaced_config_map("x", NS)
    r["deleted"] = [status.kind, status.status, status.details.name, status.details.kind]
    r["after_delete"] = conflict(core.read_namespaced_config_map, "x", NS)
    out["configmaps"] = r


def pods(core, out):
    """Pods, from dict bodies."""
    r = {}

    def pod(name, labels):
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "containers": [
                    {"name": "app", "image": "nginx:1"},
                    {"name": "sidecar", "image": "busybox:1"},
                ]
            },
        }

    made = core.create_namespaced_pod(NS, pod("web-0", {"suite": "py", "app": "web"}))
    core.create_namespaced_pod(NS, pod("db-0", {"app": "db"}))
    r["created"] = [made.metadata.name, made.metadata.resource_version]
    r["listed"] = names(core.list_namespaced_pod(NS, label_selector=SELECTOR).items)
    r["listed_all"] = sorted(names(core.list_namespaced_pod(NS).items))
    stale = core.read_namespaced_pod("web-0", NS)
    # Strategic merge: containers merge by name, so sidecar stays.
    patched = core.patch_namespaced_pod(
        "web-0",
        NS,
        {
            "metadata": {"labels": {"patched": "yes"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:2"}]},
        },
    )
    r["patched"] = [
        patched.metadata.resource_version,
        [[c.name, c.image] for c in patched.spec.containers],
        patched.metadata.labels,
    ]
    stale.metadata.labels["replaced"] = "stale"
    r["conflict"] = conflict(core.replace_namespaced_pod, "web-0", NS, stale)
    fresh = core.read_namespaced_pod("web-0", NS)
    fresh.metadata.labels["replaced"] = "yes"
    replaced = core.replace_namespaced_pod("web-0", NS, fresh)
    r["replaced"] = [replaced.metadata.resource_version, replaced.metadata.labels]
    gone = core.delete_namespaced_pod("web-0", NS)
    r["deleted"] = [gone.kind, gone.metadata.name, gone.metadata.resource_version]
    out["pods"] = r


def deployments(apps, out):
    """Deployments, from dict bodies, and their scale subresource."""
    r = {}

    def deployment(name, labels):
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "nginx:1"},
                            {"name": "sidecar", "image": "busybox:1"},
                        ]
                    },
                },
            },
        }

    made = apps.create_namespaced_deployment(NS, deployment("web", {"suite": "py"}))
    apps.create_namespaced_deployment(NS, deployment("other", {}))
    r["created"] = [made.metadata.name, made.metadata.resource_version, made.metadata.generation]
    r["listed"] = names(apps.list_namespaced_deployment(NS, label_selector=SELECTOR).items)
    stale = apps.read_namespaced_deployment("web", NS)
    patched = apps.patch_namespaced_deployment(
        "web",
        NS,
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}},
    )
    r["patched"] = [
        patched.metadata.resource_version,
        [[c.name, c.image] for c in patched.spec.template.spec.containers],
        patched.metadata.generation,
    ]
    stale.spec.replicas = 5
    r["conflict"] = conflict(apps.replace_namespaced_deployment, "web", NS, stale)
    scale = apps.read_namespaced_deployment_scale("web", NS)
    r["scale"] = [scale.kind, scale.api_version, scale.spec.replicas, scale.status.selector]
    scaled = apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 3}})
    r["scaled"] = [scaled.spec.replicas, scaled.metadata.resource_version]
    fresh = apps.read_namespaced_deployment("web", NS)
    r["after_scale"] = [
        fresh.spec.replicas,
        fresh.metadata.resource_version,
        fresh.metadata.generation,
    ]
    fresh.metadata.labels["replaced"] = "yes"
    replaced = apps.replace_namespaced_deployment("web", NS, fresh)
    r["replaced"] = [
        replaced.metadata.resource_version,
        replaced.metadata.labels,
        replaced.metadata.generation,
    ]
    status = apps.delete_namespaced_deployment("web", NS)
    r["deleted"] = [status.kind, status.status, status.details.name, status.details.kind]
    out["deployments"] = r


def lease(coord, out):
    """A coordination.k8s.io Lease created and then renewed by another holder."""
    t0 = datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)
    made = coord.create_namespaced_lease(
        NS,
        client.V1Lease(
            metadata=client.V1ObjectMeta(name="py-lock"),
            spec=client.V1LeaseSpec(
                holder_identity="a",
                lease_duration_seconds=15,
                acquire_time=t0,
                renew_time=t0,
            ),
        ),
    )
    t1 = t0 + datetime.timedelta(seconds=10)
    made.spec.holder_identity = "b"
    made.spec.renew_time = t1
    made.spec.lease_transitions = 1
    updated = coord.replace_namespaced_lease("py-lock", NS, made)
    out["lease"] = {
        "created": [made.metadata.resource_version, made.spec.lease_duration_seconds],
        "updated": [
            updated.metadata.resource_version,
            updated.spec.holder_identity,
            updated.spec.acquire_time.isoformat(),
            updated.spec.renew_time.isoformat(),
            updated.spec.lease_transitions,
        ],
    }


def main():
    config.load_kube_config(config_file=sys.argv[1])
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    coord = client.CoordinationV1Api()
    out = {}
    ns = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    out["namespace"] = [ns.metadata.name, ns.status.phase]
    out["namespaces"] = names(core.list_namespace().items)

    # Each watch starts at its (empty) list's resourceVersion, so it sees every change below
    # whenever its connection is made.
    watchers = {
        "configmaps": Watcher(
            core.list_namespaced_config_map,
            core.list_namespaced_config_map(NS, label_selector=SELECTOR).metadata.resource_version,
        ),
        "pods": Watcher(
            core.list_namespaced_pod,
            core.list_namespaced_pod(NS, label_selector=SELECTOR).metadata.resource_version,
        ),
        "deployments": Watcher(
            apps.list_namespaced_deployment,
            apps.list_namespaced_deployment(NS, label_selector=SELECTOR).metadata.resource_version,
        ),
    }
    for w in watchers.values():
        w.start()
    configmaps(core, out)
    pods(core, out)
    deployments(apps, out)
    lease(coord, out)
    out["watch"] = {}
    for name, w in watchers.items():
        w.join(WATCH_SECONDS + 10)
        out["watch"][name] = {
            "from": w.resource_version,
            "events": w.events,
            "ended": w.ended,
            "error": w.error,
            "seconds": w.seconds,
        }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
