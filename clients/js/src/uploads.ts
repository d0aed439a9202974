// The file half of an attachment: a presigned POST straight to storage (docs/attachments.md), with the
// platform's fetch and FormData, so it works in browsers, React Native and Node >= 18 alike.
import { UploadError } from "./errors.js";
import type { UploadFrame } from "./frames.js";
import type { UploadData } from "./types.js";

const ERROR_DETAIL_CHARS = 500;

/** The size in bytes the upload ticket is asked for. */
export function uploadSize(data: UploadData): number {
  if (data instanceof ArrayBuffer || data instanceof Uint8Array) return data.byteLength;
  return data.size;
}

/** POST the file with the ticket's fields, the file last (storage ignores what follows it). Throws UploadError
 *  when refused. */
export async function postFile(fetchImpl: typeof fetch, ticket: UploadFrame, data: UploadData,
  contentType: string): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
  if (!(data instanceof ArrayBuffer) && !(data instanceof Uint8Array) && "uri" in data) {
    // React Native's FormData reads the file from its uri.
    form.append("file", { uri: data.uri, type: data.type ?? contentType, name: data.name ?? "upload" } as
      unknown as Blob);
  } else {
    const blob = data instanceof Blob ? data : new Blob([data as BlobPart], { type: contentType });
    form.append("file", blob, "upload");
  }
  const answer = await fetchImpl(ticket.url, { method: "POST", body: form });
  if (!answer.ok) throw new UploadError(answer.status, (await answer.text()).slice(0, ERROR_DETAIL_CHARS));
}
