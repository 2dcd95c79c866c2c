# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The local HTTPS server the browser's pages come from, its certificate, and the test image.

One server answers for every web origin of the tests (https://app.segments.ai, other Segments subdomains, a customer's
own app, an unrelated site): Chromium maps each of those names to it, so each page runs at exactly its real origin.
The page carries the two ways Segments' web app reads an image: ``fetch()``, and an ``<img crossorigin>`` drawn to a
canvas and read back.
"""

from __future__ import annotations

import datetime
import shutil
import ssl
import struct
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# The colour of every pixel of the test image, RGBA.
IMAGE_PIXEL = (18, 164, 86, 255)

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>segments.cloud browser test</title></head>
<body>
<script>
// Read an image the way Segments' web app does: fetch() it (extra headers make the request need a preflight).
window.readByFetch = async (url, headers) => {
  try {
    const answer = await fetch(url, {mode: "cors", headers: headers || {}});
    const bytes = new Uint8Array(await answer.arrayBuffer());
    return {ok: true, status: answer.status, hex: Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("")};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
};
// Or load it in an <img crossorigin>, draw it to a canvas and read a pixel back. A refused image does not load.
window.readByImage = (url) => new Promise(done => {
  const image = new Image();
  image.crossOrigin = "anonymous";
  image.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    try {
      done({ok: true, width: image.naturalWidth, pixel: Array.from(context.getImageData(0, 0, 1, 1).data)});
    } catch (error) {
      done({ok: false, error: "canvas: " + String(error)});
    }
  };
  image.onerror = () => done({ok: false, error: "the image did not load"});
  image.src = url;
});
</script>
</body></html>
"""


def png_image(width: int = 2, height: int = 2, pixel=IMAGE_PIXEL) -> bytes:
    """A small RGBA PNG of one colour, made here so that no image file is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(pixel) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def make_certificate(names: list, folder: Path) -> tuple:
    """A self-signed certificate for the given DNS names (wildcards allowed); returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = PAGE if self.path.split("?")[0] == "/" else b"not found"
        self.send_response(200 if body is PAGE else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


class PageServer:
    """The HTTPS server of the test pages on 127.0.0.1 (a port the system picks), with a certificate for names."""

    def __init__(self, names: list) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="segments-pages-"))
        cert, key = make_certificate(names, self.folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.folder, ignore_errors=True)
