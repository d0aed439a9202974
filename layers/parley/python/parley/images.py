"""Image processing for attachments: the served copy without EXIF metadata (GPS location included), a
small WebP thumbnail and a tiny inline preview. Pillow is imported here only, so only the thumbnail
function pays for it at cold start."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

PREVIEW_PX = 16
MAX_PIXELS = 50_000_000  # ~200 MB per RGBA copy: refuse "decompression bombs" before they exhaust memory


@dataclass(frozen=True)
class ProcessedImage:
    served: bytes
    served_type: str
    thumbnail: bytes  # WebP
    preview: str  # a data: URI of a few hundred bytes
    width: int
    height: int


def process(data: bytes, content_type: str, thumbnail_px: int) -> ProcessedImage:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # over it Pillow raises instead of decoding
    if content_type == "image/heic":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    with Image.open(io.BytesIO(data)) as opened:
        # Apply the EXIF orientation, then build every output from pixels only: no EXIF, no GPS, no XMP.
        image = ImageOps.exif_transpose(opened)
        image.load()
    width, height = image.size
    pixels = image.convert("RGBA") if image.mode in ("P", "LA", "RGBA") else image.convert("RGB")

    served = io.BytesIO()
    if content_type == "image/png":
        served_type = "image/png"
        pixels.save(served, format="PNG", optimize=True)
    elif content_type == "image/webp":
        served_type = "image/webp"
        pixels.save(served, format="WEBP", quality=90)
    else:  # JPEG, and HEIC (which browsers cannot show) re-encoded as JPEG
        served_type = "image/jpeg"
        pixels.convert("RGB").save(served, format="JPEG", quality=90, optimize=True)

    thumb = pixels.copy()
    thumb.thumbnail((thumbnail_px, thumbnail_px))
    thumbnail = io.BytesIO()
    thumb.save(thumbnail, format="WEBP", quality=75)

    tiny = thumb.copy()  # from the thumbnail: one full-size copy of the pixels at a time
    tiny.thumbnail((PREVIEW_PX, PREVIEW_PX))
    preview = io.BytesIO()
    tiny.save(preview, format="WEBP", quality=40)
    preview_uri = "data:image/webp;base64," + base64.b64encode(preview.getvalue()).decode()
    return ProcessedImage(served=served.getvalue(), served_type=served_type, thumbnail=thumbnail.getvalue(),
                          preview=preview_uri, width=width, height=height)
