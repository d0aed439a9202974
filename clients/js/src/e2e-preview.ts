// The preview of a photo in an end-to-end encrypted conversation, made on the device: the server cannot see the
// photo to make one (docs/attachments.md). No libsodium here: it is sealed with the message's payload.

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
