"""The one progress callback every long job reports through (pure).

``progress(label, done, total)`` is called after each finished step: ``label`` says what is
counted ("writing depth and background fill"), ``done`` of ``total`` are finished (frames,
samples, megabytes). A callback that returns True asks the job to stop where it can (the
estimation stops after the frame it finished; other jobs ignore the answer).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], "bool | None"]


def tick(progress: Progress | None, label: str, done: int, total: int) -> bool:
    """Report to ``progress`` when there is one; True when it asked to stop."""
    return bool(progress(label, done, total)) if progress is not None else False
