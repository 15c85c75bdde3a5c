// Reading a QR code with the device's camera, where the browser offers it: the Shape Detection API's
// BarcodeDetector (Chrome on Android, Safari, Chrome on macOS; not desktop Linux or Firefox) and a camera.
// Elsewhere the page says so and people type the code, which works just the same.

/** Frames are looked at this often at most: each look decodes a whole picture (phones get hot). */
const LOOK_EVERY_MS = 150;

/** Whether this browser can scan QR codes with a camera (checked once, before offering the button). */
export async function canScanQr() {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return false;
  try {
    return (await window.BarcodeDetector.getSupportedFormats()).includes("qr_code");
  } catch {
    return false;
  }
}

/** Open the rear camera in `video` and look at its frames until one holds a QR code.
 * Resolves {code, stop}: `code` is a promise of the first QR's text, or null once `stop()` is called
 * (stopping releases the camera; it is stopped by itself once a code is read or a look fails).
 * Rejects as getUserMedia does (NotAllowedError: refused, NotFoundError: no camera). */
export async function startQrScan(video) {
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });       // (before the camera is on)
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
  let finish;
  const code = new Promise((resolve, reject) => { finish = { resolve, reject }; });
  let frame = 0;
  let stopped = false;
  const stop = (result = null, error = null) => {
    if (stopped) return;
    stopped = true;
    cancelAnimationFrame(frame);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
    if (error) finish.reject(error);
    else finish.resolve(result);
  };

  let lastLook = 0;
  const look = async (now) => {
    if (stopped) return;
    // Not every frame, and only once the video has a picture (detect() refuses an empty one).
    if (now - lastLook >= LOOK_EVERY_MS && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) {
      lastLook = now;
      try {
        const found = (await detector.detect(video)).find((barcode) => barcode.rawValue);
        if (found) { stop(found.rawValue); return; }
      } catch (err) {
        stop(null, err);
        return;
      }
    }
    if (!stopped) frame = requestAnimationFrame(look);
  };

  video.muted = true;
  video.setAttribute("playsinline", "");          // iOS: in the page, not full screen
  video.srcObject = stream;
  try {
    await video.play();
  } catch (err) {
    stop();                                       // (nobody waits for `code` yet: it just ends)
    throw err;
  }
  frame = requestAnimationFrame(look);
  return { code, stop: () => stop() };
}
