"""Shared fixtures for case tests: a fresh case and a few small evidence files."""

from __future__ import annotations

import os

import pytest

from engine.case import CaseStore


@pytest.fixture
def case_path(tmp_path):
    return str(tmp_path / "test.dfwcase")


@pytest.fixture
def store(case_path):
    s = CaseStore.create(case_path, "Test case", "Examiner One", number="2024-17", organisation="Lab", actor="tester")
    yield s
    s.close()


@pytest.fixture
def evidence_files(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    paths = []
    for i, head in enumerate([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x18ftypmp42"]):
        p = folder / f"item{i}.bin"
        p.write_bytes(head + os.urandom(3000 + i))
        paths.append(str(p))
    return paths
