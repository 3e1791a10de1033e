"""The three response headers the registry client steers by, parsed.

- `WWW-Authenticate` says how to log in: `Basic realm="..."`, or
  `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`
  (RFC 7235 auth-params, quoted strings may hold commas).
- `Link: </v2/a/tags/list?n=100&last=x>; rel="next"` (RFC 8288) points to the next
  page of tags, relative to the request URL or absolute.
- `Retry-After` (RFC 9110) is delay-seconds or an HTTP date.

Kept apart from the client because they are pure functions of header text,
tested on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

_AUTH_PARAM = re.compile(
    r'\s*(?P<key>[A-Za-z0-9_.!#$%&\'*+^`|~-]+)\s*=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[^\s,]*))\s*,?'
)
_SCHEME = re.compile(r"\s*,?\s*(?P<scheme>[A-Za-z][A-Za-z0-9_-]*)(?=\s|$|,)")
_LINK = re.compile(r"<(?P<url>[^>]*)>(?P<params>[^,<]*)")
_REL = re.compile(r';\s*rel\s*=\s*"?(?P<rel>[^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge: its scheme (lower-case) and parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a `WWW-Authenticate` value, in order."""
    challenges: list[Challenge] = []
    position = 0
    while position < len(header):
        scheme = _SCHEME.match(header, position)
        if scheme is None:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        while True:
            param = _AUTH_PARAM.match(header, position)
            if param is None:
                break
            value = param["quoted"]
            value = re.sub(r"\\(.)", r"\1", value) if value is not None else param["token"]
            params[param["key"].lower()] = value
            position = param.end()
        challenges.append(Challenge(scheme["scheme"].lower(), params))
    return challenges


def pick_challenge(header: str | None) -> Challenge | None:
    """The challenge to answer: Bearer when offered (registries prefer it), else Basic."""
    challenges = parse_challenges(header or "")
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def next_link(header: str | None, request_url: str) -> str | None:
    """The absolute URL of the `rel="next"` link, or None when there is none."""
    if not header:
        return None
    for match in _LINK.finditer(header):
        rel = _REL.search(match["params"])
        if rel is not None and "next" in rel["rel"].lower().split():
            return urljoin(request_url, str(match["url"]).strip())
    return None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value; None when absent or unreadable.

    A date in the past means "now" (0). `now` is injectable for tests.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
