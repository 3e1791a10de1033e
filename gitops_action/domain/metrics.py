"""Metric checks: MetricTemplate rendering, the built-in queries, and judging a value.

Queries use Flagger's template variables: ``{{ namespace }}`` (the Canary's),
``{{ target }}`` (the target Deployment), ``{{ name }}`` (the Canary),
``{{ service }}`` (the apex Service), ``{{ interval }}`` (the metric's
interval, e.g. ``1m``) and ``{{ variables.NAME }}`` (``templateVariables``).
An unknown variable is a config error naming it, not an empty string.

The two built-ins Flagger offers, over metric names every Prometheus client
library exposes by default (configurable, see `BuiltinMetrics`):

- ``request-success-rate``: the percentage of the canary's requests that did
  not answer 5xx (``thresholdRange.min: 99`` means at most 1 % errors);
- ``request-duration``: the 99th percentile latency in milliseconds
  (``thresholdRange.max: 500``).

A check passes only with a number inside the range: no data, NaN, or a
provider that cannot answer is a failed check, never a pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from gitops_action.domain.canary import CheckResult
from gitops_action.domain.canary_config import CanarySpec, MetricCheck, MetricTemplate
from gitops_action.domain.config import ObjectKey
from gitops_action.domain.errors import InvalidConfig

_VARIABLE: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True)
class BuiltinMetrics:
    """Metric names and the canary selector the built-in queries use."""

    requests: str = "http_requests_total"
    """A counter with a status-code label."""
    status_label: str = "status"
    duration_buckets: str = "http_request_duration_seconds_bucket"
    """A histogram in seconds."""
    selector: str = 'app="{{ target }}-canary"'
    """The label matchers that pick the canary's series (Flagger variables allowed)."""

    def query(self, name: str) -> str:
        if name == "request-success-rate":
            total = f"sum(rate({self.requests}{{{self.selector}}}[{{{{ interval }}}}]))"
            good_selector = f'{self.selector},{self.status_label}!~"5.."'
            good = f"sum(rate({self.requests}{{{good_selector}}}[{{{{ interval }}}}]))"
            return f"{good} / {total} * 100"
        if name == "request-duration":
            rate = f"rate({self.duration_buckets}{{{self.selector}}}[{{{{ interval }}}}])"
            return f"histogram_quantile(0.99, sum({rate}) by (le)) * 1000"
        raise KeyError(name)


@dataclass(frozen=True)
class PlannedQuery:
    """A rendered query and where to send it (None: the default Prometheus)."""

    metric: MetricCheck
    query: str
    address: str | None


def render(template: str, variables: Mapping[str, str], where: str) -> str:
    """Substitute Flagger's ``{{ ... }}`` variables; an unknown one is an `InvalidConfig`."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            known = ", ".join(sorted(variables))
            raise InvalidConfig(f"{where}: unknown template variable {name!r} (known: {known})")
        return variables[name]

    return _VARIABLE.sub(substitute, template)


def plan_query(
    spec: CanarySpec,
    metric: MetricCheck,
    templates: Mapping[ObjectKey, MetricTemplate],
    builtins: BuiltinMetrics,
) -> PlannedQuery:
    """The query for one metric of a canary, rendered with Flagger's variables."""
    variables = {
        "namespace": spec.key.namespace,
        "name": spec.key.name,
        "target": spec.target,
        "service": spec.apex,
        "ingress": spec.apex,
        "interval": metric.interval,
    }
    variables.update({f"variables.{key}": value for key, value in metric.variables.items()})
    address = None
    if metric.template is not None:
        template = templates[metric.template]
        text, address = template.query, template.address
        where = f"{template.source} (MetricTemplate {template.key}): spec.query"
    elif metric.query is not None:
        text, where = metric.query, f"{spec.where}: metric {metric.name}: query"
    else:
        text = builtins.query(metric.name)
        where = f"{spec.where}: metric {metric.name}"
    return PlannedQuery(metric, render(text, variables, where), address)


def judge(metric: MetricCheck, value: float | None, error: str = "") -> CheckResult:
    """A failed check unless `value` is a number within the metric's threshold range."""
    if error:
        return CheckResult(metric.name, False, None, error)
    if value is None:
        return CheckResult(metric.name, False, None, "no values found")
    if math.isnan(value):
        return CheckResult(metric.name, False, None, "the query returned NaN (no traffic?)")
    limits = metric.threshold_range
    if limits.holds(value):
        return CheckResult(metric.name, True, value, f"{value:g} within {limits}")
    return CheckResult(metric.name, False, value, f"{value:g} outside {limits}")
