"""Flagger `Canary` and `MetricTemplate` objects, parsed from plain dicts into validated models.

The user keeps the ``flagger.app`` YAML they already have; it is read from git
as configuration (never applied: there is no CRD). Everything is checked
before any cluster, Prometheus or webhook work, and every failure names the
file, document, object and field, e.g.::

    apps/podinfo/canary.yaml: document 1 (Canary test/podinfo):
    spec.analysis.metrics[0].templateRef: MetricTemplate test/latency does not exist

Flagger's defaults are kept where they make sense here: interval 1m,
threshold 1, maxWeight 100, progressDeadlineSeconds 600, metric interval 1m,
webhook timeout 10s. One deliberate difference: Flagger raises intervals
under 10s to 10s; we take the interval as written (a CronJob cannot check
more often than it runs anyway, and tests run with intervals of seconds).

Providers (``spec.provider``): ``kubernetes`` (blue/green: needs
``analysis.iterations``), ``gatewayapi:v1`` (weights on an HTTPRoute) and our
``replicas`` (weights as the replica ratio behind the apex Service).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gitops_action.domain.config import Document, ObjectKey, Source
from gitops_action.domain.config_fields import Fields, check_name

GROUP: Final = "flagger.app"
VERSIONS: Final = ("v1beta1",)
DEFAULT_NAMESPACE: Final = "default"

PROVIDERS: Final = ("kubernetes", "gatewayapi:v1", "replicas")
"""Canary providers (routers) we implement."""


@dataclass(frozen=True)
class ProviderDefault:
    """The provider of a Canary without ``spec.provider``, and where it was set
    (Flagger's ``-mesh-provider``: here ``--default-provider`` or
    ``GITOPS_DEFAULT_PROVIDER``), so an error can say where it came from."""

    provider: str = "kubernetes"
    origin: str = (
        "the tool's default; set spec.provider, --default-provider or GITOPS_DEFAULT_PROVIDER"
    )


BUILTIN_DEFAULT: Final = ProviderDefault()
METRIC_PROVIDERS: Final = ("prometheus",)
"""MetricTemplate providers we implement."""
FLAGGER_METRIC_PROVIDERS: Final = (
    "prometheus",
    "datadog",
    "cloudwatch",
    "newrelic",
    "graphite",
    "influxdb",
    "dynatrace",
    "stackdriver",
    "keptn",
    "splunk",
)
BUILTIN_METRICS: Final = ("request-success-rate", "request-duration")

# Flagger's fields, object by object: what this tool honours, and what it refuses
# by name (never silently drops). Anything else is not a Flagger field: refused too.
_REFUSED: Final = "is not supported by this tool (refused rather than ignored)"
HONOURED: Final[Mapping[str, frozenset[str]]] = {
    "spec": frozenset(
        {"provider", "targetRef", "service", "analysis", "canaryAnalysis",
         "progressDeadlineSeconds", "skipAnalysis", "suspend", "autoscalerRef"}
    ),
    "service": frozenset({"name", "port", "portName", "targetPort", "gatewayRefs", "hosts"}),
    "analysis": frozenset(
        {"interval", "threshold", "maxWeight", "stepWeight", "stepWeights", "iterations",
         "metrics", "webhooks", "match"}
    ),
    "metric": frozenset(
        {"name", "interval", "threshold", "thresholdRange", "query", "templateRef",
         "templateVariables"}
    ),
    "webhook": frozenset({"name", "type", "url", "timeout", "metadata"}),
    "template": frozenset({"provider", "query"}),
    "provider": frozenset({"type", "address"}),
}  # fmt: skip
REFUSED: Final[Mapping[str, frozenset[str]]] = {
    "spec": frozenset(
        {"metricsServer", "ingressRef", "routeRef", "upstreamRef", "revertOnDeletion"}
    ),
    "service": frozenset(
        {"portDiscovery", "appProtocol", "timeout", "gateways",
         "delegation", "match", "rewrite", "retries", "headers", "trafficPolicy", "corsPolicy",
         "backends", "apex", "primary", "canary", "mirror", "mirrorWeight"}
    ),
    "analysis": frozenset(
        {"mirror", "mirrorWeight", "stepWeightPromotion", "primaryReadyThreshold",
         "canaryReadyThreshold", "alerts", "sessionAffinity"}
    ),
    "metric": frozenset(),
    "webhook": frozenset({"muteAlert", "retries"}),
    "template": frozenset(),
    "provider": frozenset({"secretRef", "insecureSkipVerify", "headers", "region"}),
}  # fmt: skip


def refuse_unhonoured(fields: Fields, what: str) -> None:
    """Fail on the first field of `fields` this tool does not honour, naming it."""
    for key in fields.data:
        if key in HONOURED[what]:
            continue
        if key in REFUSED[what]:
            raise fields.fail(str(key), f"Flagger's {key} {_REFUSED}")
        raise fields.fail(str(key), f"unknown field (not in Flagger's {what}); refused")


HOOK_TYPES: Final = (
    "confirm-rollout",
    "pre-rollout",
    "rollout",
    "confirm-traffic-increase",
    "confirm-promotion",
    "post-rollout",
    "rollback",
    "event",
)
DEFAULT_INTERVAL: Final = 60.0
DEFAULT_THRESHOLD: Final = 1
DEFAULT_MAX_WEIGHT: Final = 100
DEFAULT_PROGRESS_DEADLINE: Final = 600
DEFAULT_METRIC_INTERVAL: Final = "1m"
DEFAULT_HOOK_TIMEOUT: Final = 10.0


@dataclass(frozen=True)
class ThresholdRange:
    """Bounds a metric value must stay within (inclusive); either may be absent."""

    min: float | None = None
    max: float | None = None

    def holds(self, value: float) -> bool:
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def __str__(self) -> str:
        low = "-inf" if self.min is None else f"{self.min:g}"
        high = "+inf" if self.max is None else f"{self.max:g}"
        return f"[{low}, {high}]"


@dataclass(frozen=True)
class MetricCheck:
    """One ``spec.analysis.metrics`` entry."""

    name: str
    interval: str = DEFAULT_METRIC_INTERVAL
    threshold_range: ThresholdRange = ThresholdRange()
    template: ObjectKey | None = None
    """``templateRef``; None for a built-in metric or an inline query."""
    query: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Webhook:
    """One ``spec.analysis.webhooks`` entry."""

    name: str
    type: str
    url: str
    timeout: float = DEFAULT_HOOK_TIMEOUT
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class HeaderMatch:
    """One header condition of an A/B ``analysis.match`` item (Gateway API types)."""

    name: str
    type: str  # "Exact" or "RegularExpression"
    value: str


@dataclass(frozen=True)
class Analysis:
    """``spec.analysis`` with Flagger's defaults applied."""

    interval: float = DEFAULT_INTERVAL
    threshold: int = DEFAULT_THRESHOLD
    max_weight: int = DEFAULT_MAX_WEIGHT
    step_weight: int | None = None
    step_weights: tuple[int, ...] = ()
    iterations: int | None = None
    metrics: tuple[MetricCheck, ...] = ()
    webhooks: tuple[Webhook, ...] = ()
    match: tuple[tuple[HeaderMatch, ...], ...] = ()
    """A/B testing: each item's headers must all match (items are ORed); requests
    that match go to the canary while it is analysed."""

    @property
    def blue_green(self) -> bool:
        """Iterations instead of weights (Flagger's blue/green; the kubernetes router)."""
        return self.iterations is not None

    def weights(self) -> tuple[int, ...]:
        """The canary weights of a progressive rollout, in order; never above maxWeight."""
        if self.blue_green:
            return ()
        if self.step_weights:
            return tuple(min(weight, self.max_weight) for weight in self.step_weights)
        step = self.step_weight or 0
        if step <= 0:
            return ()
        weights: list[int] = []
        weight = 0
        while weight < self.max_weight:
            weight = min(weight + step, self.max_weight)
            weights.append(weight)
        return tuple(weights)

    def steps(self) -> int:
        """Passing checks needed before promotion: iterations, or one per weight."""
        return self.iterations if self.iterations is not None else len(self.weights())

    def hooks(self, hook_type: str) -> tuple[Webhook, ...]:
        return tuple(hook for hook in self.webhooks if hook.type == hook_type)


