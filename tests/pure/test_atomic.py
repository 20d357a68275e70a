"""Files that appear whole or not at all (pure)."""

from __future__ import annotations

import os

import pytest

from rackfocus_addon import atomic


def test_a_file_is_written_under_a_hidden_name_then_renamed(tmp_path):
    path = str(tmp_path / "frame_0001.png")
    seen = []

    def write(temp):
        seen.append(temp)
        assert not os.path.exists(path)
        with open(temp, "w") as fh:
            fh.write("whole")

    assert atomic.write_atomic(path, write) == path
    assert open(path).read() == "whole" and os.listdir(tmp_path) == ["frame_0001.png"]
    name = os.path.basename(seen[0])
    assert name.startswith(".frame_0001.partial-") and name.endswith(".png")  # format kept


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "estimate.json"
    atomic.write_json(str(path), {"a": 1})

    def fails(temp):
        with open(temp, "w") as fh:
            fh.write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic.write_atomic(str(path), fails)
    assert os.listdir(tmp_path) == ["estimate.json"] and atomic.read_json(str(path)) == {"a": 1}
    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(str(tmp_path / "b.npy"), lambda t: (open(t, "w").close(),
                                                                 (_ for _ in ()).throw(
                                                                     KeyboardInterrupt)))
    assert os.listdir(tmp_path) == ["estimate.json"]


def test_json_reads_back_or_is_none(tmp_path):
    path = str(tmp_path / "m.json")
    atomic.write_json(path, {"b": [1, 2], "a": None}, sort_keys=False, newline=True)
    assert open(path).read() == '{\n "b": [\n  1,\n  2\n ],\n "a": null\n}\n'
    assert atomic.read_json(path) == {"b": [1, 2], "a": None}
    assert atomic.read_json(str(tmp_path / "missing.json")) is None
    atomic.write_text(path, "[1, 2]")
    assert atomic.read_json(path) is None  # not an object
    atomic.write_text(path, "{broken")
    assert atomic.read_json(path) is None
