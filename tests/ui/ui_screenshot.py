"""Real-UI proof: run by a real Blender (not background) under Xvfb; see scripts/test_ui.sh.

    blender --factory-startup --python tests/ui/ui_screenshot.py -- --out OUT.png [--fb XWD]

Registers the extension from the repository (as the package ``rack_focus``), builds a two-subject
scene, opens the 3D viewport's sidebar on the Rack Focus tab, runs a pull through the panel's
operators (add marks from the selection, apply a preset, create the pull, check readability,
describe it, frame the camera view with the focus-plane overlay on), lets the UI draw, and saves a
screenshot. Any Python error (in an operator or while drawing a panel) makes Blender exit with 1.
"""

import importlib.util
import math
import os
import struct
import sys
import traceback
import zlib

import bpy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
OUT = ARGS[ARGS.index("--out") + 1] if "--out" in ARGS else os.path.join(ROOT, "panel.png")
FB = ARGS[ARGS.index("--fb") + 1] if "--fb" in ARGS else ""

errors = []
_previous_hook = sys.excepthook


def _hook(kind, value, tb):
    errors.append("".join(traceback.format_exception(kind, value, tb)))
    _previous_hook(kind, value, tb)


sys.excepthook = _hook
print("RF-UI: start", flush=True)


def load_addon():
    spec = importlib.util.spec_from_file_location(
        "rack_focus", os.path.join(ROOT, "__init__.py"), submodule_search_locations=[ROOT])
    module = importlib.util.module_from_spec(spec)
    sys.modules["rack_focus"] = module
    spec.loader.exec_module(module)
    module.register()
    return module


def view3d():
    win = bpy.context.window_manager.windows[0]
    area = next(a for a in win.screen.areas if a.type == "VIEW_3D")
    return win, area


def build_scene():
    scene = bpy.context.scene
    for obj in list(scene.objects):
        bpy.data.objects.remove(obj)
    cam_data = bpy.data.cameras.new("Cam")
    cam_data.lens, cam_data.dof.aperture_fstop = 50.0, 2.0
    cam = bpy.data.objects.new("Cam", cam_data)
    cam.rotation_euler = (math.pi / 2.0, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    for name, y, x, size in (("Anna", 2.0, -0.3, 0.25), ("Ben", 8.0, 1.3, 0.9)):
        bpy.ops.mesh.primitive_cube_add(size=size, location=(x, y, 0.0))
        bpy.context.active_object.name = name
    bpy.ops.mesh.primitive_plane_add(size=30.0, location=(0.0, 10.0, -0.5))
    bpy.context.active_object.name = "Ground"
    scene.frame_start, scene.frame_end = 1, 72
    scene.render.resolution_x, scene.render.resolution_y = 1280, 720
    bpy.context.view_layer.update()
    return scene


def select(name):
    for obj in bpy.context.scene.objects:
        obj.select_set(obj.name == name)
    bpy.context.view_layer.objects.active = bpy.context.scene.objects[name]


def run_pull():
    win, area = view3d()
    region = next(r for r in area.regions if r.type == "UI")
    scene = build_scene()
    with bpy.context.temp_override(window=win, area=area, region=region):
        select("Anna")
        scene.frame_set(1)
        assert bpy.ops.rackfocus.add_mark() == {"FINISHED"}
        select("Ben")
        scene.frame_set(2)
        assert bpy.ops.rackfocus.add_mark() == {"FINISHED"}
        scene.frame_set(1)
        assert bpy.ops.rackfocus.apply_preset(name="fg_to_bg") == {"FINISHED"}
        assert bpy.ops.rackfocus.create_pull() == {"FINISHED"}
        assert bpy.ops.rackfocus.check_readability() == {"FINISHED"}
        assert bpy.ops.rackfocus.describe() == {"FINISHED"}
        scene.rackfocus.show_overlay = True
    win_region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(window=win, area=area, region=win_region):
        assert bpy.ops.rackfocus.view_camera() == {"FINISHED"}
    print("RF-UI: pull", scene.camera.data.get("rackfocus_pull"), flush=True)


def open_sidebar():
    win, area = view3d()
    space = area.spaces.active
    space.show_region_ui = True
    space.overlay.show_overlays = True
    with bpy.context.temp_override(window=win, area=area):
        bpy.ops.screen.screen_full_area()
    return win


def select_tab():
    win, area = view3d()
    for region in area.regions:
        if region.type == "UI":
            try:
                region.active_panel_category = "Rack Focus"
            except (AttributeError, TypeError) as err:
                print("RF-UI: cannot select the tab:", err, flush=True)
            print("RF-UI: sidebar tab", region.active_panel_category, region.width, flush=True)
    # Unfold the sub-panels so the screenshot shows them.
    area.tag_redraw()


def write_png(path, width, height, rgb_rows):
    raw = b"".join(b"\x00" + row for row in rgb_rows)

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(png)


def xwd_to_png(xwd_path, png_path):
    """Xvfb's -fbdir framebuffer (XWD, 32-bit BGRX, LSB first) to an RGB PNG."""
    data = open(xwd_path, "rb").read()
    hdr = struct.unpack(">25I", data[:100])
    header_size, width, height = hdr[0], hdr[4], hdr[5]
    bits, bytes_per_line, ncolors = hdr[11], hdr[12], hdr[19]
    if bits != 32:
        raise RuntimeError(f"unexpected XWD depth {bits}")
    offset = header_size + ncolors * 12
    rows = []
    for y in range(height):
        line = data[offset + y * bytes_per_line: offset + y * bytes_per_line + width * 4]
        rgb = bytearray(width * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = line[2::4], line[1::4], line[0::4]
        rows.append(bytes(rgb))
    write_png(png_path, width, height, rows)
    return width, height


def screenshot():
    win, _area = view3d()
    with bpy.context.temp_override(window=win):
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=2)
    if FB and os.path.exists(FB):
        size = xwd_to_png(FB, OUT)
        print("RF-UI: screenshot from the X framebuffer", size, OUT, flush=True)
    else:
        with bpy.context.temp_override(window=win):
            bpy.ops.screen.screenshot(filepath=OUT)
        print("RF-UI: screenshot via Blender", OUT, flush=True)


STEPS = [run_pull, open_sidebar, select_tab, lambda: None, screenshot]


def finish(code):
    print(f"RF-UI: {'FAILED' if code else 'ok'} ({len(errors)} Python error(s))", flush=True)
    for err in errors:
        print(err, file=sys.stderr, flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def tick():
    try:
        STEPS.pop(0)()
    except Exception:  # noqa: BLE001 - any failure is the test's failure
        errors.append(traceback.format_exc())
        finish(1)
    if errors:
        finish(1)
    if not STEPS:
        finish(0)
    return 1.0


try:
    load_addon()
except Exception:  # noqa: BLE001
    errors.append(traceback.format_exc())
    finish(1)
bpy.app.timers.register(tick, first_interval=1.5)