@dataclass(frozen=True)
class GatewayRef:
    name: str
    namespace: str


@dataclass(frozen=True)
class CanarySpec:
    """A validated Canary."""

    key: ObjectKey
    source: Source
    target: str
    provider: str
    port: int
    target_port: int | str
    service_name: str
    analysis: Analysis
    progress_deadline: int = DEFAULT_PROGRESS_DEADLINE
    skip_analysis: bool = False
    suspend: bool = False
    gateway_refs: tuple[GatewayRef, ...] = ()
    port_name: str = "http"
    """``spec.service.portName``: the name of the generated Services' port (Flagger's
    default ``http``)."""
    hosts: tuple[str, ...] = ()
    """``spec.service.hosts``: the HTTPRoute's hostnames (``gatewayapi:v1`` only)."""
    autoscaler: str | None = None
    """``spec.autoscalerRef``: the target's HorizontalPodAutoscaler; the primary gets
    its own copy, ``<name>-primary``, as in Flagger."""

    @property
    def where(self) -> str:
        return f"{self.source} (Canary {self.key})"

    @property
    def primary(self) -> str:
        return f"{self.target}-primary"

    @property
    def apex(self) -> str:
        return self.service_name

    @property
    def primary_service(self) -> str:
        return f"{self.service_name}-primary"

    @property
    def canary_service(self) -> str:
        return f"{self.service_name}-canary"


