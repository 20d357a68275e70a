"""The pure easing curves match Blender's own keyframe interpolation, every kind and mode."""

import bpy
import pytest

from rackfocus_addon.bl import keys
from rackfocus_addon.easing import KINDS, MODES, Easing
from rackfocus_addon.marks import SubjectRef
from rackfocus_addon.plan import Key, fit_keys, make_plan


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("change", [1.0, 6.0])
def test_python_easing_equals_fcurve_evaluate(empty_scene, kind, mode, change):
    obj = bpy.data.objects.new("E", None)
    empty_scene.collection.objects.link(obj)
    e = Easing(kind, mode)
    k0 = Key(10, 2.0, e.blender_interpolation, e.blender_easing,
             back=e.back if kind == "back" else None,
             amplitude=e.amplitude if kind == "elastic" else None,
             period=e.period if kind == "elastic" else None)
    fc = keys.write_keys(obj, "location", [k0, Key(34, 2.0 + change)], index=2)
    for i in range(0, 49):
        frame = 10 + i * 0.5
        expected = e.value(frame - 10, 2.0, change, 24.0)
        assert fc.evaluate(frame) == pytest.approx(expected, abs=2e-4), (kind, mode, frame)


def test_written_keys_are_native_and_editable(empty_scene):
    cam = bpy.data.cameras.new("C")
    plan = make_plan([(SubjectRef("object", "A"), 1), (SubjectRef("object", "B"), 25)],
                     Easing("circ", "out"))
    values = [plan.focus_m(f, [3.0, 9.0].__getitem__) for f in range(1, 26)]
    key_list = fit_keys(list(range(1, 26)), values, plan.spans(), plan.easing)
    fc = keys.write_keys(cam, "dof.focus_distance", key_list)
    pts = fc.keyframe_points
    assert len(pts) == 2
    assert (pts[0].interpolation, pts[0].easing) == ("CIRC", "EASE_OUT")
    assert tuple(pts[1].co) == (25.0, 9.0)
