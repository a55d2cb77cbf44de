"""Atomic, change-only file writing for feed and page boards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.files import write_atomic, write_files


def test_writes_only_changed_files(tmp_path: Path) -> None:
    files = {"feeds/indeed.xml": b"<source/>", "sitemap.xml": b"<urlset/>"}
    assert write_files(tmp_path, files) == ["feeds/indeed.xml", "sitemap.xml"]
    before = (tmp_path / "sitemap.xml").stat().st_mtime_ns
    assert write_files(tmp_path, files) == []
    assert (tmp_path / "sitemap.xml").stat().st_mtime_ns == before
    assert write_files(tmp_path, {**files, "sitemap.xml": b"<urlset>1</urlset>"}) == ["sitemap.xml"]
    assert (tmp_path / "sitemap.xml").read_bytes() == b"<urlset>1</urlset>"


def test_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "feed.xml"
    target.write_bytes(b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["feed.xml"]


def test_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        write_files(tmp_path / "out", {"../escape.xml": b"x"})