@dataclass(frozen=True)
class MetricTemplate:
    """A validated MetricTemplate (only the Prometheus provider is implemented)."""

    key: ObjectKey
    source: Source
    provider: str
    query: str
    address: str | None = None


@dataclass(frozen=True)
class CanaryConfig:
    """Every Canary and MetricTemplate under a directory, cross-checked."""

    canaries: tuple[CanarySpec, ...] = ()
    templates: Mapping[ObjectKey, MetricTemplate] = field(default_factory=dict, hash=False)

    @classmethod
    def from_documents(
        cls,
        documents: Iterable[Document],
        default_namespace: str = DEFAULT_NAMESPACE,
        default_provider: ProviderDefault = BUILTIN_DEFAULT,
    ) -> CanaryConfig:
        canaries: list[tuple[CanarySpec, Fields]] = []
        templates: dict[ObjectKey, MetricTemplate] = {}
        seen: set[tuple[str, ObjectKey]] = set()
        for document in documents:
            parsed = _parse(document, default_namespace)
            if parsed is None:
                continue
            kind, key, fields = parsed
            if (kind, key) in seen:
                raise fields.fail("metadata.name", f"duplicate {kind} {key}")
            seen.add((kind, key))
            if kind == "Canary":
                canary = parse_canary(key, document.source, fields, default_provider)
                canaries.append((canary, fields))
            else:
                templates[key] = parse_template(key, document.source, fields)
        for canary, fields in canaries:
            _check_template_refs(canary, fields, templates)
        return cls(tuple(canary for canary, _ in canaries), templates)

    def find(self, name: str, namespace: str | None = None) -> list[CanarySpec]:
        return [
            canary
            for canary in self.canaries
            if canary.key.name == name and (namespace is None or canary.key.namespace == namespace)
        ]


def _parse(document: Document, default_namespace: str) -> tuple[str, ObjectKey, Fields] | None:
    data = document.data
    api_version = data.get("apiVersion")
    kind = data.get("kind")
    if not isinstance(api_version, str) or not api_version.startswith(GROUP + "/"):
        return None
    if kind not in ("Canary", "MetricTemplate"):
        return None
    metadata = data.get("metadata")
    meta = metadata if isinstance(metadata, Mapping) else {}
    name = meta.get("name")
    namespace = meta.get("namespace") or default_namespace
    label = f"{kind} {namespace}/{name}" if isinstance(name, str) else str(kind)
    fields = Fields(f"{document.source} ({label})", data)
    version = api_version.partition("/")[2]
    if version not in VERSIONS:
        raise fields.fail("apiVersion", f"unsupported version {api_version!r} (expected v1beta1)")
    metadata_fields = fields.required_mapping("metadata")
    name_text = metadata_fields.string("name", required=True)
    check_name(metadata_fields, "name", name_text)
    namespace_text = metadata_fields.string("namespace") or default_namespace
    check_name(metadata_fields, "namespace", namespace_text, namespace=True)
    return str(kind), ObjectKey(namespace_text, name_text), fields


