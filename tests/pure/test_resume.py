"""Where a batch stopped and how it went, without Blender: the resume manifest, whether a shot
has anything left to do, and the summary a batch prints."""

from __future__ import annotations

import json
import os
import struct
import zlib

from rackfocus_addon import resume
from rackfocus_addon.batch_report import (
    BUILT,
    DONE,
    FAILED,
    PARTIAL,
    BatchOptions,
    BatchReport,
    ShotReport,
)
from rackfocus_addon.shot_schema import parse_shot_list

SHOTS = """
output_root = "out"
[[shot]]
name = "sh010"
scene = "shot.blend"
camera = "Cam"
marks = ["Near@1", "Far@3"]
[shot.render]
frames = "1-3"
contact_sheet = false
plot = false
"""


def a_shot(tmp_path):
    (tmp_path / "shot.blend").write_bytes(b"")
    shot_list, errors = parse_shot_list(SHOTS, str(tmp_path / "shots.toml"))
    assert errors == []
    (shot,) = shot_list.shots
    return shot


def png_bytes() -> bytes:
    """A complete 1x1 grey PNG."""
    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def touch(path, data: bytes | None = None):
    """A finished file: a complete PNG for a .png, else a few bytes."""
    path = str(path)
    with open(path, "wb") as fh:
        fh.write(data if data is not None else
                 png_bytes() if path.endswith(".png") else b"movie")


def test_a_shot_is_finished_only_when_everything_it_makes_is_there(tmp_path):
    shot = a_shot(tmp_path)
    options = BatchOptions()
    assert resume.read_manifest(shot) is None and resume.finished_state(shot, options) is None
    os.makedirs(shot.output)
    resume.write_manifest(shot, shot.fingerprint(), [1, 2, 3], complete=False)
    manifest = json.loads(open(shot.manifest_path, encoding="utf-8").read())
    assert manifest["frames"] == [1, 2, 3] and manifest["frame_list"] == "1-3"
    assert resume.read_manifest(shot) == manifest
    assert resume.finished_state(shot, options) is None  # no .blend yet
    touch(shot.blend_path)
    assert resume.finished_state(shot, BatchOptions(build_only=True)) == manifest
    assert resume.finished_state(shot, options) is None  # no frames
    for f in (1, 2):
        touch(shot.frame_path(f))
    assert resume.count_done(shot) == 2
    assert resume.finished_state(shot, BatchOptions(frames=(1, 2))) == manifest  # this chunk
    touch(shot.frame_path(3), png_bytes()[:20])  # cut short (a full disk)
    assert not resume.finished(shot.frame_path(3)) and resume.count_done(shot) == 2
    assert resume.finished_state(shot, options) is None
    touch(shot.frame_path(3))
    assert resume.finished_state(shot, options) is None  # the movie is missing
    touch(shot.movie_path)
    assert resume.finished_state(shot, options) == manifest
    report = ShotReport(shot.name, shot.output)
    resume.report_finished(shot, options, report)
    assert (report.status, report.frames_done, report.frames_total, report.resumed) == (
        DONE, 3, 3, True)
    assert set(report.files) == {"blend", "frames", "movie", "manifest"}
    resume.write_manifest(shot, "another fingerprint", [1, 2, 3], complete=True)
    assert resume.finished_state(shot, options) is None  # settings changed: rebuild


def test_the_summary_table_and_the_exit_status():
    shots = [ShotReport("sh010", "o/1", DONE, frames_total=3, frames_done=3, frames_rendered=3,
                        time_s=1.5),
             ShotReport("sh020", "o/2", FAILED, error="disk full", time_s=0.25),
             ShotReport("sh030", "o/3", BUILT), ShotReport("sh040", "o/4", PARTIAL,
                                                           frames_total=4, frames_done=1)]
    report = BatchReport("shots.toml", shots)
    assert report.failed == 1 and report.exit_code() == 1
    assert report.table() == [
        "shot   status   frames      time",
        "sh010  done     3/3 (+3)  1.50 s",
        "sh020  failed   -         0.25 s",
        "sh030  built    -         0.00 s",
        "sh040  partial  1/4       0.00 s",
        "sh020: disk full",
        "2 of 4 shot(s) done, 1 failed",
    ]
    report.interrupted = True
    assert report.exit_code() == 130 and report.table()[-1].endswith("run the batch again to "
                                                                       "continue")
    assert report.to_dict()["shots"][1]["error"] == "disk full"
