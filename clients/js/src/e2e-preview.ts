// What the device does to a photo of an end-to-end encrypted conversation before encrypting it: it makes its
// preview and removes its location metadata, as the server does for other conversations and cannot here
// (docs/attachments.md). No libsodium here.

/** Edge of the preview the client makes itself (pixels): a blurred placeholder of a few hundred bytes. */
export const PREVIEW_EDGE = 32;

interface PreviewCanvas {
  getContext(kind: "2d"): { filter: string; drawImage(image: unknown, x: number, y: number, w: number, h: number): void }
    | null;
  convertToBlob(options: { type: string; quality: number }): Promise<Blob>;
}

/** A photo's preview made on the device (the server cannot see the photo to make one): a JPEG data URL at most
 *  PREVIEW_EDGE pixels on its long side, blurred. Where the platform has `createImageBitmap` and `OffscreenCanvas`
 *  (browsers); elsewhere (Node, React Native) undefined: pass `preview` yourself. */
export async function previewOf(data: Uint8Array, contentType: string): Promise<string | undefined> {
  const platform = globalThis as { createImageBitmap?: (blob: Blob) => Promise<{ width: number; height: number;
    close?(): void }>; OffscreenCanvas?: new (w: number, h: number) => PreviewCanvas };
  if (!contentType.startsWith("image/") || !platform.createImageBitmap || !platform.OffscreenCanvas) return undefined;
  try {
    const image = await platform.createImageBitmap(new Blob([data as BlobPart], { type: contentType }));
    const scale = PREVIEW_EDGE / Math.max(image.width, image.height, 1);
    const [w, h] = [Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale))];
    const canvas = new platform.OffscreenCanvas(w, h);
    const context = canvas.getContext("2d");
    if (!context) return undefined;
    context.filter = "blur(1px)";
    context.drawImage(image, 0, 0, w, h);
    image.close?.();
    const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: "image/jpeg", quality: 0.6 })).arrayBuffer());
    let binary = "";
    for (const byte of jpeg) binary += String.fromCharCode(byte);
    return `data:image/jpeg;base64,${btoa(binary)}`;
  } catch {
    return undefined; // not an image the platform decodes: no preview
  }
}

const APP1 = 0xe1;
const SOS = 0xda;
const METADATA_HEADERS = ["Exif\0\0", "http://ns.adobe.com/xap/1.0/\0"].map((h) => Array.from(h, (c) => c.charCodeAt(0)));

/** A JPEG without its EXIF and XMP segments (where the camera writes the location), the image data untouched;
 *  anything else as it is. The server cannot strip what it cannot read, so the client does before encrypting. */
export function withoutMetadata(data: Uint8Array, contentType: string): Uint8Array {
  if (contentType !== "image/jpeg" || data[0] !== 0xff || data[1] !== 0xd8) return data;
  const kept: Uint8Array[] = [data.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1] as number;
    if (marker === SOS) break; // the image data follows: kept as it is
    const end = at + 2 + (((data[at + 2] as number) << 8) | (data[at + 3] as number));
    if (end > data.length) return data; // not a JPEG we can read: left alone
    const body = data.subarray(at + 4, end);
    const metadata = marker === APP1 && METADATA_HEADERS.some((h) => h.every((byte, i) => body[i] === byte));
    if (!metadata) kept.push(data.subarray(at, end));
    at = end;
  }
  kept.push(data.subarray(at));
  const out = new Uint8Array(kept.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of kept) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