def parse_canary(
    key: ObjectKey, source: Source, fields: Fields, default: ProviderDefault = BUILTIN_DEFAULT
) -> CanarySpec:
    spec = fields.required_mapping("spec")
    refuse_unhonoured(spec, "spec")
    target_ref = spec.required_mapping("targetRef")
    target_kind = target_ref.string("kind", required=True)
    if target_kind != "Deployment":
        raise target_ref.fail("kind", f"unsupported target kind {target_kind!r} (Deployment only)")
    target = target_ref.string("name", required=True)
    check_name(target_ref, "name", target)
    provider = spec.string("provider") or default.provider
    named = f"provider {provider}" + (
        "" if spec.string("provider") else f" (spec.provider is not set: {default.origin})"
    )
    if provider not in PROVIDERS:
        raise spec.fail("provider", f"unsupported {named}: expected one of {', '.join(PROVIDERS)}")
    service = spec.required_mapping("service")
    refuse_unhonoured(service, "service")
    port = _integer(service, "port", required=True, low=1, high=65535)
    assert port is not None
    target_port = _port_or_name(service, "targetPort", port)
    service_name = service.string("name") or target
    port_name = _port_name(service)
    hosts = _hosts(service, provider)
    autoscaler = _autoscaler(spec)
    gateway_refs = _gateway_refs(service, key.namespace)
    if provider == "gatewayapi:v1" and not gateway_refs:
        raise service.fail("gatewayRefs", f"required for {named}")
    analysis_fields = spec.mapping("analysis") or spec.mapping("canaryAnalysis")
    skip = spec.boolean("skipAnalysis")
    if analysis_fields is None:
        analysis = Analysis()
        skip = True  # Flagger skips the analysis of a Canary that has none
    else:
        analysis = _analysis(analysis_fields, key.namespace)
    if analysis.match and provider != "gatewayapi:v1":
        raise spec.fail(
            "analysis.match",
            f"A/B testing is done by the gatewayapi:v1 router here, not {named}; refused",
        )
    if not skip and provider == "kubernetes" and not analysis.blue_green:
        raise spec.fail("analysis.iterations", f"{named} is blue/green: set analysis.iterations")
    if not skip and not analysis.blue_green and not analysis.weights():
        raise spec.fail(
            "analysis.stepWeight", "set stepWeight or stepWeights (or iterations for blue/green)"
        )
    deadline = _integer(spec, "progressDeadlineSeconds", low=1)
    return CanarySpec(
        key=key,
        source=source,
        target=target,
        provider=provider,
        port=port,
        target_port=target_port,
        service_name=service_name,
        analysis=analysis,
        progress_deadline=deadline or DEFAULT_PROGRESS_DEADLINE,
        skip_analysis=skip,
        suspend=spec.boolean("suspend"),
        gateway_refs=gateway_refs,
        port_name=port_name,
        hosts=hosts,
        autoscaler=autoscaler,
    )


def _autoscaler(spec: Fields) -> str | None:
    ref = spec.mapping("autoscalerRef")
    if ref is None:
        return None
    kind = ref.string("kind", required=True)
    if kind != "HorizontalPodAutoscaler":
        raise ref.fail("kind", f"{kind!r} {_REFUSED} (HorizontalPodAutoscaler only)")
    api_version = ref.string("apiVersion") or "autoscaling/v2"
    if api_version not in ("autoscaling/v2", "autoscaling/v2beta2"):
        raise ref.fail("apiVersion", f"{api_version!r} is not autoscaling/v2")
    name = ref.string("name", required=True)
    check_name(ref, "name", name)
    return name


