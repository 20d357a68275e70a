"""Anchors on several frames: the chain is tied at each anchored frame with a linear correction
between, each anchor's residual is reported, the result says how far the chain wandered between
anchors, and a long stretch without one, where the chain's own uncertainty passes 1 %, is warned
about with the frame to anchor."""

import estimate_oracles as eo
import numpy as np
import pytest

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import align

FRAMES = 48


def samples_on(frames, estimates, truths, transforms, per_frame=2):
    """Anchors (a near and a far measured pixel) on each of ``frames``."""
    out = []
    for k in frames:
        z = truths[k]
        for q in (10.0, 70.0)[:per_frame]:
            target = np.nanpercentile(z, q)
            r, c = np.unravel_index(int(np.nanargmin(np.abs(z - target))), z.shape)
            value = float(transforms[k].apply(float(estimates[k][r, c])))
            out.append(align.AnchorSample(f"{c},{r}={z[r, c]:.3g}@{k}", value, float(z[r, c]),
                                          k))
    return out


def errors_of(alignment, transforms, estimates, truths):
    out = []
    for k, (t, e, z) in enumerate(zip(transforms, estimates, truths)):
        inv = alignment.inverse_depth(t.apply(e.astype(np.float64)), k)
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(float(np.nanmedian(np.abs(1.0 / inv - z) / z)))
    return np.array(out)


def test_anchors_on_several_frames_hold_a_drifting_chain():
    """The same-pixel chain drifts on a pan (12 % by the last frame with anchors on frame 0):
    anchors every 16 frames tie it, the anchored frames come out exact and the stretches say
    how far it wandered."""
    truths, _lumas = eo.moving_shot("pan", FRAMES)
    estimates, _params = eo.fake_estimates(truths, seed=7, noise=0.0)
    transforms = align.stabilise(estimates)
    one = align.align_segment(0, FRAMES, samples_on((0,), estimates, truths, transforms))
    anchored = (0, 16, 32, 47)
    samples = samples_on(anchored, estimates, truths, transforms)
    tied = align.align_segment(0, FRAMES, samples, link_sigmas=[0.0] + [1e-4] * (FRAMES - 1))
    e_one = errors_of(one, transforms, estimates, truths)
    e_tied = errors_of(tied, transforms, estimates, truths)
    print(f"\nsame-pixel chain on a pan: worst frame {100 * e_one.max():.2f} % with anchors on "
          f"frame 0, {100 * e_tied.max():.2f} % with anchors on frames {anchored}; anchored "
          f"frames {100 * e_tied[list(anchored)].max():.3f} %; "
          + "; ".join(st.describe() for st in tied.stretches))
    assert e_one.max() > 0.05
    assert e_tied[list(anchored)].max() < 0.002
    assert e_tied.max() < e_one.max() / 3
    assert [k[0] for k in tied.knots] == list(anchored)
    assert max(abs(a.residual) for a in tied.anchors) < 0.002
    wanders = [st.wander for st in tied.stretches]
    assert [(st.first, st.last) for st in tied.stretches] == [(1, 15), (17, 31), (33, 46)]
    assert all(w is not None and abs(w) > 0.001 for w in wanders)
    back = align.Alignment.from_dict(tied.to_dict())
    assert back.at(23) == pytest.approx(tied.at(23)) and back.knots == tied.knots


@pytest.mark.parametrize("frames,warned", [
    ((0,), [(1, 47, 47)]),            # an open end: sqrt(47) x 0.3 % = 2.1 %
    ((0, 47), [(1, 46, 23)]),         # tied at both ends: half of it midway, 1.03 %
    ((0, 24, 47), []),                # 0.73 % and 0.69 %: under 1 %
])
def test_a_long_stretch_without_anchors_is_warned_with_the_frame_to_anchor(frames, warned):
    values = {f: (0.5, 0.2) for f in frames}
    samples = [align.AnchorSample(f"p{f}{i}", values[f][i], 1.0 / (0.4 * values[f][i] + 0.05), f)
               for f in frames for i in range(2)]
    result = align.align_segment(0, FRAMES, samples, link_sigmas=[0.0] + [0.003] * (FRAMES - 1))
    lines = align.chain_warnings(result)
    got = [(st.first, st.last, st.worst_frame) for st in result.stretches
           if st.uncertainty > align.CHAIN_WARNING]
    assert got == warned
    assert len(lines) == len(warned)
    for (first, last, at), line in zip(warned, lines):
        assert f"Frames {first}-{last}" in line and f"--anchor X,Y=M@{at}" in line


def test_each_anchor_keeps_its_residual_and_a_frame_that_cannot_hold_is_refused():
    values = [0.9, 0.6, 0.3]
    metres = [1.0 / (0.2 * v + 0.01) for v in values]
    samples = [align.AnchorSample(f"a{i}", v, m, 0) for i, (v, m) in enumerate(zip(values,
                                                                                metres))]
    off = list(metres)
    off[1] *= 1.03  # 3 % off on frame 10
    samples += [align.AnchorSample(f"b{i}", v, m, 10) for i, (v, m) in enumerate(zip(values,
                                                                                   off))]
    result = align.align_segment(0, 20, samples)
    res = {a.label: a.residual for a in result.anchors}
    assert 0.005 < abs(res["b1"]) < 0.03 and abs(res["a1"]) < 1e-6
    assert result.to_dict()["anchors"][4]["anchor"] == "b1"
    # On frame 10, the near pixel said farther than the far one: no correction can meet it.
    bad = samples[:3] + [align.AnchorSample("n", 0.9, 9.0, 10),
                         align.AnchorSample("f", 0.3, 2.0, 10)]
    with pytest.raises(RackFocusError, match="contradict"):
        align.align_segment(0, 20, bad)
