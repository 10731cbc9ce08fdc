"""The Kubernetes manifests (deploy/k8s/), checked offline: every overlay renders with
``kubectl kustomize``; every object validates against the Kubernetes 1.32 schemas or, for
the operators' kinds, the schemas in deploy/k8s/schemas/; the Deployments are probed and
unprivileged, their settings are the services' own, and the NetworkPolicies, evaluated here,
let only customers reach the customers' databases and only the gateway be reached from
outside."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy.containers import (
    NGINX_CONFIG,
    SERVICE_PORTS,
    STOREFRONT_ROOT,
    render_nginx_config,
    write_env_files,
)
from deploy.gateway import SERVICES

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
OVERLAYS = ("local", "production")
KUBERNETES_VERSION = "1.32.0"
NAMESPACE = "shop"
# Secrets the operators make: CloudNativePG's <cluster>-app, the RabbitMQ default user.
OPERATOR_SECRET = re.compile(r"^([a-z]+-db-app|rabbitmq-default-user)$")
CRD_SCHEMAS = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmqcluster.rabbitmq.com-v1beta1.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "cluster.postgresql.cnpg.io-v1.json",
    ("external-secrets.io/v1beta1", "ExternalSecret"): (
        "externalsecret.external-secrets.io-v1beta1.json"
    ),
}

Obj = dict[str, Any]


def render(overlay: str, workdir: Path) -> list[Obj]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (CI has it): the manifests cannot be rendered")
    tree = workdir / "k8s"
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("secrets"))
    if overlay == "local":  # its Secrets are generated from files, never committed
        write_env_files(tree / "overlays" / "local" / "secrets", "k8s")
    result = subprocess.run(
        [kubectl, "kustomize", str(tree / "overlays" / overlay)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Obj]]:
    return {name: render(name, tmp_path_factory.mktemp(name)) for name in OVERLAYS}


def of_kind(objects: Iterable[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects: Iterable[Obj], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def pod_spec(deployment: Obj) -> Obj:
    return deployment["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def containers(deployment: Obj, init: bool = True) -> list[Obj]:
    spec = pod_spec(deployment)
    return [*(spec.get("initContainers", []) if init else []), *spec["containers"]]


def service_of(container: Obj) -> str | None:
    """``services.orders`` in the container's arguments -> ``orders``."""
    args = container.get("args") or []
    if args and str(args[0]).startswith("services."):
        return str(args[0]).removeprefix("services.")
    return None


# --- rendering and schemas ---


def test_the_rendered_gateway_config_is_the_template_s(tmp_path: Path) -> None:
    """The ConfigMap and compose mount deploy/k8s/base/gateway/nginx.conf: it must be what
    the template renders today (python -m deploy.containers nginx-config rewrites it)."""
    assert NGINX_CONFIG.read_text() == render_nginx_config()
    text = NGINX_CONFIG.read_text()
    assert "user root" not in text
    assert f"root {STOREFRONT_ROOT};" in text  # where the gateway image keeps the storefront
    for name in SERVICES:
        assert f"server {name}:{SERVICE_PORTS[name]};" in text


def test_every_object_validates(rendered: dict[str, list[Obj]]) -> None:
    for overlay, objects in rendered.items():
        for obj in objects:
            where = f"{overlay}: {obj['kind']}/{obj['metadata']['name']}"
            schema = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
            if schema is not None:
                document = json.loads((SCHEMAS / schema).read_text())
                try:
                    jsonschema.validate(obj, document)
                except jsonschema.ValidationError as exc:
                    pytest.fail(f"{where}: {exc.message}")
                continue
            try:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                pytest.fail(f"{where}: not a Kubernetes {KUBERNETES_VERSION} kind, no schema")


def test_every_object_is_in_the_shop_namespace(rendered: dict[str, list[Obj]]) -> None:
    for objects in rendered.values():
        for obj in objects:
            if obj["kind"] != "Namespace":
                assert obj["metadata"].get("namespace") == NAMESPACE, obj["metadata"]["name"]


def test_a_crd_schema_refuses_a_misspelt_field() -> None:
    document = json.loads((SCHEMAS / CRD_SCHEMAS[("postgresql.cnpg.io/v1", "Cluster")]).read_text())
    cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "x"},
               "spec": {"instance": 3, "storage": {"size": "1Gi"}}}  # fmt: skip
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(cluster, document)


