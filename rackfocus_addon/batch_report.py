"""How a batch went (pure): what each shot ended as, and the summary a batch prints.

The batch (``bl.batch``) fills one :class:`ShotReport` per shot; :class:`BatchReport` turns them
into the summary table, the JSON the CLI prints and the exit status. :class:`Log` is where the
batch reports as it runs (the CLI's ``Output`` has the same methods).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Statuses a shot ends with.
DONE, BUILT, PARTIAL, FAILED, INTERRUPTED, NOT_RUN = (
    "done", "built", "partial", "failed", "interrupted", "not run")



class Log:
    """Where the batch reports: the CLI's ``Output`` has the same methods. This one is silent."""

    def progress(self, label: str, done: int, total: int) -> None:
        """``label`` reached ``done`` of ``total`` (frames, samples)."""

    def note(self, text: str) -> None:
        """Something the user should know."""

    def warn(self, text: str) -> None:
        """Something that may be wrong."""

    def error(self, text: str) -> None:
        """A shot failed."""


@dataclass(frozen=True)
class BatchOptions:
    """``force``: rebuild every shot and re-render frames that exist; ``frames``: render only
    these frames of each shot (a chunk; None: all); ``build_only``: build and save, no render."""

    force: bool = False
    frames: tuple[int, ...] | None = None
    build_only: bool = False


@dataclass
class ShotReport:
    """How one shot went. Times are seconds (wall clock); frames are counts."""

    name: str
    output: str
    status: str = NOT_RUN
    blend: str = ""
    frames_total: int = 0
    frames_done: int = 0
    frames_rendered: int = 0
    frames_kept: int = 0
    resumed: bool = False
    build_s: float = 0.0
    render_s: float = 0.0
    media_s: float = 0.0
    time_s: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "shot": self.name, "status": self.status, "output": self.output,
            "blend": self.blend or None, "frames": self.frames_total,
            "frames_done": self.frames_done, "frames_rendered": self.frames_rendered,
            "frames_kept": self.frames_kept, "resumed": self.resumed,
            "build_s": round(self.build_s, 4), "render_s": round(self.render_s, 4),
            "media_s": round(self.media_s, 4), "time_s": round(self.time_s, 4),
            "files": dict(self.files), "notes": list(self.notes), "error": self.error,
        }


@dataclass
class BatchReport:
    """Every shot's report, in order; ``interrupted`` when Ctrl-C stopped the batch."""

    source: str
    shots: list[ShotReport]
    interrupted: bool = False

    @property
    def failed(self) -> int:
        return sum(1 for s in self.shots if s.status == FAILED)

    def exit_code(self) -> int:
        """130 when interrupted, else the number of failed shots (at most 125)."""
        return 130 if self.interrupted else min(self.failed, 125)

    def table(self) -> list[str]:
        """The summary table: shot, status, frames (done/total, +rendered now), time."""
        rows = [("shot", "status", "frames", "time")]
        for s in self.shots:
            frames = f"{s.frames_done}/{s.frames_total}" if s.frames_total else "-"
            if s.frames_rendered:
                frames += f" (+{s.frames_rendered})"
            rows.append((s.name, s.status, frames, f"{s.time_s:.2f} s"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]),
                            r[2].ljust(widths[2]), r[3].rjust(widths[3])]).rstrip()
                 for r in rows]
        for s in self.shots:
            if s.error:
                lines.append(f"{s.name}: {s.error}")
        done = sum(1 for s in self.shots if s.status in (DONE, BUILT))
        tail = f"{done} of {len(self.shots)} shot(s) done, {self.failed} failed"
        if self.interrupted:
            tail += "; interrupted: run the batch again to continue"
        return lines + [tail]

    def to_dict(self) -> dict:
        return {"shot_list": self.source, "shots": [s.to_dict() for s in self.shots],
                "failed": self.failed, "interrupted": self.interrupted,
                "exit_code": self.exit_code()}
