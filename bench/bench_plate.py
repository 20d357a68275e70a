"""Depth-plate benchmark: fidelity against true DOF, and cost of plates at production size.

    .venv/bin/python bench/bench_plate.py                 # fidelity table (~1 min on 2 cores)
    .venv/bin/python bench/bench_plate.py --real-like     # + plate cache on real-like footage
    .venv/bin/python bench/bench_plate.py --hd            # + 1080p build/render cost, real-like
    .venv/bin/python bench/bench_plate.py --hd --densities 0.25,0.5,1,2
    .venv/bin/python bench/bench_plate.py --eevee --resolution 160x90 --samples 64
    .venv/bin/python bench/bench_plate.py --no-fidelity --render    # render vs flat-quad floor
    .venv/bin/python bench/bench_plate.py --no-fidelity --denoise   # samples for a clean frame

Fidelity: a CG shot (box 2.2 m, sphere 3.5 m, wall 8 m; emission-lit) is rendered all-in-focus
with an exact planar depth render (the "footage"), and with true thin-lens DOF at several focus
distances (the ground truth). The footage is then refocused two ways: as a depth plate rendered
by Cycles, and by the compositor's Defocus node fed the same image and depth. PSNR (dB) and SSIM
are printed for the whole frame and for the edge band (pixels within 3 px of a depth edge), with
the noise floor (two ground-truth renders with different seeds).

Real-like: the plate cache (depth conversion, background fill, EXRs) of footage as a real shot
gives it (``tests/oracles.py`` ``real_like_frame``: many depth edges, fences, foliage, spokes,
wires, 7 % unmeasured depth in clumps and speckle, textured colour; 8-bit PNG footage, float EXR
depth) at 1080p (1920x1296) and 4K (3840x2591), and a 48-frame 1080p clip. Each case runs in a
fresh process (``import_plate`` as the CLI runs it), which reports the time per frame and its peak
memory (VmHWM, Blender included); printed beside the targets, with the clip's peak against one
frame's. ``--code DIR`` measures another checkout's ``rackfocus_addon`` (e.g. the code before).

Render: a real-like 1080p and 4K plate rendered at 1, 8 and 16 samples (Cycles CPU, f/2, no
denoiser, no adaptive sampling), each in a fresh process with its peak memory, back to back with
the floor: the footage as emission on one flat quad, same camera and DOF. Variants: the light
plate with the render settings made for it, the uniform grid, Blender's default settings.
Denoise: PSNR against a 256-sample render of a centre crop at each sample count, with and
without OpenImageDenoise (where this Blender has it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the test oracles (oracles, bl_oracles)
if "--code" in sys.argv:  # measure another checkout's engine (its rackfocus_addon)
    sys.path.insert(0, os.path.abspath(sys.argv[sys.argv.index("--code") + 1]))

import bl_oracles  # noqa: E402
import bpy  # noqa: E402
import numpy as np  # noqa: E402
import oracles  # noqa: E402

from rackfocus_addon import plate_cache  # noqa: E402
from rackfocus_addon import plate_mesh as pm  # noqa: E402
from rackfocus_addon.bl import demo_plate as dp  # noqa: E402
from rackfocus_addon.bl import footage, plate  # noqa: E402
from rackfocus_addon.plate_request import PlateRequest  # noqa: E402


def rss_mb() -> float:
    """Current resident memory of this process (MB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cycles(scene, samples: int) -> None:
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.use_denoising = False
    scene.cycles.samples = samples


def fidelity(out: str, width: int, height: int, samples: int, fstop: float,
             focuses: list[float], density: float, eevee: bool = False) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    dp.build_cg_scene(scene, width, height, 1)
    colors, depths = dp.render_footage(scene, out, samples=32)
    truths = {}
    floor = {}
    for f in focuses:
        scene.cycles.seed = 0
        truths[f] = bl_oracles.render_truth(scene, f"{out}/truth_{f}.png", f, fstop,
                                            samples)[..., :3]
        scene.cycles.seed = 7
        other = bl_oracles.render_truth(scene, f"{out}/truth2_{f}.png", f, fstop,
                                        samples)[..., :3]
        floor[f] = other
    scene.cycles.seed = 0

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    t0 = time.perf_counter()
    result = plate.import_plate(scene, PlateRequest(colors[0], depths[0], density=density,
                                                    cache_dir=os.path.join(out, "cache")))
    build_s = time.perf_counter() - t0
    layers = [scene.objects[result.plate], scene.objects[result.fill]]
    cycles(scene, samples)
    cam = scene.camera
    z = footage.read_pixels(depths[0], data=True)[0][..., 0]
    band = pm.edge_band(z, 3)
    print(f"\nFidelity vs true DOF: {width}x{height}, f/{fstop:g}, {samples} spp, plate density "
          f"{density:g} (build {build_s:.2f} s), edge band {band.mean() * 100:.1f}% of pixels")
    head = (f"{'focus m':>8} | {'method':<13} | {'PSNR full':>9} | {'PSNR edge':>9} | "
            f"{'SSIM full':>9} | {'SSIM edge':>9} | {'time s':>6}")
    print(head)
    print("-" * len(head))
    for f in focuses:
        cam.data.dof.use_dof = True
        cam.data.dof.focus_distance = f
        cam.data.dof.aperture_fstop = fstop
        t0 = time.perf_counter()
        dp.render_still(scene, f"{out}/plate_{f}.png", "PNG")
        plate_s = time.perf_counter() - t0
        ours = footage.read_pixels(f"{out}/plate_{f}.png")[0][..., :3]
        t0 = time.perf_counter()
        base = bl_oracles.defocus_node(scene, colors[0], depths[0], f"{out}/defocus_{f}.png",
                                       f, fstop)[..., :3]
        defocus_s = time.perf_counter() - t0
        truth = truths[f]
        rows = [("plate", ours, plate_s), ("Defocus node", base, defocus_s),
                ("noise floor", floor[f], float("nan"))]
        if density == plate.DEFAULT_DENSITY:  # the light plate against the uniform grid
            for obj in layers:
                plate.set_plate_input(obj, "Adaptive", False)
            t0 = time.perf_counter()
            dp.render_still(scene, f"{out}/uniform_{f}.png", "PNG")
            rows.insert(1, ("plate uniform", footage.read_pixels(f"{out}/uniform_{f}.png")[0][
                ..., :3], time.perf_counter() - t0))
            for obj in layers:
                plate.set_plate_input(obj, "Adaptive", True)
        if eevee:
            from rackfocus_addon.bl import compat

            scene.render.engine = compat.eevee_engine_id()
            scene.eevee.taa_render_samples = samples
            t0 = time.perf_counter()
            dp.render_still(scene, f"{out}/eevee_{f}.png", "PNG")
            rows.insert(1, ("plate EEVEE", footage.read_pixels(f"{out}/eevee_{f}.png")[0][..., :3],
                            time.perf_counter() - t0))
            cycles(scene, samples)
        for name, img, secs in rows:
            print(f"{f:>8.2f} | {name:<13} | {oracles.psnr(img, truth):>9.2f} | "
                  f"{oracles.psnr(img, truth, band):>9.2f} | {oracles.ssim(img, truth):>9.4f} | "
                  f"{oracles.ssim(img, truth, band):>9.4f} | {secs:>6.2f}")
    cam.data.dof.use_dof = False
    dp.render_still(scene, f"{out}/roundtrip.png", "PNG")
    rt = footage.read_pixels(f"{out}/roundtrip.png", data=True)[0][..., :3]
    src = footage.read_pixels(colors[0], data=True)[0][..., :3]
    print(f"Round trip (DOF off) PSNR vs source, Cycles: {oracles.psnr(rt, src):.2f} dB")
    if eevee:
        from rackfocus_addon.bl import compat

        scene.render.engine = compat.eevee_engine_id()
        dp.render_still(scene, f"{out}/roundtrip_eevee.png", "PNG")
        rt = footage.read_pixels(f"{out}/roundtrip_eevee.png", data=True)[0][..., :3]
        print(f"Round trip (DOF off) PSNR vs source, EEVEE: {oracles.psnr(rt, src):.2f} dB")


def hd_cost(out: str, densities: list[float], samples: int) -> None:
    width, height = 1920, 1080
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    dp.build_cg_scene(scene, width, height, 1)
    t0 = time.perf_counter()
    colors, depths = dp.render_footage(scene, out, samples=4)
    print(f"\n1080p footage + depth rendered in {time.perf_counter() - t0:.1f} s")
    head = (f"{'density':>7} | {'grid':>11} | {'faces':>10} | {'cache s':>7} | {'eval s':>6} | "
            f"{'render s':>8} | {'mem MB':>7} | {'peak MB':>7}")
    print(f"1080p plates, Cycles {samples} spp with DOF (f/2 at 3.5 m):")
    print(head)
    print("-" * len(head))
    for density in densities:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.context.scene
        base = rss_mb()
        t0 = time.perf_counter()
        result = plate.import_plate(scene, PlateRequest(colors[0], depths[0],
                                   cache_dir=os.path.join(out, f"cache_{density:g}"),
                                                        density=density))
        cache_s = time.perf_counter() - t0
        plate.set_plate_input(scene.objects[result.plate], "Viewport Density", density)
        t0 = time.perf_counter()
        bpy.context.view_layer.update()
        dg = bpy.context.evaluated_depsgraph_get()
        obj = scene.objects[result.plate].evaluated_get(dg)
        faces = len(obj.data.polygons)
        eval_s = time.perf_counter() - t0
        mem = rss_mb() - base
        cycles(scene, samples)
        cam = scene.camera
        cam.data.dof.use_dof = True
        cam.data.dof.focus_distance = 3.5
        cam.data.dof.aperture_fstop = 2.0
        t0 = time.perf_counter()
        dp.render_still(scene, f"{out}/hd_{density:g}.png", "PNG")
        render_s = time.perf_counter() - t0
        nx, ny = pm.grid_size(width + 2 * pm.default_fill_px(width),
                              height + 2 * pm.default_fill_px(width), density)
        print(f"{density:>7g} | {f'{nx}x{ny}':>11} | {faces:>10} | {cache_s:>7.2f} | "
              f"{eval_s:>6.2f} | {render_s:>8.2f} | {mem:>7.0f} | {peak_mb():>7.0f}")


# --- Real-like footage: the plate cache at production size --------------------------------------

#: Case: (width, height, frames); targets: seconds per frame and peak memory (MB) on 2 cores.
REAL_LIKE = {"1080p": (1920, 1296, 1), "4K": (3840, 2591, 1), "1080p clip": (1920, 1296, 48)}
TARGET_S = {"1080p": 1.0, "4K": 4.0, "1080p clip": 1.0}
TARGET_MB = {"1080p": 1000.0, "4K": 2500.0, "1080p clip": 1000.0}
CLIP_RATIO = 1.10  # the clip's peak memory against one frame's
PAN_PX = 8  # the clip pans this far per frame


def status_mb(field: str) -> float:
    """A /proc/self/status memory figure (VmHWM: peak resident, VmRSS: now) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def write_real_like(folder: str, width: int, height: int, frames: int, seed: int = 0
                    ) -> tuple[str, str]:
    """Real-like footage (8-bit sRGB PNG) and depth (float EXR, NaN/0 unmeasured) in ``folder``
    (kept between runs); a clip pans ``PAN_PX`` per frame. Returns the first files' paths."""
    os.makedirs(folder, exist_ok=True)
    first = (os.path.join(folder, "shot_0001.png"), os.path.join(folder, "depth_0001.exr"))
    done = os.path.join(folder, "done")
    if os.path.exists(done):
        return first
    color, depth = oracles.real_like_frame(width + PAN_PX * (frames - 1), height, seed)
    srgb = np.where(color <= 0.0031308, 12.92 * color,
                    1.055 * np.power(np.maximum(color, 0.0031308), 1 / 2.4) - 0.055)
    for i in range(frames):
        x = PAN_PX * i
        px = np.ones((height, width, 4), dtype=np.float32)
        px[..., :3] = srgb[:, x:x + width]
        img = bpy.data.images.new("real_like", width, height)  # 8-bit sRGB
        img.pixels.foreach_set(px[::-1].ravel())
        img.filepath_raw = os.path.join(folder, f"shot_{i + 1:04d}.png")
        img.file_format = "PNG"
        img.save()
        bpy.data.images.remove(img)
        z = depth[:, x:x + width]
        plate_cache.write_cache_exr(os.path.join(folder, f"depth_{i + 1:04d}.exr"),
                              np.stack([z, z, z, np.ones_like(z)]))
    open(done, "w").close()
    return first


def cache_case(footage_path: str, depth_path: str, out: str) -> dict:
    """Build a plate from the files (what ``rack-focus plate`` does) and time the cache; run in a
    fresh process by :func:`real_like`, so its peak memory is this case's alone."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    spans = []
    real = plate.write_cache

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spans.append(time.perf_counter() - t0)

    plate.write_cache = timed
    base = status_mb("VmHWM")
    cpu0 = sum(os.times()[:2])
    t0 = time.perf_counter()
    result = plate.import_plate(scene, PlateRequest(footage_path, depth_path, cache_dir=out))
    total = time.perf_counter() - t0
    cpu = sum(os.times()[:2]) - cpu0
    frames = result.footage.frames
    return {"frames": frames, "cache_s": spans[0], "build_s": total, "cpu_s": cpu,
            "peak_mb": status_mb("VmHWM"), "base_mb": base,
            "invalid": result.report.invalid / max(result.report.pixels, 1)}


def compute_case(footage_path: str, depth_path: str) -> dict:
    """The cache computation alone (arrays in memory, no file I/O): conversion, fill, packing."""
    import tracemalloc

    from rackfocus_addon import depth as depth_maths

    color = footage.read_pixels(footage_path)[0]
    raw = np.ascontiguousarray(footage.read_pixels(depth_path, data=True)[0][..., 0])
    radius = pm.default_fill_px(color.shape[1])
    conv = depth_maths.Converter("metric")
    conv.fit(lambda: iter([raw]), 1)
    def compute():
        z, measured = conv.convert_masked(raw)
        if hasattr(pm, "cache_frame"):
            return pm.cache_frame(color, z, measured, radius)
        return pm.background_fill(color[..., :3], z, radius)  # the code before had no packing

    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        compute()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    compute()
    numpy_peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return {"compute_s": min(times), "numpy_peak_mb": numpy_peak}


def _run_case(args: list[str], code: str | None) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__)] + args + (["--code", code] if code else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"{' '.join(args[:1])} failed:\n{done.stdout[-2000:]}"
                           f"{done.stderr[-2000:]}")
    return json.loads(lines[-1])


def real_like(out: str, cases: list[str], code: str | None = None) -> None:
    """Plate cache on real-like footage: time per frame and peak memory against the targets."""
    cores = os.cpu_count()
    print(f"\nReal-like plate cache, {cores} cores: depth with many edges and thin structures "
          f"and unmeasured pixels, textured colour ({'code ' + code if code else 'this code'})")
    head = (f"{'case':<11} | {'frames':>6} | {'cache s/frame':>13} | {'target':>6} | "
            f"{'build s':>7} | {'compute s':>9} | {'peak MB':>7} | {'target':>6} | "
            f"{'cores busy':>10}")
    print(head)
    print("-" * len(head))
    rows = {}
    for case in cases:
        width, height, frames = REAL_LIKE[case]
        folder = os.path.join(out, "real_like", f"{width}x{height}x{frames}")
        footage_path, depth_path = write_real_like(folder, width, height, frames)
        cache = os.path.join(out, "real_like_cache")
        shutil.rmtree(cache, ignore_errors=True)
        row = _run_case(["--cache-case", footage_path, depth_path, cache], code)
        shutil.rmtree(cache, ignore_errors=True)  # a 48-frame 1080p cache is 4 GB
        if frames == 1:
            row.update(_run_case(["--compute-case", footage_path, depth_path], code))
        rows[case] = row
        per = row["cache_s"] / row["frames"]
        compute = f"{row['compute_s']:>9.2f}" if "compute_s" in row else f"{'':>9}"
        ok_s = "ok" if per <= TARGET_S[case] else "MISS"
        ok_mb = "ok" if row["peak_mb"] <= TARGET_MB[case] else "MISS"
        print(f"{case:<11} | {row['frames']:>6} | {per:>13.2f} | {TARGET_S[case]:>4.1f} {ok_s:<2}"
              f"| {row['build_s']:>7.1f} | {compute} | {row['peak_mb']:>7.0f} | "
              f"{TARGET_MB[case]:>4.0f} {ok_mb:<2}| {row['cpu_s'] / row['build_s']:>10.2f}")
    if "1080p" in rows and "1080p clip" in rows:
        ratio = rows["1080p clip"]["peak_mb"] / rows["1080p"]["peak_mb"]
        print(f"48-frame 1080p clip peak / one frame's: {ratio:.3f} (target <= {CLIP_RATIO:.2f}) "
              f"{'ok' if ratio <= CLIP_RATIO else 'MISS'}")
    for case, row in rows.items():
        if "numpy_peak_mb" in row:
            print(f"{case}: unmeasured depth {100 * row['invalid']:.1f} %, Blender and Python "
                  f"before the build {row['base_mb']:.0f} MB, numpy peak of the computation "
                  f"alone {row['numpy_peak_mb']:.0f} MB")
    print("cache s/frame: the cache build (read, convert, fill, write) per frame; build s: the "
          "whole import; compute s: conversion + fill + packing of one frame in memory; cores "
          "busy: CPU time / wall time of the build")


# --- Render cost: the plate against the flat-quad floor ----------------------------------------

#: Variants of one frame's render: the plate with the render settings made for it, the plate
#: with Blender's defaults (plate-defaults), the uniform grid of one vertex per pixel instead of
#: the light plate (plate-uniform: both as the import made them before), and the floor: the
#: footage as emission on one flat quad with the same camera and depth of field.
RENDER_VARIANTS = ("floor", "plate", "plate-uniform", "plate-defaults")
RENDER_FOCUS_M, RENDER_FSTOP = 3.5, 2.0


def render_blend(out: str, case: str) -> str:
    """A saved .blend with a real-like plate of ``case`` (1080p or 4K), built once."""
    width, height, _ = REAL_LIKE[case]
    folder = os.path.join(out, "real_like", f"{width}x{height}x1")
    footage_path, depth_path = write_real_like(folder, width, height, 1)
    blend = os.path.join(out, f"render_{case}.blend")
    if not os.path.exists(blend):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.wm.save_as_mainfile(filepath=blend)
        plate.import_plate(bpy.context.scene, PlateRequest(footage_path, depth_path))
        bpy.ops.wm.save_as_mainfile(filepath=blend)
    return blend


def _floor(scene) -> None:
    """Hide the plates; the footage on one quad at 10 m filling the frame, emission only."""
    from rackfocus_addon.bl import records

    plates = [o for o in scene.objects if records.read(o, plate.RECORD)]
    image = plates[0].material_slots[0].material.node_tree.nodes["Image Texture"].image
    for obj in plates:
        obj.hide_render = True
    cam = scene.camera
    z = 10.0
    half_w = 0.5 * cam.data.sensor_width / cam.data.lens * z
    half_h = half_w * scene.render.resolution_y / scene.render.resolution_x
    mesh = bpy.data.meshes.new("Floor")
    mesh.from_pydata([(-half_w, -half_h, -z), (half_w, -half_h, -z), (half_w, half_h, -z),
                      (-half_w, half_h, -z)], [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new()
    for loop, co in zip(uv.data, ((0, 0), (1, 0), (1, 1), (0, 1))):
        loop.uv = co
    mat = bpy.data.materials.new("Floor")
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    nodes.clear()
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image
    tex.interpolation = "Closest"
    emit = nodes.new("ShaderNodeEmission")
    out = nodes.new("ShaderNodeOutputMaterial")
    mat.node_tree.links.new(tex.outputs[0], emit.inputs[0])
    mat.node_tree.links.new(emit.outputs[0], out.inputs[0])
    mesh.materials.append(mat)
    obj = bpy.data.objects.new("Floor", mesh)
    scene.collection.objects.link(obj)
    obj.parent = cam


def render_case(blend: str, variant: str, samples: int) -> dict:
    """Render frame 1 of ``blend`` as ``variant`` (a fresh process: its own peak memory)."""
    from rackfocus_addon.bl import plate_render, records

    bpy.ops.wm.open_mainfile(filepath=blend)
    scene = bpy.context.scene
    cycles(scene, samples)
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.seed = 0
    if variant == "floor":
        _floor(scene)
    if variant in ("plate-defaults", "plate-uniform"):
        for obj in scene.objects:
            if records.read(obj, plate.RECORD):
                plate.set_plate_input(obj, "Adaptive", False)
    if variant == "plate-defaults":
        defaults = bpy.types.CyclesRenderSettings.bl_rna.properties
        for attr in ("max_bounces", "transparent_max_bounces", "caustics_reflective",
                     "caustics_refractive", "use_light_tree"):
            setattr(scene.cycles, attr, defaults[attr].default)
        scene.render.use_persistent_data = False
        for mat in bpy.data.materials:
            mat.cycles.emission_sampling = "AUTO"
    else:
        plates = [o for o in scene.objects if records.read(o, plate.RECORD)]
        plate_render.apply(scene, plates)
    cam = scene.camera.data
    cam.dof.use_dof = True
    cam.dof.focus_distance = RENDER_FOCUS_M
    cam.dof.aperture_fstop = RENDER_FSTOP
    base = status_mb("VmHWM")
    cpu0 = sum(os.times()[:2])
    t0 = time.perf_counter()
    dp.render_still(scene, os.path.join(os.path.dirname(blend), f"r_{variant}_{samples}.png"),
                    "PNG")
    render_s = time.perf_counter() - t0
    cpu_s = sum(os.times()[:2]) - cpu0
    for obj in scene.objects:  # the uniform grid as rendered, not the viewport's lighter one
        if records.read(obj, plate.RECORD):
            plate.set_plate_input(obj, "Viewport Density", plate.DEFAULT_DENSITY)
    dg = bpy.context.evaluated_depsgraph_get()
    faces = sum(len(o.evaluated_get(dg).data.polygons) for o in scene.objects
                if o.type == "MESH" and not o.hide_render)
    return {"render_s": render_s, "cpu_s": cpu_s, "peak_mb": status_mb("VmHWM"),
            "base_mb": base, "faces": faces}


def render_cost(out: str, cases: list[str], samples: list[int], variants: list[str]) -> None:
    """Plate render time at each sample count against the floor, measured back to back."""
    load = os.getloadavg()[0]
    print(f"\nRender of frame 1, Cycles CPU, f/{RENDER_FSTOP:g} at {RENDER_FOCUS_M:g} m, no "
          f"denoiser, no adaptive sampling, each in a fresh process ({os.cpu_count()} cores, "
          f"load {load:.1f} before)")
    head = (f"{'case':<6} | {'variant':<14} | {'spp':>4} | {'render s':>8} | {'x floor':>7} | "
            f"{'CPU s':>7} | {'x floor':>7} | {'peak MB':>7} | {'faces':>9}")
    print(head)
    print("-" * len(head))
    for case in cases:
        blend = render_blend(out, case)
        for spp in samples:
            floor = None
            for variant in variants:
                row = _run_case(["--render-case", blend, variant, str(spp)], None)
                if variant == "floor":
                    floor = row
                ratio = cpu_ratio = f"{'':>7}"
                if floor:
                    ratio = f"{row['render_s'] / floor['render_s']:>7.2f}"
                    cpu_ratio = f"{row['cpu_s'] / floor['cpu_s']:>7.2f}"
                print(f"{case:<6} | {variant:<14} | {spp:>4} | {row['render_s']:>8.2f} | "
                      f"{ratio} | {row['cpu_s']:>7.1f} | {cpu_ratio} | {row['peak_mb']:>7.0f} | "
                      f"{row['faces']:>9}", flush=True)
    print(f"load after: {os.getloadavg()[0]:.1f}; CPU s: the render process's CPU time (both "
          "cores), steadier than wall time on a shared machine")


def denoise_case(blend: str, samples: list[int], reference_spp: int, border: float) -> dict:
    """PSNR against a ``reference_spp`` render at each sample count, with and without
    OpenImageDenoise, on a centred crop (``border`` of the width and height) of the full-size
    frame: per-pixel noise as in the whole frame, at a fraction of its cost."""
    from rackfocus_addon.bl import plate_render

    bpy.ops.wm.open_mainfile(filepath=blend)
    scene = bpy.context.scene
    r = scene.render
    r.use_border, r.use_crop_to_border = True, True
    r.border_min_x = r.border_min_y = 0.5 - border / 2
    r.border_max_x = r.border_max_y = 0.5 + border / 2
    cam = scene.camera.data
    cam.dof.use_dof = True
    cam.dof.focus_distance = RENDER_FOCUS_M
    cam.dof.aperture_fstop = RENDER_FSTOP
    folder = os.path.dirname(blend)

    def shot(spp: int, denoise: bool) -> np.ndarray:
        cycles(scene, spp)
        scene.cycles.use_adaptive_sampling = False
        scene.cycles.use_denoising = denoise
        path = os.path.join(folder, f"dn_{spp}_{int(denoise)}.exr")
        dp.render_still(scene, path, "OPEN_EXR")
        return footage.read_pixels(path, data=True)[0][..., :3]

    truth = shot(reference_spp, False)
    rows = {"has_denoiser": plate_render.has_denoiser(), "plain": {}, "denoised": {}}
    for spp in samples:
        rows["plain"][spp] = oracles.psnr(shot(spp, False), truth)
        if rows["has_denoiser"]:
            rows["denoised"][spp] = oracles.psnr(shot(spp, True), truth)
    return rows


def denoise_cost(out: str, samples: list[int], reference_spp: int, clean_db: float) -> None:
    blend = render_blend(out, "1080p")
    border = 0.25
    rows = _run_case(["--denoise-case", blend, ",".join(map(str, samples)),
                      str(reference_spp), str(border)], None)
    print(f"\nSamples for a clean plate (PSNR >= {clean_db:g} dB against {reference_spp} spp), "
          f"real-like 1080p, f/{RENDER_FSTOP:g} at {RENDER_FOCUS_M:g} m, centre "
          f"{border * 100:.0f} % crop at full size")
    if not rows["has_denoiser"]:
        print("this Blender has no OpenImageDenoise: only the plain renders are measured")
    print(f"{'spp':>5} | {'plain dB':>8} | {'OIDN dB':>8}")
    for spp in samples:
        den = rows["denoised"].get(str(spp))
        print(f"{spp:>5} | {rows['plain'][str(spp)]:>8.2f} | "
              f"{den if den is None else f'{den:>8.2f}'}")
    for key in ("plain", "denoised"):
        clean = [int(s) for s, db in rows[key].items() if db >= clean_db]
        if rows[key]:
            print(f"{key}: clean from {min(clean) if clean else 'more than ' + str(samples[-1])} "
                  "spp")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="work folder (default: a temp folder)")
    parser.add_argument("--resolution", default="320x180", help="fidelity test size (WxH)")
    parser.add_argument("--samples", type=int, default=128, help="spp for DOF renders")
    parser.add_argument("--fstop", type=float, default=1.4)
    parser.add_argument("--focus", default="2.2,3.5,8", help="focus distances (m)")
    parser.add_argument("--density", type=float, default=1.0, help="plate density for fidelity")
    parser.add_argument("--eevee", action="store_true",
                        help="also render the plate in EEVEE (first render compiles shaders)")
    parser.add_argument("--hd", action="store_true",
                        help="also measure 1080p plates and the real-like cache")
    parser.add_argument("--densities", default="0.25,0.5,1", help="1080p grid densities")
    parser.add_argument("--hd-samples", type=int, default=4)
    parser.add_argument("--real-like", action="store_true",
                        help="measure the plate cache on real-like 1080p and 4K footage")
    parser.add_argument("--real-like-cases", default=",".join(REAL_LIKE),
                        help=f"real-like cases (of {', '.join(REAL_LIKE)})")
    parser.add_argument("--no-fidelity", action="store_true", help="skip the CG fidelity table")
    parser.add_argument("--code", default=None,
                        help="a checkout whose rackfocus_addon to measure (default: this one)")
    parser.add_argument("--cache-case", nargs=3, metavar=("FOOTAGE", "DEPTH", "CACHE"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--compute-case", nargs=2, metavar=("FOOTAGE", "DEPTH"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--render", action="store_true",
                        help="plate render time at 1, 8, 16 spp against the flat-quad floor")
    parser.add_argument("--render-cases", default="1080p,4K", help="of 1080p, 4K")
    parser.add_argument("--render-samples", default="1,8,16")
    parser.add_argument("--render-variants", default=",".join(RENDER_VARIANTS))
    parser.add_argument("--render-case", nargs=3, metavar=("BLEND", "VARIANT", "SAMPLES"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--denoise", action="store_true",
                        help="samples a clean plate needs with and without OpenImageDenoise")
    parser.add_argument("--denoise-samples", default="1,2,4,8,16,32")
    parser.add_argument("--denoise-reference", type=int, default=256)
    parser.add_argument("--clean-db", type=float, default=40.0)
    parser.add_argument("--denoise-case", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.denoise_case:
        blend, spp, ref, border = args.denoise_case
        print(json.dumps(denoise_case(blend, [int(v) for v in spp.split(",")], int(ref),
                                      float(border))))
        return 0
    if args.render_case:
        blend, variant, spp = args.render_case
        print(json.dumps(render_case(blend, variant, int(spp))))
        return 0
    if args.cache_case:
        print(json.dumps(cache_case(*args.cache_case)))
        return 0
    if args.compute_case:
        print(json.dumps(compute_case(*args.compute_case)))
        return 0
    out = args.out or tempfile.mkdtemp(prefix="rf-bench-plate-")
    os.makedirs(out, exist_ok=True)
    w, h = (int(v) for v in args.resolution.lower().split("x"))
    if not args.no_fidelity:
        fidelity(out, w, h, args.samples, args.fstop, [float(f) for f in args.focus.split(",")],
                 args.density, args.eevee)
    if args.hd:
        hd_cost(out, [float(d) for d in args.densities.split(",")], args.hd_samples)
    if args.hd or args.real_like:
        real_like(out, [c.strip() for c in args.real_like_cases.split(",")], args.code)
    if args.denoise:
        denoise_cost(out, [int(v) for v in args.denoise_samples.split(",")],
                     args.denoise_reference, args.clean_db)
    if args.render:
        render_cost(out, [c.strip() for c in args.render_cases.split(",")],
                    [int(v) for v in args.render_samples.split(",")],
                    [v.strip() for v in args.render_variants.split(",")])
    print(f"\nfiles in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
