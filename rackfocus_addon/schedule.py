"""Timing a first pull from a selection: a hold on each subject and a rack between them (pure).

An artist who selects three subjects and presses **+** wants a pull that reads on the first
play: subjects ordered near to far, each held long enough to register (half a second) and racked
to over a second, all inside the shot. These defaults come from the craft: a rack shorter than
about half a second reads as a snap, and a hold under a few frames does not register at all.
"""

from __future__ import annotations

#: How long focus rests on each subject before racking on (seconds).
HOLD_S = 0.5
#: How long one rack from subject to subject takes (seconds).
TRANSITION_S = 1.0
#: The shortest hold and rack a squeezed schedule keeps (frames): below this a beat is lost.
MIN_BEAT_FRAMES = 1


def beats(count: int, fps: float, start: int, end: int, hold_s: float = HOLD_S,
          transition_s: float = TRANSITION_S) -> list[tuple[int, int]]:
    """(arrive, leave) frames for ``count`` subjects racked in turn from frame ``start``.

    Each subject is held ``hold_s`` seconds and reached in ``transition_s`` seconds; when that
    does not fit before ``end`` (the scene's last frame) every hold and rack is scaled down
    together so the pull ends on ``end``. Frames are whole, strictly increasing, and a single
    subject gets one beat at ``start``.
    """
    if count <= 0:
        return []
    if count == 1:
        return [(start, start)]
    hold = max(0.0, hold_s * fps)
    rack = max(1.0, transition_s * fps)
    natural = count * hold + (count - 1) * rack
    room = max(end - start, 0)
    scale = min(1.0, room / natural) if natural > 0 else 1.0
    times = []
    t = float(start)
    for _ in range(count):
        times += [t, t + hold * scale]
        t += (hold + rack) * scale
    frames = [round(x) for x in times]
    frames[0] = start
    # Forward: a hold never ends before it starts, and each rack takes at least a frame.
    for k in range(1, len(frames)):
        frames[k] = max(frames[k], frames[k - 1] + (MIN_BEAT_FRAMES if k % 2 == 0 else 0))
    # Backward: rounding may have pushed the last beat past the shot; pull it back in.
    if frames[-1] > end and end - start >= (count - 1) * MIN_BEAT_FRAMES:
        frames[-1] = max(end, start)
        for k in range(len(frames) - 2, 0, -1):
            frames[k] = min(frames[k], frames[k + 1] - (MIN_BEAT_FRAMES if k % 2 == 1 else 0))
    return [(frames[2 * i], frames[2 * i + 1]) for i in range(count)]
