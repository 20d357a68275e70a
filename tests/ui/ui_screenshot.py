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
import statistics
import struct
import sys
import traceback
import zlib

import bpy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
OUT = ARGS[ARGS.index("--out") + 1] if "--out" in ARGS else os.path.join(ROOT, "panel.png")
FB = ARGS[ARGS.index("--fb") + 1] if "--fb" in ARGS else ""
SHOTS = ARGS[ARGS.index("--shots") + 1] if "--shots" in ARGS else os.path.dirname(OUT)

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
    for name, y, x, size in (("Anna", 2.0, -0.3, 0.25), ("Mid", 4.5, 0.4, 0.4),
                             ("Ben", 8.0, 1.3, 0.9)):
        bpy.ops.mesh.primitive_cube_add(size=size, location=(x, y, 0.0))
        bpy.context.active_object.name = name
    bpy.ops.mesh.primitive_plane_add(size=30.0, location=(0.0, 10.0, -0.5))
    bpy.context.active_object.name = "Ground"
    scene.frame_start, scene.frame_end = 1, 72
    scene.render.resolution_x, scene.render.resolution_y = 1280, 720
    bpy.context.view_layer.update()
    return scene


def select(*names):
    for obj in bpy.context.scene.objects:
        obj.select_set(obj.name in names)
    bpy.context.view_layer.objects.active = bpy.context.scene.objects[names[0]]


def ui_override():
    win, area = view3d()
    region = next(r for r in area.regions if r.type == "UI")
    return bpy.context.temp_override(window=win, area=area, region=region)


def check_marks_in_range(step):
    scene = bpy.context.scene
    outside = [m.frame for m in scene.rackfocus.marks
               if not scene.frame_start <= m.frame <= scene.frame_end]
    if outside:
        raise AssertionError(f"{step}: marks at frames {outside} lie outside the scene's range "
                             f"{scene.frame_start}-{scene.frame_end}")
    frames = [m.frame for m in scene.rackfocus.marks if not m.marker]
    if frames != sorted(frames):
        raise AssertionError(f"{step}: the marks are listed out of time order ({frames}): "
                             "Create Pull would refuse them")


#: A narrow sidebar (pixels at scale 1): the panels must still show every name and label.
NARROW_SIDEBAR = 202


