"""Shared fixtures for case tests: a fresh case and a few small evidence files."""

from __future__ import annotations


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


def done_items(store, run_id):
    """(evidence id, model) of every item a run has completed, straight from the case file."""
    return {(r["evidence_id"], r["model"]) for r in store._query(
        "SELECT evidence_id, model FROM run_items WHERE run_id = ? AND status = 'done'", [run_id])}
