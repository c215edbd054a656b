"""Deepfake Forensic Workstation: no arguments opens the window, a subcommand runs headless."""

from __future__ import annotations

import os
import sys


def _preload_bundled_cuda() -> None:
    """A frozen CUDA build carries NVIDIA's libraries in `_internal/nvidia` (shipped as a
    separate part); onnxruntime's CUDA provider finds them only once `preload_dlls()` has
    loaded them. Its complaints go to stderr, keeping stdout clean for --json."""
    bundle = getattr(sys, "_MEIPASS", None)
    if not getattr(sys, "frozen", False) or not bundle or not os.path.isdir(os.path.join(bundle, "nvidia")):
        return
    import contextlib

    import onnxruntime

    try:
        with contextlib.redirect_stdout(sys.stderr):
            onnxruntime.preload_dlls()
    except Exception as exc:  # CUDA then reports itself unusable and the CPU runs
        print(f"note: the bundled NVIDIA libraries did not load: {exc}", file=sys.stderr)


def window_request(argv: list[str]) -> tuple[str | None, str | None] | None:
    """(home, case) when the arguments ask for the window: none at all, `--home DIR`, a
    `.dfwcase` path, or both; None when they name a command (or --help, --version)."""
    home, rest = None, list(argv)
    if rest[:1] == ["--home"] and len(rest) >= 2:
        home, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--home="):
        home, rest = rest[0].split("=", 1)[1], rest[1:]
    if not rest:
        return home, None
    if len(rest) == 1 and rest[0].lower().endswith(".dfwcase") and not rest[0].startswith("-"):
        return home, rest[0]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _preload_bundled_cuda()
    window = window_request(argv)
    if window is not None:
        from gui.app import run_gui

        return run_gui(*window)
    from engine.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
