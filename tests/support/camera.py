"""A camera for the browser tests: Chromium's fake capture device filming a picture, and a stand-in for
the Shape Detection API's BarcodeDetector, which Chromium offers on Android, macOS and ChromeOS but not
on Linux. The stand-in reads each frame the page hands it with a real QR reader (zxing-cpp, in the
test's process), so the page's camera, frames and decoding all run for real; only the platform's
decoder is stood in for.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image
from playwright.async_api import BrowserContext

from tests.support import qr

WIDTH, HEIGHT = 640, 480


def filming(picture: bytes, folder: Path) -> list[str]:
    """Chromium's switches for a camera that films `picture` (PNG) in the middle of a white frame: a
    one-frame Y4M video (I420), which the fake device plays in a loop."""
    frame = Image.new("RGB", (WIDTH, HEIGHT), "white")
    shown = Image.open(io.BytesIO(picture)).convert("RGB")
    shown.thumbnail((HEIGHT - 40, HEIGHT - 40))
    frame.paste(shown, ((WIDTH - shown.width) // 2, (HEIGHT - shown.height) // 2))
    luma, blue, red = frame.convert("YCbCr").split()
    quarter = (WIDTH // 2, HEIGHT // 2)                 # 4:2:0: one colour sample per 2x2 pixels
    video = folder / "camera.y4m"
    video.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\nFRAME\n".encode()
                      + luma.tobytes() + blue.resize(quarter).tobytes() + red.resize(quarter).tobytes())
    return [*ANY_CAMERA, f"--use-file-for-fake-video-capture={video}"]


ANY_CAMERA = ["--use-fake-device-for-media-stream"]      # Chromium's own moving test pattern: no QR in it

# Every stream the page scanned is kept in window.scannedStreams, so a test can see it was stopped.
BARCODE_DETECTOR = """
window.BarcodeDetector = class BarcodeDetector {
  static async getSupportedFormats() { return ["qr_code"]; }
  constructor({ formats = [] } = {}) { this.formats = formats; }
  async detect(source) {
    (window.scannedStreams ||= new Set()).add(source.srcObject);
    const canvas = document.createElement("canvas");
    canvas.width = source.videoWidth;
    canvas.height = source.videoHeight;
    canvas.getContext("2d").drawImage(source, 0, 0);
    const texts = this.formats.includes("qr_code") ? await window.readQrCodes(canvas.toDataURL("image/png")) : [];
    return texts.map((rawValue) => ({ rawValue, format: "qr_code" }));
  }
};
"""


async def offer_barcode_detector(context: BrowserContext) -> None:
    """Give the context's pages a BarcodeDetector that reads QR codes with zxing-cpp."""
    await context.expose_function("readQrCodes", lambda data_url: qr.read(base64.b64decode(data_url.partition(",")[2])))
    await context.add_init_script(BARCODE_DETECTOR)


async def camera_tracks(page) -> list[str]:
    """The readyState ("live", "ended") of every camera track the page scanned."""
    return await page.evaluate("[...(window.scannedStreams || [])].filter(Boolean)"
                               ".flatMap((s) => s.getTracks()).map((t) => t.readyState)")
