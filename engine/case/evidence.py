"""Evidence intake and lookup for CaseStore: hash, sniff and record files without touching them.

The same file (same SHA-256) is only ever recorded once; adding it again reports the
existing item as a duplicate. The stored path is both the one given and the resolved one,
so a link's name and its real target are both on record. Metadata found later by the media
code is kept as JSON next to the item.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Iterable, Mapping, Sequence

from engine.case.consistency import bulk_records_digest
from engine.case.files import hash_regular_file
from engine.util.progress import Progress
from engine.case.records import Evidence, EvidenceOverview, Verdict
from engine.case.timeutil import iso_from_timestamp, now_iso
from engine.util.hashing import sha256_bytes
from engine.errors import CaseError
from engine.util.fileutil import same_file
from engine.vocab import EvidenceStatus, RunStatus
from engine.case.plumbing import StorePlumbing

_EVIDENCE_COLUMNS = (
    "path_given", "path_resolved", "size", "mtime", "mtime_ns", "sha256",
    "media_kind", "media_format", "media_description", "metadata", "added_by", "added_at",
)


class EvidenceMixin(StorePlumbing):
    def add_evidence(self, path: str | os.PathLike, actor: str | None = None, progress: Progress | None = None) -> Evidence:
        """Hash and record one regular file; returns the new item, or the existing one with
        `duplicate=True` when the same content is already in the case."""
        given = os.fspath(path)
        resolved = os.path.realpath(given)
        for own in self.own_files():
            if same_file(given, own):
                # It changes whenever the case is written: as evidence it would fail every verify.
                raise CaseError(f"{given} belongs to this case itself (the case file or a file beside it); not added")
        hashed = hash_regular_file(given, progress)
        with self.transaction():
            existing = self._query("SELECT * FROM evidence WHERE sha256 = ?", [hashed.sha256])
            if existing:
                found = Evidence.from_row(existing[0])
                if given != found.path_given:
                    # Not a new item, but where else the same content was found is provenance too.
                    self._audit("duplicate evidence offered",
                                {"evidence_id": found.id, "path": given, "resolved": resolved,
                                 "sha256": hashed.sha256}, actor)
                return dataclasses.replace(found, duplicate=True)
            row = {
                "path_given": given,
                "path_resolved": resolved,
                "size": hashed.size,
                "mtime": iso_from_timestamp(hashed.mtime_ns / 1e9),
                "mtime_ns": hashed.mtime_ns,
                "sha256": hashed.sha256,
                "media_kind": hashed.sniffed.kind,
                "media_format": hashed.sniffed.format,
                "media_description": hashed.sniffed.description,
                "metadata": "{}",
                "added_by": actor or self.actor,
                "added_at": now_iso(),
            }
            cursor = self.db.execute(
                f"INSERT INTO evidence ({', '.join(_EVIDENCE_COLUMNS)}) VALUES ({', '.join('?' * len(_EVIDENCE_COLUMNS))})",
                [row[c] for c in _EVIDENCE_COLUMNS],
            )
            evidence_id = cursor.lastrowid
            self._audit(
                "evidence added",
                {"evidence_id": evidence_id, "path": given, "resolved": resolved, "sha256": hashed.sha256,
                 "size": hashed.size, "media": hashed.sniffed.format},
                actor,
            )
        return Evidence.from_row({"id": evidence_id, **row})

    def bulk_add_evidence_records(self, records: Iterable[Mapping[str, Any]], actor: str | None = None) -> int:
        """Insert already-hashed evidence records (e.g. carried over from another case) in one
        transaction with one audit row. Each record needs path_given, size and sha256; the
        files are not read, so `verify` is what later proves the hashes."""
        stamp = now_iso()
        who = actor or self.actor
        rows = []
        digested = []  # (path, sha256, size) as the bulk audit entry's digest covers them
        for record in records:
            row = {c: record.get(c) for c in _EVIDENCE_COLUMNS}
            row["path_resolved"] = row["path_resolved"] or row["path_given"]
            row["metadata"] = json.dumps(record.get("metadata") or {})
            row["added_by"] = row["added_by"] or who
            row["added_at"] = row["added_at"] or stamp
            rows.append([row[c] for c in _EVIDENCE_COLUMNS])
            digested.append((str(row["path_given"]), str(row["sha256"]), int(row["size"] or 0)))
        with self.transaction():
            self._connection().executemany(
                f"INSERT INTO evidence ({', '.join(_EVIDENCE_COLUMNS)}) VALUES ({', '.join('?' * len(_EVIDENCE_COLUMNS))})",
                rows,
            )
            last = self._connection().execute("SELECT max(id) FROM evidence").fetchone()[0] or 0
            first = last - len(rows) + 1  # one writer, one transaction: the ids are consecutive
            self._audit("evidence added", {"bulk": True, "count": len(rows), "first_id": first, "last_id": last,
                                           "records_sha256": bulk_records_digest(digested)}, actor)
        return len(rows)

    def set_evidence_metadata(self, evidence_id: int, metadata: Mapping[str, Any], actor: str | None = None) -> None:
        """Store probe/metadata found by the media code (replaces what was there)."""
        text = json.dumps(dict(metadata), sort_keys=True, default=str)
        with self.transaction():
            cursor = self.db.execute("UPDATE evidence SET metadata = ? WHERE id = ?", [text, evidence_id])
            if cursor.rowcount == 0:
                raise CaseError(f"no evidence item {evidence_id} in this case")
            self._audit("evidence metadata recorded", {"evidence_id": evidence_id, "keys": sorted(metadata),
                                                       "metadata_sha256": sha256_bytes(text.encode("utf-8"))}, actor)

    def get_evidence(self, evidence_id: int) -> Evidence:
        rows = self._query("SELECT * FROM evidence WHERE id = ?", [evidence_id])
        if not rows:
            raise CaseError(f"no evidence item {evidence_id} in this case")
        return Evidence.from_row(rows[0])

    def list_evidence(self) -> list[Evidence]:
        return [Evidence.from_row(r) for r in self._query("SELECT * FROM evidence ORDER BY id")]

    def evidence_overview(self, evidence_ids: Sequence[int] | None = None) -> list[EvidenceOverview]:
        """Every item (or those given) with the status and verdicts of the latest run that touched it."""
        ids = [] if evidence_ids is None else [int(i) for i in evidence_ids]
        only = f" WHERE evidence_id IN ({', '.join('?' * len(ids))})" if evidence_ids is not None else ""
        if evidence_ids is not None and not ids:
            return []
        items = [Evidence.from_row(r) for r in self._query(f"SELECT * FROM evidence{only.replace('evidence_id', 'id')} "
                                                           "ORDER BY id", ids)]
        latest_items = self._query(
            "SELECT ri.evidence_id, ri.run_id, "
            "sum(ri.status = 'done') AS done, sum(ri.status = 'failed') AS failed, count(*) AS total, "
            "(SELECT status FROM runs WHERE id = ri.run_id) AS run_status "
            f"FROM run_items ri JOIN (SELECT evidence_id, max(run_id) AS run_id FROM run_items{only} GROUP BY evidence_id) m "
            "ON ri.evidence_id = m.evidence_id AND ri.run_id = m.run_id GROUP BY ri.evidence_id", ids
        )
        status_by_id = {r["evidence_id"]: r for r in latest_items}
        verdict_rows = self._query(
            f"SELECT v.* FROM verdicts v JOIN (SELECT evidence_id, max(run_id) AS run_id FROM verdicts{only} "
            "GROUP BY evidence_id) m ON v.evidence_id = m.evidence_id AND v.run_id = m.run_id "
            "ORDER BY v.evidence_id, v.model = 'ensemble', v.model", ids
        )
        verdicts: dict[int, list[Verdict]] = {}
        for row in verdict_rows:
            verdicts.setdefault(row["evidence_id"], []).append(Verdict.from_row(row))
        out = []
        for item in items:
            s = status_by_id.get(item.id)
            if s is None:
                status, run_id = EvidenceStatus.NOT_ANALYSED, None
            else:
                run_id = s["run_id"]
                if s["done"] + s["failed"] < s["total"]:
                    status = (EvidenceStatus.INTERRUPTED if RunStatus.read(s["run_status"]).resumable
                              else EvidenceStatus.PENDING)
                elif s["failed"]:
                    status = EvidenceStatus.FAILED if not s["done"] else EvidenceStatus.PARTLY_FAILED
                else:
                    status = EvidenceStatus.ANALYSED
            out.append(EvidenceOverview(item, status, run_id, tuple(verdicts.get(item.id, ()))))
        return out
