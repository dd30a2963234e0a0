"""Render docs/pipeline.svg (the pipeline's diagram, written by hand) to docs/pipeline.png.

00_setup shows the diagram as a markdown cell's attachment, and JupyterLab renders only raster images
there (an SVG attachment fails with "Cannot render unknown image mime type"), so the notebook carries
the PNG; the README shows the SVG. CairoSVG renders it, from a throwaway venv under build/ (created with
pip on first use, as tools/check_sagemaker_artifact.py does; it needs the system's libcairo). The PNG
records the SHA-256 of the SVG it was rendered from in a tEXt chunk, so tests/test_docs.py fails when the
SVG changed and the PNG was not rendered again.

Run: .venv/bin/python tools/render_diagram.py
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "docs" / "pipeline.svg"
PNG = SVG.with_suffix(".png")
CAIROSVG = "2.9.1"
WIDTH_PX = 1440  # 1.5 times the SVG's width: sharp on high-density screens, ~100 KB
VENV = ROOT / "build" / f"venv-cairosvg-{CAIROSVG}"
SOURCE_KEY = b"Source"
RENDER = """
import sys, cairosvg
cairosvg.svg2png(url=sys.argv[1], write_to=sys.argv[2], output_width=int(sys.argv[3]), background_color="white")
"""


def source_text(svg: bytes) -> bytes:
    """The tEXt value naming the SVG a PNG was rendered from: its path and SHA-256."""
    return b"docs/pipeline.svg sha256=" + hashlib.sha256(svg).hexdigest().encode()


def text_chunks(png: bytes) -> dict[bytes, bytes]:
    """A PNG's tEXt chunks, keyword to text."""
    chunks, at = {}, 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"tEXt":
            key, _, value = data.partition(b"\0")
            chunks[key] = value
        at += 12 + length
    return chunks


def with_text(png: bytes, key: bytes, value: bytes) -> bytes:
    """The PNG with one tEXt chunk added right after its header chunk (IHDR)."""
    data = key + b"\0" + value
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    (ihdr_length,) = struct.unpack(">I", png[8:12])
    end_of_ihdr = 8 + 12 + ihdr_length
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


def cairosvg_python() -> Path:
    """Python of a venv with CairoSVG, created on first use."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", f"import cairosvg; assert cairosvg.__version__ == '{CAIROSVG}'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV.relative_to(ROOT)} with cairosvg=={CAIROSVG} (pip, once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"cairosvg=={CAIROSVG}"], check=True)
    return python


def main() -> int:
    """Render the SVG, stamp the PNG with the SVG's digest, write it; 0 when done."""
    rendered = PNG.with_suffix(".tmp.png")
    subprocess.run([str(cairosvg_python()), "-c", RENDER, str(SVG), str(rendered), str(WIDTH_PX)], check=True)
    PNG.write_bytes(with_text(rendered.read_bytes(), SOURCE_KEY, source_text(SVG.read_bytes())))
    rendered.unlink()
    print(
        f"{PNG.relative_to(ROOT)}: {PNG.stat().st_size:,} bytes, from {source_text(SVG.read_bytes()).decode()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