def check_labels(step):
    """Fail on any text the panels cut at the sidebar's default width and at a narrow one."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import layout_check
    from rack_focus.operators import panel

    win, area = view3d()
    region = next(r for r in area.regions if r.type == "UI")
    panels = (panel.RACKFOCUS_PT_main, panel.RACKFOCUS_PT_timing, panel.RACKFOCUS_PT_realism,
              panel.RACKFOCUS_PT_readability, panel.RACKFOCUS_PT_output,
              panel.RACKFOCUS_PT_plate)
    scale = bpy.context.preferences.system.ui_scale
    cut = []
    with bpy.context.temp_override(window=win, area=area, region=region):
        # The panel's content is the region less its margins and the tab column (58 px at
        # scale 1, measured on Blender 5.2's sidebar).
        for sidebar in (region.width, NARROW_SIDEBAR * scale):
            width = sidebar - 58 * scale
            where = f"at {sidebar:.0f} px: "
            cut += [where + c for c in layout_check.check_panels(bpy.context, panels, width)]
            # The mark list's rows: each subject's name must show whole.
            settings = bpy.context.scene.rackfocus
            for item in settings.marks:
                root = layout_check.Node("row")
                panel.width_for_check = width
                try:
                    panel.RACKFOCUS_UL_marks.draw_item(None, bpy.context,
                                                       layout_check.Recorder(root), settings,
                                                       item, 0, settings, "active_mark")
                finally:
                    panel.width_for_check = None
                # The list less its side column of buttons and margins (measured).
                cut += layout_check.cut_texts(root, width - 44 * scale, scale,
                                              where + "Focus Marks list: ")
    print(f"RF-UI: {step}: labels checked at {region.width} and {NARROW_SIDEBAR} px, "
          f"{len(cut)} cut", flush=True)
    if cut:
        raise AssertionError(f"{step}: cut labels: " + "; ".join(cut))


def write_footage(folder):
    """A 64x36 still and its metric depth (near block at 2 m on a wall at 6 m), made here."""
    os.makedirs(folder, exist_ok=True)
    w, h = 64, 36
    color = bpy.data.images.new("rf-footage", w, h)
    depth = bpy.data.images.new("rf-depth", w, h, float_buffer=True)
    # Metres, not colour: saved as is (a colour space would sRGB-encode 2 m and 6 m to 1.35 and
    # 2.17 in the EXR).
    depth.colorspace_settings.name = "Non-Color"
    rgba, z = [], []
    for y in range(h):
        for x in range(w):
            near = 12 <= x < 30 and 8 <= y < 28
            rgba += [0.9, 0.4, 0.1, 1.0] if near else [0.2 + 0.3 * ((x // 4 + y // 4) % 2),
                                                       0.3, 0.6, 1.0]
            z += [2.0 if near else 6.0] * 3 + [1.0]
    color.pixels = rgba
    depth.pixels = z
    paths = {}
    for img, name, fmt in ((color, "footage.png", "PNG"), (depth, "depth.exr", "OPEN_EXR")):
        img.filepath_raw = os.path.join(folder, name)
        img.file_format = fmt
        img.save()
        paths[name] = img.filepath_raw
    return paths["footage.png"], paths["depth.exr"]


# Operators run with undo=True, as from the panel: each pushes an undo step, so Ctrl+Z works.
def step_marks():
    scene = build_scene()
    with ui_override():
        select("Anna", "Ben", "Mid")
        scene.frame_set(1)
        assert bpy.ops.rackfocus.add_mark("EXEC_DEFAULT", True) == {"FINISHED"}
    # Opened after the first Rack Focus operator ran in the sidebar: the sidebar then shows
    # the Rack Focus tab (Region.active_panel_category is read-only in 5.2).
    open_sidebar()
    select_tab()
    names = [m.subject.name for m in scene.rackfocus.marks]
    assert names == ["Anna", "Anna", "Mid", "Mid", "Ben", "Ben"], names
    # The list shows the first new mark (it does not scroll it away).
    assert scene.rackfocus.active_mark == 0, scene.rackfocus.active_mark


def step_preset():
    with ui_override():
        done = bpy.ops.rackfocus.apply_preset("EXEC_DEFAULT", True, name="fg_to_bg")
        assert done == {"FINISHED"}


def step_create():
    with ui_override():
        assert bpy.ops.rackfocus.create_pull("EXEC_DEFAULT", True) == {"FINISHED"}
    win, area = view3d()
    win_region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(window=win, area=area, region=win_region):
        assert bpy.ops.rackfocus.view_camera("EXEC_DEFAULT", True) == {"FINISHED"}


def viewport_pixels():
    """The 3D viewport's pixels left of the sidebar as drawn now (RGB bytes, X framebuffer)."""
    win, area = view3d()
    with bpy.context.temp_override(window=win):
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=2)
    view = next(r for r in area.regions if r.type == "WINDOW")
    side = next(r for r in area.regions if r.type == "UI")
    width, height, rows = read_fb(FB)
    # Xvfb paints the X pointer into its framebuffer, at the screen's centre, on some frames
    # only: blank it so two captures compare what Blender drew.
    cx, cy = width // 2, height // 2
    for y in range(cy - 24, cy + 24):
        rows[y] = rows[y][:(cx - 24) * 3] + bytes(48 * 3) + rows[y][(cx + 24) * 3:]
    top = height - (view.y + view.height)
    return b"".join(row[view.x * 3:side.x * 3] for row in rows[top:top + view.height])


