"""Render resources/icons/dfw.svg into the icon files the builds and desktops need.

    python -m venv /tmp/icons && /tmp/icons/bin/pip install cairosvg Pillow
    /tmp/icons/bin/python packaging/make_icons.py

Writes `dfw-<N>.png` for N in SIZES (the Linux hicolor theme sizes, 16 to 512), `dfw.ico`
(Windows executables) and `dfw.icns` (the macOS app bundle) beside the SVG. The outputs are
committed, so building the program never needs cairosvg (it needs the cairo C library);
run this again only after editing the SVG.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SOURCE = ICONS / "dfw.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
RENDER_SCALE = 4  # small sizes are rendered large and scaled down: cleaner edges than cairo's at 16 px


def png_name(size: int) -> str:
    return f"dfw-{size}.png"


def render(size: int) -> object:
    """The SVG as a size×size RGBA Pillow image."""
    import cairosvg
    from PIL import Image

    large = max(size * RENDER_SCALE, 512)
    data = cairosvg.svg2png(url=str(SOURCE), output_width=large, output_height=large)
    image = Image.open(io.BytesIO(data)).convert("RGBA")
    return image if large == size else image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> int:
    images = {size: render(size) for size in SIZES}
    for size, image in images.items():
        image.save(ICONS / png_name(size), optimize=True)  # type: ignore[attr-defined]
    images[256].save(ICONS / "dfw.ico", sizes=[(s, s) for s in ICO_SIZES])  # type: ignore[attr-defined]
    images[512].save(ICONS / "dfw.icns")  # type: ignore[attr-defined]
    for path in sorted(ICONS.iterdir()):
        print(f"{path.stat().st_size:>8}  {path.relative_to(ICONS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
