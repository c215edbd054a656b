"""A stored model is the one imported, checked at every load for the cost of a stat.

The model store's manifest holds the SHA-256 of every file it copied. Each load hashes the
files it is about to use (the chosen ONNX file, its external weights, and the configuration
files the loader reads) and compares them with the manifest, so a label swapped in
config.json, a changed preprocessor_config.json or a replaced graph refuses the model with
one line naming the file. Hashing a ViT-B graph takes about a second, so a digest is kept
for the rest of the process, keyed by the file's identity and times (path, device, inode,
size, mtime, ctime): a second load of an untouched file costs one `stat`. Replacing or
writing a file changes its inode or ctime, so the cache never vouches for a changed file on
a file system that keeps those.
"""

from __future__ import annotations

import os
import posixpath
import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

from engine.errors import ModelError
from engine.models.loader import CONFIG_FILES, find_variants
from engine.models.spec import ModelSpec
from engine.util.hashing import sha256_file

_lock = threading.Lock()
_digests: dict[tuple[Any, ...], str] = {}


def _identity(path: Path) -> tuple[Any, ...]:
    info = os.stat(path)
    return (str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def file_digest(path: Path) -> str:
    """SHA-256 of `path`, hashed once per process while the file stays the same file."""
    resolved = path.resolve()
    key = _identity(resolved)
    with _lock:
        known = _digests.get(key)
    if known is not None:
        return known
    digest = sha256_file(resolved)
    if _identity(resolved) == key:  # not written to while it was being hashed
        with _lock:
            _digests[key] = digest
    return digest


def _refusal(name: str, relative: str, what: str) -> ModelError:
    return ModelError(f"model {name!r}: {relative} {what} (run `models verify {name}`)")


def onnx_file(name: str, folder: Path, manifest: Mapping[str, Any], variant: str) -> str:
    """The ONNX file (relative to the stored folder) that loading `variant` uses."""
    onnx_dir = folder / "onnx" if manifest.get("layout") == "transformers.js" else folder
    variants = find_variants(onnx_dir)
    if variant not in variants:
        raise ModelError(f"model {name!r} has no {variant!r} variant; it has {', '.join(variants) or 'none'}")
    return variants[variant].relative_to(folder).as_posix()


def external_files(onnx_relative: str, locations: Sequence[str]) -> list[str]:
    """External-weight files of a graph (given relative to the graph) relative to the model folder."""
    base = posixpath.dirname(onnx_relative)
    return [posixpath.normpath(posixpath.join(base, location)) for location in locations]


def files_to_check(folder: Path, files: Mapping[str, Any], onnx_relative: str,
                   external: Sequence[str]) -> list[str]:
    """What a load reads: the graph, its weights, and every configuration file there is or was."""
    configs = [config for config in CONFIG_FILES if config in files or (folder / config).exists()]
    return [onnx_relative, *external, *configs]


def check_files(name: str, folder: Path, files: Mapping[str, Any], relatives: Sequence[str]) -> dict[str, str]:
    """Each file's digest, once it matches the manifest; ModelError naming the first that does not."""
    digests: dict[str, str] = {}
    for relative in relatives:
        entry = files.get(relative)
        path = folder / relative
        if not isinstance(entry, Mapping) or not isinstance(entry.get("sha256"), str):
            raise _refusal(name, relative, "was not part of the import")
        if not path.is_file():
            raise _refusal(name, relative, "is missing since import")
        digest = file_digest(path)
        if digest != entry["sha256"]:
            raise _refusal(name, relative, "changed since import")
        digests[relative] = digest
    return digests


def confirm_loaded(name: str, folder: Path, files: Mapping[str, Any], spec: ModelSpec,
                   checked: Mapping[str, str]) -> dict[str, str]:
    """Refuse a spec built from anything the manifest does not vouch for.

    The configuration hashes the loader took from the bytes it parsed must be the imported
    ones (so a file changed between the check and the read is caught too), and every external
    weights file the graph names must have been checked. Returns the external files' digests.
    """
    onnx_relative = spec.onnx_path.relative_to(folder).as_posix()
    if onnx_relative not in checked:
        raise _refusal(name, onnx_relative, "was loaded without being checked")
    for config, digest in spec.config_sha256.items():
        entry = files.get(config)
        if not isinstance(entry, Mapping):
            raise _refusal(name, config, "was not part of the import")
        if entry.get("sha256") != digest:
            raise _refusal(name, config, "changed since import")
    external = external_files(onnx_relative, spec.extras.get("external_files", ()))
    digests = dict(checked)
    missing = [relative for relative in external if relative not in digests]
    digests.update(check_files(name, folder, files, missing))
    return {relative: digests[relative] for relative in external}