_HOSTNAME: Final = re.compile(
    r"(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)


def _hosts(service: Fields, provider: str) -> tuple[str, ...]:
    """``hosts`` as Flagger's Gateway API router uses them: the HTTPRoute's hostnames."""
    hosts = service.string_list("hosts") or ()
    if hosts and provider != "gatewayapi:v1":
        raise service.fail(
            "hosts", f"used only by the gatewayapi:v1 router here (provider {provider}); refused"
        )
    for index, host in enumerate(hosts):
        if not _HOSTNAME.fullmatch(host) or len(host) > 253:
            raise service.fail(f"hosts[{index}]", f"{host!r} is not a hostname")
    return tuple(hosts)


_PORT_NAME: Final = re.compile(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?")


def _port_name(service: Fields) -> str:
    """``portName``, an IANA service name as Kubernetes requires of a port name."""
    name = service.string("portName") or "http"
    if not _PORT_NAME.fullmatch(name) or "--" in name or name.isdigit():
        raise service.fail(
            "portName", f"{name!r} is not a port name (lowercase letters, digits, '-', 1-15)"
        )
    return name


def _analysis(fields: Fields, namespace: str) -> Analysis:
    refuse_unhonoured(fields, "analysis")
    interval = fields.duration("interval")
    threshold = _integer(fields, "threshold", low=1) or DEFAULT_THRESHOLD
    max_weight = _integer(fields, "maxWeight", low=1, high=100) or DEFAULT_MAX_WEIGHT
    step_weight = _integer(fields, "stepWeight", low=1, high=100)
    step_weights = _step_weights(fields)
    iterations = _integer(fields, "iterations", low=1)
    if iterations is not None and (step_weight is not None or step_weights):
        raise fields.fail("iterations", "iterations (blue/green) excludes stepWeight(s)")
    if step_weights and "maxWeight" not in fields.data:
        max_weight = step_weights[-1]
    metrics = tuple(
        _metric(fields, index, item, namespace) for index, item in _items(fields, "metrics")
    )
    webhooks = tuple(_webhook(fields, index, item) for index, item in _items(fields, "webhooks"))
    match = tuple(_match(item) for _index, item in _items(fields, "match"))
    if match and iterations is None:
        raise fields.fail("match", "A/B testing (match) needs analysis.iterations, as in Flagger")
    return Analysis(
        interval=interval.seconds if interval is not None else DEFAULT_INTERVAL,
        threshold=threshold,
        max_weight=max_weight,
        step_weight=step_weight,
        step_weights=step_weights,
        iterations=iterations,
        metrics=metrics,
        webhooks=webhooks,
        match=match,
    )


_MATCH_KINDS: Final = {"exact": "Exact", "regex": "RegularExpression"}


def _match(item: Fields) -> tuple[HeaderMatch, ...]:
    """One ``analysis.match`` item: ``headers`` (exact or regex), as Flagger's
    Gateway API router reads it; other conditions are refused by name."""
    for key in item.data:
        if key != "headers":
            raise item.fail(str(key), f"Flagger's match {key} {_REFUSED} (headers only)")
    headers = item.required_mapping("headers")
    found: list[HeaderMatch] = []
    for name in headers.data:
        condition = headers.required_mapping(str(name))
        kinds = [key for key in condition.data if key in _MATCH_KINDS]
        others = [key for key in condition.data if key not in _MATCH_KINDS]
        if others:
            raise condition.fail(str(others[0]), f"{_REFUSED} (exact or regex only)")
        if len(kinds) != 1:
            raise headers.fail(str(name), "set exactly one of exact or regex")
        value = condition.string(kinds[0], required=True)
        found.append(HeaderMatch(str(name), _MATCH_KINDS[kinds[0]], value))
    if not found:
        raise item.fail("headers", "at least one header condition is needed")
    return tuple(found)


def _step_weights(fields: Fields) -> tuple[int, ...]:
    value = fields.data.get("stepWeights")
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise fields.fail("stepWeights", "must be a non-empty list of numbers")
    weights: list[int] = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 100:
            raise fields.fail(f"stepWeights[{index}]", f"must be a number 1..100, not {item!r}")
        if weights and item <= weights[-1]:
            raise fields.fail(f"stepWeights[{index}]", "weights must increase")
        weights.append(item)
    return tuple(weights)


def _items(fields: Fields, key: str) -> Iterable[tuple[int, Fields]]:
    value = fields.data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise fields.fail(key, "must be a list")
    found: list[tuple[int, Fields]] = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise fields.fail(f"{key}[{index}]", "must be a mapping")
        found.append((index, Fields(fields.prefix, item, fields.at(f"{key}[{index}]"))))
    return found


def _metric(parent: Fields, index: int, fields: Fields, namespace: str) -> MetricCheck:
    del parent, index
    refuse_unhonoured(fields, "metric")
    name = fields.string("name", required=True)
    interval = fields.duration("interval")
    range_fields = fields.mapping("thresholdRange")
    threshold = ThresholdRange()
    deprecated = _number(fields, "threshold")
    if range_fields is not None:
        threshold = ThresholdRange(_number(range_fields, "min"), _number(range_fields, "max"))
    elif deprecated is not None:
        threshold = _deprecated_threshold(name, deprecated)
    template_fields = fields.mapping("templateRef")
    template = None
    if template_fields is not None:
        template = ObjectKey(
            template_fields.string("namespace") or namespace,
            template_fields.string("name", required=True),
        )
    query = fields.optional_string("query")
    if template is None and query is None and name not in BUILTIN_METRICS:
        raise fields.fail(
            "templateRef",
            f"metric {name!r} is not built in ({', '.join(BUILTIN_METRICS)}): "
            "set templateRef or query",
        )
    if range_fields is None and deprecated is None and template is None and query is None:
        raise fields.fail("thresholdRange", f"required for built-in metric {name!r}")
    return MetricCheck(
        name=name,
        interval=interval.text if interval is not None else DEFAULT_METRIC_INTERVAL,
        threshold_range=threshold,
        template=template,
        query=query,
        variables=fields.string_map("templateVariables"),
    )


def _deprecated_threshold(name: str, value: float) -> ThresholdRange:
    """Flagger's deprecated metric ``threshold``: a minimum for the built-in success
    rate, a maximum for everything else (request duration in ms, custom metrics)."""
    if name == "request-success-rate":
        return ThresholdRange(min=value)
    return ThresholdRange(max=value)


def _webhook(parent: Fields, index: int, fields: Fields) -> Webhook:
    del parent, index
    refuse_unhonoured(fields, "webhook")
    name = fields.string("name", required=True)
    hook_type = fields.string("type") or "rollout"
    if hook_type not in HOOK_TYPES:
        raise fields.fail(
            "type", f"unknown webhook type {hook_type!r} (expected {', '.join(HOOK_TYPES)})"
        )
    url = fields.string("url", required=True)
    if not url.startswith(("http://", "https://")):
        raise fields.fail("url", f"{url!r} is not an http(s) URL")
    timeout = fields.duration("timeout")
    metadata = fields.string_map("metadata")
    return Webhook(
        name, hook_type, url, timeout.seconds if timeout else DEFAULT_HOOK_TIMEOUT, metadata
    )


def _gateway_refs(service: Fields, namespace: str) -> tuple[GatewayRef, ...]:
    refs: list[GatewayRef] = []
    for _index, item in _items(service, "gatewayRefs"):
        refs.append(
            GatewayRef(item.string("name", required=True), item.string("namespace") or namespace)
        )
    return tuple(refs)


def parse_template(key: ObjectKey, source: Source, fields: Fields) -> MetricTemplate:
    spec = fields.required_mapping("spec")
    provider = spec.required_mapping("provider")
    provider_type = provider.string("type", required=True)
    if provider_type in METRIC_PROVIDERS:
        refuse_unhonoured(spec, "template")
        refuse_unhonoured(provider, "provider")
    if provider_type not in FLAGGER_METRIC_PROVIDERS:
        raise provider.fail(
            "type",
            f"unknown metric provider {provider_type!r} (supported: {', '.join(METRIC_PROVIDERS)})",
        )
    if provider_type not in METRIC_PROVIDERS:
        raise provider.fail(
            "type",
            f"metric provider {provider_type!r} is not supported here "
            f"(supported: {', '.join(METRIC_PROVIDERS)})",
        )
    address = provider.optional_string("address")
    if address is not None and not address.startswith(("http://", "https://")):
        raise provider.fail("address", f"{address!r} is not an http(s) URL")
    query = spec.string("query", required=True)
    return MetricTemplate(key, source, provider_type, query, address)


def _check_template_refs(
    canary: CanarySpec, fields: Fields, templates: Mapping[ObjectKey, MetricTemplate]
) -> None:
    for index, metric in enumerate(canary.analysis.metrics):
        if metric.template is not None and metric.template not in templates:
            analysis = "analysis" if "analysis" in fields.data.get("spec", {}) else "canaryAnalysis"
            raise fields.fail(
                f"spec.{analysis}.metrics[{index}].templateRef",
                f"MetricTemplate {metric.template} does not exist",
            )


def _integer(
    fields: Fields,
    key: str,
    *,
    required: bool = False,
    low: int | None = None,
    high: int | None = None,
) -> int | None:
    value: Any = fields.data.get(key)
    if value is None:
        if required:
            raise fields.fail(key, "required field is missing (expected a number)")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise fields.fail(key, f"must be a whole number, not {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"
        raise fields.fail(key, f"{value} is out of range ({bounds})")
    return value


def _number(fields: Fields, key: str) -> float | None:
    value: Any = fields.data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fields.fail(key, f"must be a number, not {value!r}")
    return float(value)


def _port_or_name(fields: Fields, key: str, default: int) -> int | str:
    value: Any = fields.data.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    raise fields.fail(key, f"must be a port number or name, not {value!r}")


def canary_names(canaries: Sequence[CanarySpec]) -> list[str]:
    return [str(canary.key) for canary in canaries]