def changed_pixels(a, b, width=0):
    """How many pixels differ between two captures (and, given ``width``, where)."""
    diff = [i // 3 for i in range(0, min(len(a), len(b)), 3) if a[i:i + 3] != b[i:i + 3]]
    if diff and width:
        xs, ys = [i % width for i in diff], [i // width for i in diff]
        print(f"RF-UI: {len(diff)} px differ in x {min(xs)}-{max(xs)}, y {min(ys)}-{max(ys)} "
              "(from the top)", flush=True)
    return len(diff)


def viewport_width():
    _win, area = view3d()
    view = next(r for r in area.regions if r.type == "WINDOW")
    side = next(r for r in area.regions if r.type == "UI")
    return side.x - view.x


def step_overlay():
    """The focus display obeys its toggle, the viewport's Overlays switch and the camera's DOF
    switch; Preview DOF is a toggle that puts the shading back."""
    from rack_focus.operators import overlay

    scene = bpy.context.scene
    settings = scene.rackfocus
    _win, area = view3d()
    space = area.spaces.active
    counts = overlay.draw_counts
    # The toggle is in the viewport's Overlays popover, beside Blender's own overlays.
    assert overlay.draw_overlay_toggle in bpy.types.VIEW3D_PT_overlay._dyn_ui_initialize()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import layout_check

    root = layout_check.Node("column")
    with ui_override():
        overlay.draw_overlay_toggle(type("P", (), {"layout": layout_check.Recorder(root)})(),
                                    bpy.context)
    assert "Focus Plane" in layout_check.texts(root), layout_check.texts(root)
    shown = viewport_pixels()
    assert counts["lines"] > 0 and counts["text"] > 0, f"the focus display never drew: {counts}"
    settings.show_overlay = False
    hidden = viewport_pixels()
    differ = changed_pixels(shown, hidden)
    print(f"RF-UI: focus display: {differ} px change with its toggle", flush=True)
    assert differ > 200, f"the Focus Plane toggle changes only {differ} px"
    # Blender's Overlays switch (Alt+Shift+Z) hides it as it hides Blender's own overlays.
    space.overlay.show_overlays = False
    off_without = viewport_pixels()
    settings.show_overlay = True
    before = dict(counts)
    off_with = viewport_pixels()
    differ = changed_pixels(off_without, off_with, viewport_width())
    assert counts == before and differ == 0, (
        f"with Overlays off the focus display still draws ({differ} px, {before} -> {counts})")
    space.overlay.show_overlays = True
    # A camera whose DOF is off: no lines, and the readout says so.
    scene.camera.data.dof.use_dof = False
    before = dict(counts)
    viewport_pixels()
    assert counts["lines"] == before["lines"], "focus lines drawn on a camera with DOF off"
    text = overlay.focus_readout(scene.camera)[3]
    assert "DOF off" in text, text
    screenshot(os.path.join(SHOTS, "03b_dof_off.png"))
    scene.camera.data.dof.use_dof = True
    step_preview_toggle(space)


def step_preview_toggle(space):
    win, area = view3d()
    region = next(r for r in area.regions if r.type == "WINDOW")
    space.shading.type = "SOLID"
    with bpy.context.temp_override(window=win, area=area, region=region):
        assert bpy.ops.rackfocus.preview_dof("EXEC_DEFAULT") == {"FINISHED"}
        assert space.shading.type == "MATERIAL"
        screenshot(os.path.join(SHOTS, "03c_preview_dof_material.png"))
        assert bpy.ops.rackfocus.preview_dof("EXEC_DEFAULT") == {"FINISHED"}
    assert space.shading.type == "SOLID", "a second Preview DOF did not restore Solid shading"


def step_scrub():
    scene = bpy.context.scene
    marks = scene.rackfocus.marks
    scene.frame_set((marks[0].frame + marks[len(marks) - 1].frame) // 2)


def step_readability():
    with ui_override():
        assert bpy.ops.rackfocus.check_readability("EXEC_DEFAULT", True) == {"FINISHED"}
    assert len(bpy.context.scene.rackfocus.readout_lines)


def panel_texts(panel_cls):
    """Every text ``panel_cls`` draws now (labels, buttons, fields), as recorded."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import layout_check

    root = layout_check.Node("column")
    with ui_override():
        panel_cls.draw(type("P", (), {"layout": layout_check.Recorder(root)})(), bpy.context)
    return layout_check.texts(root)


def step_stale_readout():
    """Use f/N offers a real stop and clears the old warnings; a change the readout does not
    describe marks it out of date."""
    from rack_focus.operators import panel
    from rack_focus.rackfocus_addon.readability import THIRD_STOPS

    scene = bpy.context.scene
    settings = scene.rackfocus
    data = scene.camera.data
    data.dof.aperture_fstop = 22.0
    with ui_override():
        assert bpy.ops.rackfocus.check_readability("EXEC_DEFAULT", True) == {"FINISHED"}
    n = settings.suggested_fstop
    assert n in THIRD_STOPS, f"Use f/{n:g} is not a stop on a lens ring"
    assert f"Use f/{n:g}" in panel_texts(panel.RACKFOCUS_PT_readability)
    screenshot(os.path.join(SHOTS, "05b_use_fstop.png"))
    with ui_override():
        assert bpy.ops.rackfocus.solve_fstop("EXEC_DEFAULT", True) == {"FINISHED"}
    warnings = [line.text for line in settings.readout_lines if line.warning]
    assert not warnings, f"after Use f/{n:g} the readout still warns: {warnings}"
    data.dof.aperture_fstop = 2.0
    texts = panel_texts(panel.RACKFOCUS_PT_readability)
    assert any(t.startswith("Out of date") for t in texts), (
        f"the f-stop changed and the readout does not say it is out of date: {texts}")
    screenshot(os.path.join(SHOTS, "05c_out_of_date.png"))
    with ui_override():
        assert bpy.ops.rackfocus.check_readability("EXEC_DEFAULT", True) == {"FINISHED"}
    assert not any(t.startswith("Out of date")
                   for t in panel_texts(panel.RACKFOCUS_PT_readability))


def step_bake():
    scene = bpy.context.scene
    scene.rackfocus.mode = "bake"
    with ui_override():
        assert bpy.ops.rackfocus.create_pull("EXEC_DEFAULT", True) == {"FINISHED"}
    assert scene.camera.data.get("rackfocus_pull")


def step_clear():
    with ui_override():
        assert bpy.ops.rackfocus.clear_pull("EXEC_DEFAULT", True) == {"FINISHED"}
    assert not bpy.context.scene.camera.data.get("rackfocus_pull")


def step_undo():
    win, area = view3d()
    region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(window=win, screen=win.screen, area=area, region=region):
        print("RF-UI: undo possible:", bpy.ops.ed.undo.poll(), flush=True)
        bpy.ops.ed.undo()
    assert bpy.context.scene.camera.data.get("rackfocus_pull"), "undo did not bring the pull back"


def step_import_plate():
    tmp = os.environ.get("TMPDIR", "/tmp")
    footage, depth = write_footage(os.path.join(tmp, "rf-ui-footage"))
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(tmp, "rf-ui.blend"))
    from rack_focus.operators import plate as plate_ops

    # Refused: the message names the field as the dialog labels it, and what was typed is kept
    # for the dialog to show again.
    with ui_override():
        try:
            bpy.ops.rackfocus.import_plate("EXEC_DEFAULT", True, footage=footage, depth=depth,
                                           fill_px=2000)
        except RuntimeError as err:
            assert "Fill Behind must be" in str(err), err
        else:
            raise AssertionError("Fill Behind 2000 px was not refused")
    # Without ONNX Runtime, Estimate Depth names this platform's zip that bundles it.
    from rack_focus.rackfocus_addon.estimate import model as estimate_model

    problem = estimate_model.runtime_problem()
    if problem:
        help_text = plate_ops.runtime_help(problem)
        print("RF-UI: no ONNX Runtime here:", help_text, flush=True)
        assert ".zip" in help_text and "Install from Disk" in help_text, help_text
    typed = plate_ops._typed
    assert (typed.get("footage"), typed.get("depth"), typed.get("fill_px")) == (
        footage, depth, 2000), f"the refused dialog forgot what was typed: {typed}"
    with ui_override():
        done = bpy.ops.rackfocus.import_plate("EXEC_DEFAULT", True, footage=footage,
                                              depth=depth)
        assert done == {"FINISHED"}
    scene = bpy.context.scene
    assert (scene.frame_start, scene.frame_end) == (1, 72), "the scene's range was not kept"


def step_footage_mark():
    """A click on the footage in the camera view: the pick maps the window position to the
    footage pixel under it (the centre of the camera frame is the footage's centre)."""
    from types import SimpleNamespace

    from rack_focus.operators import plate as plate_ops

    win, area = view3d()
    region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(window=win, area=area, region=region):
        bpy.ops.view3d.view_center_camera()
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=1)
        click = SimpleNamespace(mouse_x=region.x + region.width // 2,
                                mouse_y=region.y + region.height // 2)
        hit = plate_ops.footage_pixel_under(bpy.context, click)
    assert hit is not None, "no footage under the centre of the camera view"
    _plate, x, y = hit
    assert abs(x - 32) <= 1 and abs(y - 18) <= 1, (x, y)
    with ui_override():
        done = bpy.ops.rackfocus.add_pixel_mark("EXEC_DEFAULT", True, x=x, y=y)
        assert done == {"FINISHED"}
    settings = bpy.context.scene.rackfocus
    mark = settings.marks[settings.active_mark]  # placed by its frame, not appended
    assert mark.kind == "PIXEL" and tuple(mark.pixel) == (x, y)
    # The centre pixel lies on the 6 m wall (the near block spans columns 12-29).
    assert abs(mark.depth_m - 6.0) < 1e-3, f"footage mark at {x},{y} reads {mark.depth_m} m"
    assert mark.frame == bpy.context.scene.frame_current


def run_pull():
    """Kept for the single-shot call in older scripts: the whole flow without screenshots."""
    for _name, fn in FLOW:
        fn()


FLOW = [("01_marks_from_selection", step_marks), ("02_preset", step_preset),
        ("03_create_pull", step_create), ("03a_overlay", step_overlay),
        ("04_scrub", step_scrub),
        ("05_readability", step_readability), ("05a_stale_readout", step_stale_readout),
        ("06_bake", step_bake), ("07_clear", step_clear),
        ("08_undo", step_undo), ("09_import_plate", step_import_plate),
        ("10_footage_mark", step_footage_mark)]


def open_sidebar():
    win, area = view3d()
    space = area.spaces.active
    space.show_region_ui = True
    space.overlay.show_overlays = True
    if win.screen.show_fullscreen is False and len(win.screen.areas) > 1:
        with bpy.context.temp_override(window=win, area=area):
            bpy.ops.screen.screen_full_area()
    return win


def select_tab():
    win, area = view3d()
    # The sidebar knows its tabs only once it has been drawn.
    with bpy.context.temp_override(window=win):
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=1)
    win, area = view3d()
    for region in area.regions:
        if region.type == "UI":
            try:
                region.active_panel_category = "Rack Focus"
            except (AttributeError, TypeError) as err:
                print("RF-UI: cannot select the tab:", err, flush=True)
            print("RF-UI: sidebar tab", region.active_panel_category, region.width, flush=True)
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


def read_fb(xwd_path):
    """Xvfb's -fbdir framebuffer (XWD, 32-bit BGRX, LSB first) as (width, height, RGB rows)."""
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
    return width, height, rows


def xwd_to_png(xwd_path, png_path):
    width, height, rows = read_fb(xwd_path)
    write_png(png_path, width, height, rows)
    return width, height


def screenshot(path=None):
    path = path or OUT
    win, _area = view3d()
    with bpy.context.temp_override(window=win):
        bpy.ops.wm.redraw_timer(type="DRAW_WIN_SWAP", iterations=2)
    if FB and os.path.exists(FB):
        size = xwd_to_png(FB, path)
        print("RF-UI: screenshot from the X framebuffer", size, path, flush=True)
    else:
        with bpy.context.temp_override(window=win):
            bpy.ops.screen.screenshot(filepath=path)
        print("RF-UI: screenshot via Blender", path, flush=True)


def _step(name, fn):
    def run():
        fn()
        check_marks_in_range(name)
        check_labels(name)
        print(f"RF-UI: step {name} ok", flush=True)
    return run


def _shot(name):
    return lambda: screenshot(os.path.join(SHOTS, f"{name}.png"))


def material_preview():
    """Material Preview (EEVEE) for the last shots: the corner text on a lit scene."""
    _win, area = view3d()
    area.spaces.active.shading.type = "MATERIAL"


def _luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour (0-1 floats)."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def check_legend_contrast():
    """On a bright lit scene (Material Preview, the white floor behind the corner text) the
    legend's blue still reads at WCAG AA (4.5:1) against the backing as drawn."""
    from rack_focus.operators import overlay

    pixels, width = viewport_pixels(), viewport_width()
    _win, area = view3d()
    height = next(r for r in area.regions if r.type == "WINDOW").height
    scale = bpy.context.preferences.system.ui_scale
    box, runs = overlay.text_layout(bpy.context.scene.camera, scale)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    pad = int(6 * scale)

    def lums(xs, ys):  # luminance of pixels (x, y from the region's bottom), sorted
        return sorted(_luminance([pixels[((height - 1 - y) * width + x) * 3 + c] / 255.0
                                  for c in range(3)]) for x in xs for y in ys)

    rows = range(y0 + 2, y1 - 2)
    backing = statistics.median(lums(range(x0 + 1, x0 + pad - 1), rows))  # pad: no glyphs
    behind = statistics.median(lums(range(x1 + 4, x1 + 24), rows))  # the scene beside the box
    # The legend's blue run as drawn: the brightest of its glyphs' pixels (their cores).
    (lx, ly), = [(x, y) for _r, color, x, y in runs if color[:3] == overlay.LIMIT_COLOR[:3]]
    text = lums(range(int(lx) + 2, x1 - pad), range(int(ly), int(ly + 10 * scale)))[-1]
    ratio = (max(text, backing) + 0.05) / (min(text, backing) + 0.05)
    print(f"RF-UI: legend contrast {ratio:.1f}:1 (text {text:.3f}, backing {backing:.3f}, "
          f"scene behind {behind:.3f})", flush=True)
    assert behind > 0.4, f"the scene behind the corner text is not bright ({behind:.3f})"
    assert ratio >= 4.5, f"the legend reads at {ratio:.1f}:1 over a bright scene (< 4.5)"


def refused_dialog():
    """A refused Import Plate opened again shows what was typed (the last shot: the dialog
    stays open)."""
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), "rf-ui-footage")
    footage, depth = (os.path.join(tmp, "footage.png"), os.path.join(tmp, "depth.exr"))
    win, area = view3d()
    region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(window=win, area=area, region=region):
        try:
            bpy.ops.rackfocus.import_plate("EXEC_DEFAULT", footage=footage, depth=depth,
                                           fill_px=2000)
        except RuntimeError:
            pass  # refused, as in step_import_plate
        bpy.ops.rackfocus.import_plate("INVOKE_DEFAULT")


def docs_frame():
    """The panel.png moment: mid-rack, focus near the middle subject, a fresh readout."""
    bpy.context.scene.frame_set(29)


STEPS = []
for _name, _fn in FLOW:
    STEPS += [_step(_name, _fn), _shot(_name)]
    if _name == "05a_stale_readout":
        STEPS += [docs_frame, screenshot]
STEPS += [lambda: bpy.context.scene.frame_set(13), material_preview,
          *[lambda: None] * 12, _shot("11_material_preview"), check_legend_contrast,
          refused_dialog, _shot("12_refused_dialog_reopened")]


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
