"""Content credentials (C2PA) as c2pa-python reports them, offline.

The library reads the manifest store embedded in the file, checks the claim signature, the
certificate's validity period and the hash binding between the manifest and the file's
bytes, all locally. Reading is configured never to fetch anything: remote manifests and OCSP
revocation are not fetched, and no trust list is configured, so every signer comes back
"untrusted" whoever it is. The report therefore keeps the checks apart: what was verified
(signature, binding), what could not be (trust, revocation, a remote manifest), and what
the manifest declares (actions, digital source types, ingredients), which is only as good
as its signer.
"""

from __future__ import annotations

import json
import logging
from typing import IO, Any

from engine.forensics.c2pa_parse import (
    BINDING_FAILURES,
    SIGNATURE_FAILURES,
    parse_store,
)
from engine.forensics.names import judge_source_type, source_type_code
from engine.forensics.records import (
    CheckRecord,
    CheckState,
    ContentCredentials,
    Found,
    Severity,
)
from engine.forensics.tools import C2PA, finding

log = logging.getLogger(__name__)

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "tiff": "image/tiff", "gif": "image/gif",
        "mp4": "video/mp4", "mov": "video/quicktime", "avi": "video/avi", "heif": "image/heif"}
# Offline, always: no remote manifest, no OCSP. Trust is left on, so the library still says
# whether a signer is on a (here empty) trust list rather than silently skipping it.
SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
SOURCE = "C2PA manifest store"
# Failure codes with a finding of their own; any other failure is listed as the library words it.
JUDGED_ABOVE = {"signingCredential.untrusted", *SIGNATURE_FAILURES, *BINDING_FAILURES}


def read_credentials(stream: IO[bytes], file_format: str) -> tuple[ContentCredentials | None, Found]:
    found = Found()
    mime = MIME.get(file_format)
    if mime is None:
        found.checks.append(CheckRecord("c2pa.manifest", CheckState.NOT_APPLICABLE,
                                        f"content credentials are not read from {file_format} files"))
        return None, found
    try:
        import c2pa  # noqa: PLC0415 - a native library, loaded on first use
    except Exception as exc:  # the wheel without its native part, or another platform
        found.checks.append(CheckRecord("c2pa.manifest", CheckState.NOT_POSSIBLE,
                                        f"the c2pa library cannot be loaded ({type(exc).__name__}: {str(exc)[:120]})"))
        return None, found
    try:
        with c2pa.Settings.from_dict(SETTINGS) as settings, c2pa.Context(settings=settings) as context:
            reader = c2pa.Reader.try_create(mime, stream, None, context)
            if reader is None:
                return _absent(found)
            with reader:
                store = json.loads(reader.json())
                certificate = _certificate(reader, store.get("active_manifest") if isinstance(store, dict) else None)
                embedded, remote = _where(reader)
    except c2pa.C2paError as exc:
        # A remote manifest comes back as an error whose message starts "Remote:" (no subclass of its own).
        if isinstance(exc, c2pa.C2paError.RemoteManifest) or str(exc).startswith("Remote"):
            return _remote(found, exc)
        return _unreadable(found, exc)
    credentials = parse_store(store, certificate, embedded, remote)
    _judge(credentials, found)
    return credentials, found


def _certificate(reader: Any, label: Any) -> dict[str, Any]:
    """Subject and issuer of the active manifest's signing certificate, from the crJSON view
    (the plain view names only the subject's common name and organisation)."""
    try:
        view = json.loads(reader.crjson())
    except Exception:  # an older library without crJSON: the plain view's names are used instead
        return {}
    manifests = view.get("manifests") if isinstance(view, dict) else None
    for manifest in manifests if isinstance(manifests, list) else []:
        if isinstance(manifest, dict) and manifest.get("label") == label:
            signature = manifest.get("signature")
            info = signature.get("certificateInfo") if isinstance(signature, dict) else None
            return info if isinstance(info, dict) else {}
    return {}


def _where(reader: Any) -> tuple[bool | None, str | None]:
    try:
        return bool(reader.is_embedded()), reader.get_remote_url()
    except Exception:
        return None, None


def _absent(found: Found) -> tuple[ContentCredentials, Found]:
    found.checks.append(CheckRecord("c2pa.manifest", CheckState.DONE, "no manifest store in the file"))
    found.findings.append(finding(
        "c2pa.manifest", Severity.INFORMATIVE,
        "no content credentials (C2PA): most cameras and apps write none and any upload may strip them, so their "
        "absence shows nothing", SOURCE, C2PA))
    return ContentCredentials(present=False), found


def _remote(found: Found, exc: Exception) -> tuple[ContentCredentials, Found]:
    """The file names a manifest kept elsewhere: the library refuses to fetch it, as configured."""
    message = str(exc).strip()
    url = message.rsplit("url ", 1)[-1].strip()[:300] if "url " in message else None
    found.checks.append(CheckRecord("c2pa.manifest", CheckState.NOT_POSSIBLE,
                                    f"the manifest is stored remotely and is not fetched offline: {url or message[:200]}"))
    found.findings.append(finding(
        "c2pa.manifest", Severity.NOTEWORTHY,
        "the file points to content credentials stored elsewhere; they were not fetched (offline), so nothing in "
        "them was verified", SOURCE, C2PA, url))
    return ContentCredentials(present=True, embedded=False, remote_url=url), found


