"""What every Rack Focus operator shares: the poll on the scene camera, engine errors turned
into reports, and Blender's progress bar for long work."""

import contextlib

import bpy

from ..rackfocus_addon.bl.subjects import resolve_camera
from ..rackfocus_addon.errors import RackFocusError


def camera_or_why(context):
    """(camera, None) or (None, the reason the scene camera cannot be used)."""
    try:
        return resolve_camera(context.scene), None
    except RackFocusError as err:
        return None, str(err)


def poll_camera(cls, context) -> bool:
    """Poll helper: the scene camera is usable, else the reason becomes the greyed-out tooltip."""
    cam, why = camera_or_why(context)
    if cam is None:
        cls.poll_message_set(why)
    return cam is not None


def poll_settings(cls, context) -> bool:
    """Poll helper: the scene has Rack Focus settings (the extension is registered)."""
    if getattr(context.scene, "rackfocus", None) is None:
        cls.poll_message_set("Rack Focus is not registered in this scene")
        return False
    return True


def poll_marks(cls, context) -> bool:
    """Poll helper: a usable camera and at least one focus mark."""
    if not poll_camera(cls, context):
        return False
    settings = getattr(context.scene, "rackfocus", None)
    if settings is None or not len(settings.marks):
        cls.poll_message_set("Add focus marks first: select a subject, then Add Focus Mark")
        return False
    return True


def view3d_area(context):
    """The 3D viewport the operator runs in, else the first one on the screen, else None."""
    if context.area is not None and context.area.type == "VIEW_3D":
        return context.area
    screen = context.screen
    if screen is None:
        return None
    return next((a for a in screen.areas if a.type == "VIEW_3D"), None)


def poll_camera_view(cls, context) -> bool:
    """Poll helper: a usable camera and a 3D viewport to look through it."""
    if not poll_camera(cls, context):
        return False
    if view3d_area(context) is None:
        cls.poll_message_set("Needs a 3D viewport")
        return False
    return True


class ViewportPick:
    """Mixin for a modal eyedropper pick in the 3D viewport: ``invoke`` starts it with
    ``pick_hint`` in the status bar, ``cancelled`` ends it on Esc or right click, ``finish``
    puts the cursor and the status bar back. The operator's ``modal`` does the picking."""

    pick_hint = "Click to pick; Esc to cancel"

    def invoke(self, context, event):
        if bpy.app.background or not any(a.type == "VIEW_3D" for a in context.screen.areas):
            self.report({"ERROR"}, "Picking needs a 3D viewport")
            return {"CANCELLED"}
        context.window.cursor_modal_set("EYEDROPPER")
        context.window_manager.modal_handler_add(self)
        context.workspace.status_text_set(self.pick_hint)
        return {"RUNNING_MODAL"}

    def finish(self, context) -> None:
        context.window.cursor_modal_restore()
        context.workspace.status_text_set(None)

    def cancelled(self, context, event) -> bool:
        if event.type in {"ESC", "RIGHTMOUSE"}:
            self.finish(context)
            return True
        return False


def run_reported(operator, work) -> set[str]:
    """Run ``work()``; an engine error (or a file error) becomes the operator's error report.

    ``work`` does the operator's job and its own info reports; nothing is left half-done
    because the engine validates before it changes anything.
    """
    try:
        work()
    except (RackFocusError, OSError) as err:
        operator.report({"ERROR"}, str(err))
        return {"CANCELLED"}
    return {"FINISHED"}


@contextlib.contextmanager
def ui_progress(context):
    """A ``(label, done, total)`` progress callback shown as Blender's progress indicator and in
    the status bar while the block runs (no-ops in background mode)."""
    wm = context.window_manager
    workspace = getattr(context, "workspace", None)
    started = False

    def report(label: str, done: int, total: int) -> None:
        nonlocal started
        if not started:
            wm.progress_begin(0, 1000)
            started = True
        wm.progress_update(int(1000 * done / max(total, 1)))
        if workspace is not None:
            workspace.status_text_set(f"Rack Focus: {label} {done}/{total}")

    try:
        yield report
    finally:
        if started:
            wm.progress_end()
        if workspace is not None:
            workspace.status_text_set(None)


def wrapped(layout, text: str, width_px: float, icon: str = "NONE") -> None:
    """``text`` as labels broken at words to fit ``width_px`` (labels do not wrap themselves).

    Measured with the UI font where one is loaded (a window), else by a typical glyph width.
    """
    # Split at plain spaces only: a number and its unit are joined by a no-break space.
    words, line, first = text.split(" "), "", True
    scale = bpy.context.preferences.system.ui_scale
    # The icon, the label's margins and a box's border come off the width.
    room = max(width_px - (50 if icon != "NONE" else 30) * scale, 60)
    for word in words:
        candidate = f"{line} {word}".strip()
        if line and text_width(candidate) > room:
            layout.label(text=line, icon=icon if first else _continued(icon))
            line, first = word, False
        else:
            line = candidate
    if line:
        layout.label(text=line, icon=icon if first else _continued(icon))


def _continued(icon: str) -> str:
    """A wrapped text's later lines: a blank the icon's width under an icon, else nothing (a
    blank there would indent every line after the first)."""
    return "BLANK1" if icon != "NONE" else "NONE"


def text_width(text: str) -> float:
    """Pixels ``text`` takes in the UI font at the current interface scale."""
    scale = bpy.context.preferences.system.ui_scale
    if bpy.app.background:
        return len(text) * 6.5 * scale
    import blf

    blf.size(0, 11 * scale)
    return blf.dimensions(0, text)[0]
