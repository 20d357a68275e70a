"""Depth-plate benchmark: fidelity against true DOF, and cost of 1080p plates.

    .venv/bin/python bench/bench_plate.py                 # fidelity table (~1 min on 2 cores)
    .venv/bin/python bench/bench_plate.py --hd            # + 1080p build/render cost (minutes)
    .venv/bin/python bench/bench_plate.py --hd --densities 0.25,0.5,1,2
    .venv/bin/python bench/bench_plate.py --eevee --resolution 160x90 --samples 64

Fidelity: a CG shot (box 2.2 m, sphere 3.5 m, wall 8 m; emission-lit) is rendered all-in-focus
with an exact planar depth render (the "footage"), and with true thin-lens DOF at several focus
distances (the ground truth). The footage is then refocused two ways: as a depth plate rendered
by Cycles, and by the compositor's Defocus node fed the same image and depth. PSNR (dB) and SSIM
are printed for the whole frame and for the edge band (pixels within 3 px of a depth edge), with
the noise floor (two ground-truth renders with different seeds).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the test oracles (oracles, bl_oracles)

import bl_oracles  # noqa: E402
import bpy  # noqa: E402
import oracles  # noqa: E402

from rackfocus_addon import plate_mesh as pm  # noqa: E402
from rackfocus_addon.bl import demo_plate as dp  # noqa: E402
from rackfocus_addon.bl import footage, plate  # noqa: E402


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
    plate.build_plate(scene, colors[0], depths[0], cache_dir=os.path.join(out, "cache"),
                      density=density)
    build_s = time.perf_counter() - t0
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
        result = plate.build_plate(scene, colors[0], depths[0],
                                   cache_dir=os.path.join(out, f"cache_{density:g}"),
                                   density=density)
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
    parser.add_argument("--hd", action="store_true", help="also measure 1080p plates")
    parser.add_argument("--densities", default="0.25,0.5,1", help="1080p grid densities")
    parser.add_argument("--hd-samples", type=int, default=4)
    args = parser.parse_args(argv)
    out = args.out or tempfile.mkdtemp(prefix="rf-bench-plate-")
    os.makedirs(out, exist_ok=True)
    w, h = (int(v) for v in args.resolution.lower().split("x"))
    fidelity(out, w, h, args.samples, args.fstop, [float(f) for f in args.focus.split(",")],
             args.density, args.eevee)
    if args.hd:
        hd_cost(out, [float(d) for d in args.densities.split(",")], args.hd_samples)
    print(f"\nfiles in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
