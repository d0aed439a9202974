"""Small real images for the tests of every tier: a JPEG that says where it was taken (EXIF GPS)."""

from __future__ import annotations

import io

from PIL import Image

GPS_TAG = 0x8825  # the EXIF GPSInfo IFD


def jpeg_with_gps(width: int = 1200, height: int = 800) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "ParleyCam"  # Make
    exif[GPS_TAG] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
