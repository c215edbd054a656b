"""Evidence file intake helpers: regular files only, folders walked, streamed hashing with progress."""

from __future__ import annotations

import os

import pytest

from engine.case.files import check_regular, collect_paths, hash_regular_file
from engine.case.verify import check_evidence_file
from engine.errors import CaseError
from engine.util.hashing import sha256_file


def test_device_and_folder_refused():
    with pytest.raises(CaseError, match="a character device"):
        check_regular("/dev/null")
    with pytest.raises(CaseError, match="a folder"):
        check_regular("/")


def test_dangling_link_refused(tmp_path):
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(CaseError, match="target does not exist"):
        check_regular(str(link))


def test_collect_walks_folders_and_lists_refusals(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"1")
    (tmp_path / "a" / "sub" / "y.mp4").write_bytes(b"2")
    os.mkfifo(tmp_path / "a" / "fifo")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    collected = collect_paths([str(tmp_path / "a")])
    assert collected.files == (str(tmp_path / "a" / "x.jpg"), str(tmp_path / "a" / "sub" / "y.mp4"))
    reasons = dict(collected.refused)
    assert "FIFO" in reasons[str(tmp_path / "a" / "fifo")]
    assert "not followed" in reasons[str(tmp_path / "a" / "loop")]


def test_hash_streams_with_progress(tmp_path):
    p = tmp_path / "big.bin"
    p.write_bytes(os.urandom(3 * (1 << 20) + 5))
    seen = []
    hashed = hash_regular_file(str(p), lambda done, total, msg: seen.append((done, total)))
    assert hashed.sha256 == sha256_file(p)
    assert hashed.size == p.stat().st_size
    assert len(seen) == 4 and seen[-1] == (hashed.size, hashed.size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_verify_check_of_a_file_swapped_for_a_fifo(tmp_path):
    p = tmp_path / "clip.mp4"
    p.write_bytes(b"data")
    digest = sha256_file(p)
    assert check_evidence_file(1, str(p), str(p), digest, 4).status == "ok"
    p.unlink()
    os.mkfifo(p)
    check = check_evidence_file(1, str(p), str(p), digest, 4)
    assert check.status == "unreadable" and "FIFO" in check.message
