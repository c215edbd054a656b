"""The c2pa library's JSON report of a manifest store, read into a ContentCredentials record.

The JSON is the library's, but what it quotes (titles, generator names, actions) was written
by whoever signed the file, so every value is type-checked and cut to length here, and
anything of an unexpected shape is left out rather than trusted.
"""

from __future__ import annotations

from typing import Any

from engine.forensics.records import (
    C2paAction,
    C2paIngredient,
    ContentCredentials,
    clipped,
)

SIGNATURE_FAILURES = {"claimSignature.mismatch", "claimSignature.missing"}
BINDING_FAILURES = {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch",
                    "assertion.collectionHash.mismatch"}
BINDING_SUCCESSES = {code.replace(".mismatch", ".match") for code in BINDING_FAILURES}
MAX_LISTED = 64


def _text(value: Any) -> str | None:
    return clipped(value, 300) if isinstance(value, (str, int, float)) and str(value).strip() else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value[:MAX_LISTED] if isinstance(value, list) else []


def _codes(results: dict[str, Any], kind: str) -> tuple[tuple[str, str], ...]:
    entries = _list(_dict(results.get("activeManifest")).get(kind))
    out = []
    for entry in entries:
        entry = _dict(entry)
        code = _text(entry.get("code"))
        if code:
            out.append((code, _text(entry.get("explanation")) or ""))
    return tuple(out)


def _generator(manifest: dict[str, Any]) -> str | None:
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, dict):
        infos = [infos]
    names = []
    for info in _list(infos):
        info = _dict(info)
        name = _text(info.get("name"))
        if name:
            version = _text(info.get("version"))
            names.append(f"{name} {version}" if version else name)
    return ", ".join(names) if names else _text(manifest.get("claim_generator"))


def _agent(value: Any) -> str | None:
    if isinstance(value, dict):
        name, version = _text(value.get("name")), _text(value.get("version"))
        return f"{name} {version}" if name and version else name
    return _text(value)


def _actions(manifest: dict[str, Any]) -> tuple[C2paAction, ...]:
    actions = []
    for assertion in _list(manifest.get("assertions")):
        assertion = _dict(assertion)
        label = str(assertion.get("label") or "")
        if not label.startswith("c2pa.actions"):
            continue
        for action in _list(_dict(assertion.get("data")).get("actions")):
            action = _dict(action)
            name = _text(action.get("action"))
            if name:
                actions.append(C2paAction(name, _text(action.get("digitalSourceType")),
                                          _agent(action.get("softwareAgent")), _text(action.get("when")),
                                          _text(action.get("description"))))
    return tuple(actions)


def _ingredients(manifest: dict[str, Any]) -> tuple[C2paIngredient, ...]:
    out = []
    for ingredient in _list(manifest.get("ingredients")):
        ingredient = _dict(ingredient)
        failures = tuple(code for code, _ in _codes(_dict(ingredient.get("validation_results")), "failure")
                         if code != "signingCredential.untrusted")
        out.append(C2paIngredient(_text(ingredient.get("title")), _text(ingredient.get("format")),
                                  _text(ingredient.get("relationship")),
                                  bool(ingredient.get("active_manifest") or ingredient.get("manifest_data")), failures))
    return tuple(out)


def _name(parts: Any) -> str | None:
    """An X.509 name from crJSON's {"CN": …, "O": …} as "CN=…, O=…"."""
    if not isinstance(parts, dict):
        return None
    text = ", ".join(f"{k}={v}" for k, v in parts.items() if isinstance(k, str) and isinstance(v, (str, int)))
    return clipped(text, 300) if text else None


def parse_store(store: Any, certificate: dict[str, Any], embedded: bool | None,
                remote: str | None) -> ContentCredentials:
    store = _dict(store)
    manifests = _dict(store.get("manifests"))
    label = _text(store.get("active_manifest"))
    manifest = _dict(manifests.get(label)) if label else {}
    signature = _dict(manifest.get("signature_info"))
    results = _dict(store.get("validation_results"))
    success, failures = _codes(results, "success"), _codes(results, "failure")
    success_codes, failure_codes = {c for c, _ in success}, {c for c, _ in failures}
    if failure_codes & SIGNATURE_FAILURES:
        signature_valid: bool | None = False
    else:
        signature_valid = True if "claimSignature.validated" in success_codes else None
    if failure_codes & BINDING_FAILURES:
        binding: bool | None = False
    else:
        binding = True if success_codes & BINDING_SUCCESSES else None
    trusted = True if "signingCredential.trusted" in success_codes else None
    subject = _name(certificate.get("subject")) or _text(signature.get("common_name"))
    issuer = _name(certificate.get("issuer")) or _text(signature.get("issuer"))
    return ContentCredentials(
        present=True, manifest_count=len(manifests), active_manifest=label, embedded=embedded,
        remote_url=_text(remote), claim_generator=_generator(manifest), title=_text(manifest.get("title")),
        signer_subject=subject, signer_issuer=issuer, signature_algorithm=_text(signature.get("alg")),
        signed_at=_text(signature.get("time")), validation_state=_text(store.get("validation_state")),
        signature_valid=signature_valid, binding_matches=binding, trusted=trusted, failures=failures,
        informational=_codes(results, "informational"), actions=_actions(manifest),
        ingredients=_ingredients(manifest))
