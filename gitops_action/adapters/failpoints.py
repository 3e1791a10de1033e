"""Named failpoints: `GITOPS_FAILPOINTS=name[,name]` makes the process kill itself
with SIGKILL the first time it reaches one of those points.

Why: a CronJob run can die at any line (node drain, OOM kill, deadline), and the
promise is that the next run converges without losing a human commit, forcing a
push or leaving the Lease held. The fault tests arm each point in turn and check
exactly that; killing at a named line is deterministic where a timer-driven kill
depends on how busy the machine is. Off (and one falsy check) unless the
variable is set; never set it in production.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Final

POINTS: Final = (
    "after-clone",  # the config repo is fetched and checked out
    "after-commit",  # a commit exists locally, the push has not started
    "after-push",  # the push landed, nothing was synced yet
    "between-applies",  # the first object of a sync was applied, the rest not
    "after-canary-status",  # a canary's new status is saved, the cluster not yet moved
    "in-lease",  # the Lease is taken, no phase has started
)
_ARMED: Final = frozenset(
    name.strip() for name in os.environ.get("GITOPS_FAILPOINTS", "").split(",") if name.strip()
)


def hit(name: str) -> None:
    """SIGKILL this process here when `name` is armed (says which on stderr first)."""
    if _ARMED and name in _ARMED:
        sys.stderr.write(f"gitops-action: failpoint {name}: killing this process\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
