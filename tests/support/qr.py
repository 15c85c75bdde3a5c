"""Reading QR codes as a door scanner would: the server's SVG drawn as pixels, or its PNG, then decoded."""
from __future__ import annotations

import io

import cairosvg
import zxingcpp
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def drawn(svg: bytes, size: int = 400) -> bytes:
    """The SVG as a PNG of `size` pixels square, on white (as it shows on a phone's screen)."""
    return cairosvg.svg2png(bytestring=svg, output_width=size, output_height=size, background_color="white")


def read(picture: bytes) -> list[str]:
    """The texts of the QR codes (and other barcodes) a reader finds in a picture (PNG, JPEG...)."""
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))]


def decoded(image: bytes) -> str:
    """What a QR reader reads from the image: a PNG as it is, an SVG drawn as pixels first."""
    results = read(image if image.startswith(PNG_SIGNATURE) else drawn(image))
    assert len(results) == 1, results
    return results[0]