# --- the workloads ---


def test_deployments_are_probed_and_unprivileged(rendered: dict[str, list[Obj]]) -> None:
    for overlay, objects in rendered.items():
        for name, deployment in by_name(objects, "Deployment").items():
            spec = pod_spec(deployment)
            assert spec["securityContext"]["runAsNonRoot"] is True, (overlay, name)
            assert spec.get("automountServiceAccountToken") is False, (overlay, name)
            for container in containers(deployment):
                where = (overlay, name, container["name"])
                context = container["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["readOnlyRootFilesystem"] is True, where
                assert context["capabilities"]["drop"] == ["ALL"], where
                assert context.get("runAsUser", spec["securityContext"].get("runAsUser")) != 0
                assert container["resources"]["requests"], where
                assert container["resources"]["limits"]["memory"], where
                assert not any("hostPort" in port for port in container.get("ports", []))
            for container in containers(deployment, init=False):
                assert container["readinessProbe"]["httpGet"]["path"], (overlay, name)
                assert container["livenessProbe"]["httpGet"]["path"], (overlay, name)
                if service_of(container):
                    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
                    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_each_service_is_migrated_before_it_serves(rendered: dict[str, list[Obj]]) -> None:
    for objects in rendered.values():
        deployments = by_name(objects, "Deployment")
        for name in SERVICES:
            init = pod_spec(deployments[name])["initContainers"]
            assert [c["args"] for c in init] == [[f"services.{name}", "migrate"]]
            assert pod_spec(deployments[name])["containers"][0]["args"] == [
                f"services.{name}",
                "serve",
            ]


def settings_class(name: str) -> type:
    return importlib.import_module(f"services.{name}.config").Settings  # type: ignore[no-any-return]


def placeholder(name: str) -> str:
    """A stand-in value for a setting read from an operator's Secret."""
    return "postgresql://app:pw@db-rw:5432/app" if name.endswith("DATABASE_URL") else "x"


def secret_data(objects: list[Obj], name: str) -> dict[str, str]:
    import base64

    secret = by_name(objects, "Secret")[name]
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


def test_every_setting_is_known_and_validates(
    rendered: dict[str, list[Obj]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each service container's environment names its Settings fields (a variable that is
    not one must only feed another's $(NAME)), and the values are accepted by Settings."""
    for overlay, objects in rendered.items():
        for deployment in of_kind(objects, "Deployment"):
            for container in containers(deployment):
                service = service_of(container)
                if service is None:
                    continue
                env: dict[str, str] = {}
                helpers = set()
                for var in container.get("env", []):
                    env[var["name"]] = var.get("value") or placeholder(var["name"])
                    helpers |= set(re.findall(r"\$\(([A-Z_]+)\)", var.get("value", "")))
                if overlay == "local":  # the generated Secrets are in the render
                    for source in container.get("envFrom", []):
                        env.update(secret_data(objects, source["secretRef"]["name"]))
                fields = {f.upper() for f in settings_class(service).model_fields}
                unknown = set(env) - fields - helpers
                assert not unknown, (overlay, service, unknown)
                with monkeypatch.context() as patched:
                    for key, value in env.items():
                        patched.setenv(key, value)
                    settings = settings_class(service)()
                assert settings.http_port == SERVICE_PORTS[service]  # type: ignore[attr-defined]
                assert settings.http_host == "0.0.0.0"  # type: ignore[attr-defined]


def test_ports_agree(rendered: dict[str, list[Obj]]) -> None:
    for objects in rendered.values():
        services = by_name(objects, "Service")
        for name in SERVICES:
            port = services[name]["spec"]["ports"][0]["port"]
            assert port == SERVICE_PORTS[name]
            deployment = by_name(objects, "Deployment")[name]
            assert pod_spec(deployment)["containers"][0]["ports"][0]["containerPort"] == port


def referenced_secrets(objects: list[Obj]) -> set[str]:
    names = set()
    for deployment in of_kind(objects, "Deployment"):
        for container in containers(deployment):
            names |= {s["secretRef"]["name"] for s in container.get("envFrom", [])}
            names |= {
                v["valueFrom"]["secretKeyRef"]["name"]
                for v in container.get("env", [])
                if "valueFrom" in v
            }
        for volume in pod_spec(deployment).get("volumes", []):
            if "secret" in volume:
                names.add(volume["secret"]["secretName"])
            for source in volume.get("projected", {}).get("sources", []):
                names.add(source["secret"]["name"])
    return names


def test_every_secret_is_provided_and_production_commits_none(
    rendered: dict[str, list[Obj]],
) -> None:
    for overlay, objects in rendered.items():
        provided = set(by_name(objects, "Secret")) | {
            e["spec"]["target"]["name"] for e in of_kind(objects, "ExternalSecret")
        }
        missing = {
            n for n in referenced_secrets(objects) - provided if not OPERATOR_SECRET.match(n)
        }
        assert not missing, (overlay, missing)
    assert not of_kind(rendered["production"], "Secret")


def test_keys_are_mounted_only_where_needed(rendered: dict[str, list[Obj]]) -> None:
    for objects in rendered.values():
        for name, deployment in by_name(objects, "Deployment").items():
            uses = {
                s["secret"]["name"]
                for v in pod_spec(deployment).get("volumes", [])
                for s in v.get("projected", {}).get("sources", [])
            }
            if any(u.startswith("customers-keys") for u in uses):
                assert name == "customers"
            env_names = {
                v["valueFrom"]["secretKeyRef"]["name"]
                for c in containers(deployment)
                for v in c.get("env", [])
                if "valueFrom" in v
            }
            if "keystore-db-app" in env_names:
                assert name == "customers"


def test_scaling_and_disruption(rendered: dict[str, list[Obj]]) -> None:
    for objects in rendered.values():
        autoscalers = by_name(objects, "HorizontalPodAutoscaler")
        budgets = by_name(objects, "PodDisruptionBudget")
        for name in (*SERVICES, "gateway"):
            kinds = {m["type"] for m in autoscalers[name]["spec"]["metrics"]}
            assert "Resource" in kinds
            if name != "gateway":  # the queue's depth, through prometheus-adapter
                (queue,) = [
                    m for m in autoscalers[name]["spec"]["metrics"] if m["type"] == "External"
                ]
                assert queue["external"]["metric"]["selector"]["matchLabels"] == {
                    "queue": f"{name}.events"
                }
            assert budgets[name]["spec"]["selector"]["matchLabels"] == {
                "app.kubernetes.io/name": name
            }
    production = rendered["production"]
    (broker,) = of_kind(production, "RabbitmqCluster")
    assert broker["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in broker["spec"]["rabbitmq"]["additionalConfig"]
    clusters = by_name(production, "Cluster")
    assert set(clusters) == {f"{n}-db" for n in (*SERVICES, "keystore")}
    assert all(c["spec"]["instances"] >= 3 for c in clusters.values())


def test_only_the_gateway_is_exposed(rendered: dict[str, list[Obj]]) -> None:
    for objects in rendered.values():
        for service in of_kind(objects, "Service"):
            assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
            assert not service["spec"].get("externalIPs")
        backends = {
            path["backend"]["service"]["name"]
            for ingress in of_kind(objects, "Ingress")
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        }
        assert backends == {"gateway"}
        for broker in of_kind(objects, "RabbitmqCluster"):
            assert broker["spec"].get("service", {}).get("type", "ClusterIP") == "ClusterIP"


# --- the network policies, evaluated ---


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str | None  # None: outside the cluster
    labels: tuple[tuple[str, str], ...]
    ports: tuple[int, ...] = ()

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "the evaluator knows matchLabels only"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def peer_matches(peer: Obj, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return pod.namespace is None  # the policies' blocks leave out the private ranges
    if pod.namespace is None:
        return False
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": pod.namespace}
        if not selects(peer["namespaceSelector"], namespace_labels):
            return False
    elif pod.namespace != NAMESPACE:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], pod.label_map)


def rule_allows(rule: Obj, peers_key: str, peer: Pod, port: int) -> bool:
    peers = rule.get(peers_key)
    if peers is not None and not any(peer_matches(p, peer) for p in peers):
        return False
    ports = rule.get("ports")
    return ports is None or any(p.get("port") == port for p in ports)


def allowed_one_way(policies: list[Obj], pod: Pod, direction: str, peer: Pod, port: int) -> bool:
    if pod.namespace != NAMESPACE:
        return True  # no policy of ours isolates a pod elsewhere
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [
        p
        for p in policies
        if direction in p["spec"]["policyTypes"]
        and selects(p["spec"]["podSelector"], pod.label_map)
    ]
    if not selecting:
        return True
    return any(
        rule_allows(rule, peers_key, peer, port)
        for policy in selecting
        for rule in policy["spec"].get(key, [])
    )


def connects(policies: list[Obj], source: Pod, target: Pod, port: int) -> bool:
    return allowed_one_way(policies, source, "Egress", target, port) and allowed_one_way(
        policies, target, "Ingress", source, port
    )


def shop_pods(objects: list[Obj]) -> dict[str, Pod]:
    pods = {}
    for name, deployment in by_name(objects, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        ports = tuple(
            p["containerPort"] for c in containers(deployment) for p in c.get("ports", [])
        )
        pods[name] = Pod(name, NAMESPACE, tuple(sorted(labels.items())), ports)
    for name in by_name(objects, "Cluster"):
        pods[name] = Pod(name, NAMESPACE, (("cnpg.io/cluster", name),), (5432,))
    for name in by_name(objects, "RabbitmqCluster"):
        pods[name] = Pod(name, NAMESPACE, (("app.kubernetes.io/name", name),), (5672,))
    return pods


OUTSIDERS = (
    Pod("ingress-controller", "ingress-nginx", (("app.kubernetes.io/name", "ingress-nginx"),)),
    Pod("another-team", "default", (("app.kubernetes.io/name", "gateway"),)),
    Pod("internet", None, ()),
)


def reachers(policies: list[Obj], pods: Iterable[Pod], target: Pod, port: int) -> set[str]:
    return {p.name for p in pods if connects(policies, p, target, port)}


def test_only_customers_reaches_the_customers_databases(rendered: dict[str, list[Obj]]) -> None:
    for overlay, objects in rendered.items():
        policies = of_kind(objects, "NetworkPolicy")
        pods = shop_pods(objects)
        everyone = [*pods.values(), *OUTSIDERS]
        for database in ("customers-db", "keystore-db"):
            got = reachers(policies, everyone, pods[database], 5432)
            assert got == {"customers", database}, (overlay, database, got)
        for name in ("catalog", "orders", "notifications"):
            got = reachers(policies, everyone, pods[f"{name}-db"], 5432)
            assert got == {name, f"{name}-db"}, (overlay, name, got)


def test_from_outside_only_the_gateway_answers(rendered: dict[str, list[Obj]]) -> None:
    for overlay, objects in rendered.items():
        policies = of_kind(objects, "NetworkPolicy")
        pods = shop_pods(objects)
        controller, other, internet = OUTSIDERS
        reached = {
            (target.name, port)
            for target in pods.values()
            for port in target.ports
            if connects(policies, controller, target, port)
        }
        assert reached == {("gateway", 8080)}, overlay
        for outsider in (other, internet):
            assert not any(
                connects(policies, outsider, t, port) for t in pods.values() for port in t.ports
            ), (overlay, outsider.name)


def test_the_shop_s_own_paths_are_open(rendered: dict[str, list[Obj]]) -> None:
    """Default deny must not break the shop: the gateway reaches every service, each service
    the broker, its database and the services it calls; nothing else between services."""
    calls = {("orders", "catalog"), ("customers", "orders"), ("customers", "notifications"),
             ("notifications", "customers")}  # fmt: skip
    for overlay, objects in rendered.items():
        policies = of_kind(objects, "NetworkPolicy")
        pods = shop_pods(objects)
        for name in SERVICES:
            port = SERVICE_PORTS[name]
            assert connects(policies, pods["gateway"], pods[name], port)
            assert connects(policies, pods[name], pods["rabbitmq"], 5672)
            assert connects(policies, pods[name], pods[f"{name}-db"], 5432)
            for caller in SERVICES:
                if caller != name:
                    expected = (caller, name) in calls
                    assert connects(policies, pods[caller], pods[name], port) == expected, (
                        overlay, caller, name,
                    )  # fmt: skip
        broker = reachers(policies, [*pods.values(), *OUTSIDERS], pods["rabbitmq"], 5672)
        standins = {"sandbox-courier", "sandbox-bank"} if overlay == "local" else set()
        assert broker == {*SERVICES, *standins}, (overlay, broker)
        if overlay == "local":
            assert connects(policies, pods["notifications"], pods["smtp-sink"], 8025)
            assert connects(policies, pods["sandbox-courier"], pods["gateway"], 8080)
