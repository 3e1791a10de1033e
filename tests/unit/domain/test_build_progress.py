"""BuildKit's raw progress: shown as plain lines; a step cached at any point counts cached."""

from __future__ import annotations

import base64
import json

from gitops_action.domain.build_progress import ProgressLog


def status(**parts: object) -> str:
    return json.dumps(parts)


def test_a_step_reopened_after_its_cache_hit_still_counts_cached() -> None:
    log = ProgressLog()
    run = {"digest": "sha256:r", "name": "[3/4] RUN make deps"}
    copy = {"digest": "sha256:c", "name": "[4/4] COPY app.txt /app.txt"}
    lines = [
        status(vertexes=[{"digest": "sha256:i", "name": "[internal] load build context"}]),
        status(vertexes=[{**run, "cached": True, "completed": "t"}]),
        status(vertexes=[{**run, "started": "t2"}]),  # re-opened: its layers are pulled
        status(vertexes=[{**run, "completed": "t3"}]),
        status(vertexes=[copy]),
        status(
            logs=[{"vertex": "sha256:c", "data": base64.b64encode(b"copied\n").decode()}],
            vertexes=[
                {"digest": "sha256:c", "name": "[4/4] COPY app.txt /app.txt", "completed": "t"}
            ],
        ),
        "ERROR: not json passes through",
    ]
    shown = [out for line in lines for out in log.feed(line)]
    assert shown == [
        "#1 [internal] load build context",
        "#2 [3/4] RUN make deps",
        "#2 CACHED",
        "#3 [4/4] COPY app.txt /app.txt",
        "#3 DONE",
        "#3 copied",
        "ERROR: not json passes through",
    ]
    assert log.counts() == (2, 1)
