"""A plain-text description of a pull, for AI video generation prompts (pure).

Built from the actual plan and distances, in the terms prompt guides recommend: which element
starts sharp and which soft, how far apart they are in depth, and the timing and easing of the
rack ("shallow depth of field, foreground subject 'Anna' sharp, background subject 'Ben' soft,
then rack focus to the background over one second with a smooth ease in and out").
"""

from __future__ import annotations

from collections.abc import Sequence

from .easing import Easing
from .plan import PullPlan
from .readability import DEFAULT_MIN_BLUR_PX, LensSetup

_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
          8: "eight", 9: "nine", 10: "ten"}


def duration_words(frames: int, fps: float) -> str:
    """'one second', 'half a second', '1.5 seconds', '10 frames' for very short moves."""
    seconds = frames / fps
    if seconds < 0.25:
        return f"{frames} frame{'s' if frames != 1 else ''} (a snap)"
    if abs(seconds - 0.5) < 1e-6:
        return "half a second"
    rounded = round(seconds * 100.0) / 100.0
    if abs(rounded - round(rounded)) < 1e-6:
        whole = int(round(rounded))
        word = _WORDS.get(whole, str(whole))
        return f"{word} second{'s' if whole != 1 else ''}"
    return f"{rounded:g} seconds"


def easing_words(easing: Easing) -> str:
    """How the focus moves, in a camera assistant's words."""
    kind, mode = easing.kind, easing.mode
    if kind == "linear":
        return "at a constant speed"
    if kind == "back":
        return "overshooting slightly and settling onto it"
    if kind == "bounce":
        return "with a bouncing, hunting settle"
    if kind == "elastic":
        return "with a springy, oscillating settle"
    strong = kind in ("expo", "quint", "quart", "circ")
    if mode == "out":
        return ("snapping away fast and easing gently onto it" if strong
                else "starting quickly and easing gently onto it")
    if mode == "in":
        return ("starting very slowly, then snapping onto it" if strong
                else "starting slowly and accelerating onto it")
    if strong:
        return "with a slow start, a fast middle and a slow landing"
    return "with a smooth ease in and out"


def _place(distance: float, others: Sequence[float]) -> str:
    if not others:
        return ""
    if all(distance < o for o in others):
        return "foreground"
    if all(distance > o for o in others):
        return "background"
    return "midground"


def describe(plan: PullPlan, mark_distances_m: Sequence[float], fps: float,
             lens: LensSetup | None = None, visible: Sequence[bool] | None = None,
             min_blur_px: float = DEFAULT_MIN_BLUR_PX) -> str:
    """One paragraph describing ``plan``; ``mark_distances_m[k]`` is the focus distance (metres) of
    the subject of mark ``k`` at that mark's frame, ``visible[i]`` False for a subject that is only
    a place to focus (the soft opening of a reveal)."""
    visible = list(visible) if visible is not None else [True] * len(plan.subjects)
    names = [s.label() for s in plan.subjects]
    dist: dict[int, float] = {}
    for (s, _frame), d in zip(plan.marks, mark_distances_m):
        dist.setdefault(s, float(d))
    real = [i for i in range(len(plan.subjects)) if visible[i]]

    def noun(i: int) -> str:
        place = _place(dist[i], [dist[j] for j in real if j != i])
        return f"{place} subject {names[i]}" if place else f"subject {names[i]}"

    spans = [s for s in plan.spans() if s.is_pull]
    if not spans:
        return (f"Locked focus on {noun(plan.marks[0][0])} at {dist[plan.marks[0][0]]:.1f} m, "
                "no focus change.")
    first = spans[0]
    parts = []
    soft_ok = True
    if lens is not None:
        focus = dist[first.source]
        blurs = [lens.blur_px(dist[i], focus) for i in real if i != first.source]
        soft_ok = bool(blurs) and min(blurs) >= min_blur_px
    dof = "shallow depth of field" if soft_ok else "moderate depth of field (subtle focus change)"
    if lens is not None:
        dof += f" ({round(lens.focal_mm):g} mm lens at f/{round(lens.fstop, 1):g})"
    parts.append(dof)
    if visible[first.source]:
        parts.append(f"{noun(first.source)} sharp")
        soft = [noun(i) for i in real if i != first.source]
        if soft:
            parts.append(", ".join(soft) + " soft")
    else:
        parts.append(f"the shot opens soft: {noun(first.target)} is an unreadable blur")
    if len(real) >= 2:
        ds = sorted(dist[i] for i in real)
        parts.append(f"{ds[-1] - ds[0]:.1f} m apart in depth ({', '.join(f'{d:.1f}' for d in ds)}"
                     " m from camera)")
    text = ", ".join(parts)
    steps = []
    for k, span in enumerate(spans):
        hold = span.start - (plan.first_frame if k == 0 else spans[k - 1].end)
        when = f"after {duration_words(hold, fps)}, " if hold > 0 else ""
        if visible[span.source]:
            where = _place(dist[span.target], [dist[span.source]])
            target = f"the {where} ({names[span.target]})" if where else names[span.target]
            verb = "rack focus to" if k == 0 else "rack back to" if span.target in (
                s.source for s in spans[:k]) else "rack on to"
        else:
            target, verb = names[span.target], "focus sharpens to reveal"
        frames = span.end - span.start
        steps.append(f"{when}{verb} {target} over {duration_words(frames, fps)} "
                     f"({frames} frames at {fps:g} fps), {easing_words(plan.easing)}")
    text += ", then " + "; then ".join(steps)
    tail = plan.last_frame - spans[-1].end
    last = spans[-1].target
    text += f", and hold on {names[last]}" + (f" for {duration_words(tail, fps)}" if tail else "")
    if plan.space == "diopter":
        text += "; blur changes evenly through the move (interpolated in diopters)"
    return text[0].upper() + text[1:] + "."


def status_line(plan: PullPlan) -> str:
    """The pull in one short line for the status bar: 'Pull: Near -> Far, 4 marks, sine in-out'.
    """
    order: list[str] = []
    for subject, _frame in plan.marks:
        name = plan.subjects[subject].short_name()
        if not order or order[-1] != name:
            order.append(name)
    e = plan.easing
    easing = "linear" if e.kind == "linear" else f"{e.kind} {e.mode.replace('-', ' ')}"
    count = len(plan.marks)
    return (f"Pull: {' -> '.join(order)}, {count} mark{'s' if count != 1 else ''}, {easing}"
            f"{', in diopters' if plan.space == 'diopter' else ''}")