def _unreadable(found: Found, exc: Exception) -> tuple[ContentCredentials, Found]:
    message = str(exc).strip()[:200] or type(exc).__name__
    found.checks.append(CheckRecord("c2pa.manifest", CheckState.FAILED, message))
    found.findings.append(finding(
        "c2pa.manifest", Severity.NOTEWORTHY,
        f"content credentials are present but cannot be read ({message}): a damaged or altered manifest", SOURCE,
        C2PA))
    return ContentCredentials(present=True), found


def _judge(cred: ContentCredentials, found: Found) -> None:
    add = found.findings.append
    signer = cred.signer_subject or "an unnamed signer"
    found.checks.append(CheckRecord("c2pa.manifest", CheckState.DONE, f"{cred.manifest_count} manifest(s)"))
    add(finding("c2pa.manifest", Severity.INFORMATIVE,
                f"content credentials present: made by {cred.claim_generator or 'an unnamed claim generator'}, "
                f"signed by {signer}" + (f", issued by {cred.signer_issuer}" if cred.signer_issuer else ""),
                SOURCE, C2PA, cred.active_manifest))
    _signature(cred, found)
    _binding(cred, found)
    _trust(cred, found)
    for action in cred.actions:
        if action.digital_source_type:
            severity, meaning = judge_source_type(action.digital_source_type)
            add(finding("c2pa.actions", severity,
                        f"the signed manifest declares {action.action}: {meaning} "
                        f"({source_type_code(action.digital_source_type)})",
                        "C2PA c2pa.actions digitalSourceType", C2PA, action.digital_source_type))
    listed = ", ".join(a.action for a in cred.actions)
    if listed:
        add(finding("c2pa.actions", Severity.INFORMATIVE, f"declared actions: {listed[:200]}", "C2PA c2pa.actions",
                    C2PA, listed))
    for ingredient in cred.ingredients:
        severity = Severity.NOTEWORTHY if ingredient.validation_failures else Severity.INFORMATIVE
        add(finding("c2pa.ingredients", severity,
                    f"ingredient {ingredient.title or '(untitled)'} ({ingredient.relationship or 'relationship not given'}"
                    f"{', with its own manifest' if ingredient.has_manifest else ''})"
                    + (f": {', '.join(ingredient.validation_failures)}" if ingredient.validation_failures else ""),
                    "C2PA ingredients", C2PA, ingredient.format))
    for code, explanation in cred.failures:
        if code not in JUDGED_ABOVE:
            add(finding("c2pa.validation", Severity.NOTEWORTHY, f"the library reports {code}: {explanation}",
                        "C2PA validation results", C2PA, code))


def _signature(cred: ContentCredentials, found: Found) -> None:
    if cred.signature_valid is None:
        found.checks.append(CheckRecord("c2pa.signature", CheckState.NOT_POSSIBLE, "the library reported no verdict"))
        return
    found.checks.append(CheckRecord("c2pa.signature", CheckState.DONE,
                                    "claim signature verified offline" if cred.signature_valid else "claim signature fails"))
    if cred.signature_valid:
        found.findings.append(finding("c2pa.signature", Severity.INFORMATIVE,
                                      "the claim signature verifies (cryptographically; whether the signer is to be "
                                      "trusted was not judged)", "C2PA claim signature", C2PA, cred.validation_state))
    else:
        found.findings.append(finding("c2pa.signature", Severity.STRONG,
                                      "the claim signature does not verify: the manifest was altered or forged",
                                      "C2PA claim signature", C2PA, cred.validation_state))


def _binding(cred: ContentCredentials, found: Found) -> None:
    if cred.binding_matches is None:
        found.checks.append(CheckRecord("c2pa.binding", CheckState.NOT_POSSIBLE, "no hard binding was checked"))
        return
    found.checks.append(CheckRecord("c2pa.binding", CheckState.DONE))
    if cred.binding_matches:
        found.findings.append(finding("c2pa.binding", Severity.INFORMATIVE,
                                      "the manifest's hash binding matches the file: its bytes are as signed",
                                      "C2PA hard binding (c2pa.hash.*)", C2PA))
    else:
        found.findings.append(finding("c2pa.binding", Severity.STRONG,
                                      "the manifest's hash binding no longer matches: the file changed after signing",
                                      "C2PA hard binding (c2pa.hash.*)", C2PA))


def _trust(cred: ContentCredentials, found: Found) -> None:
    if cred.trusted:
        found.checks.append(CheckRecord("c2pa.trust", CheckState.DONE, "the signer is on the configured trust list"))
    else:
        found.checks.append(CheckRecord(
            "c2pa.trust", CheckState.NOT_POSSIBLE, "no trust list is available offline: the library calls every "
            "signer untrusted, which says nothing about this one"))
    found.checks.append(CheckRecord("c2pa.revocation", CheckState.NOT_POSSIBLE,
                                    "certificate revocation (OCSP) is not fetched offline"))
    if cred.remote_url:
        found.checks.append(CheckRecord("c2pa.remote", CheckState.NOT_POSSIBLE,
                                        f"the manifest is stored remotely and was not fetched: {cred.remote_url[:200]}"))
