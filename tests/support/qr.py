"""Reading QR codes as a door scanner would: the server's SVG drawn as pixels, then decoded."""
from __future__ import annotations

import io

import cairosvg
import zxingcpp
from PIL import Image


def decoded(svg: bytes) -> str:
    """What a QR reader reads from the SVG, drawn as pixels."""
    png = cairosvg.svg2png(bytestring=svg, output_width=400, output_height=400, background_color="white")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1, results
    return results[0].text
