/** Messages between PdfStamper and its worker threads (pdf-stamp.worker.ts). */
export interface StampWorkerData {
  fontPath: string;
  /** Bytes that decoding the file's streams may produce in total. */
  maxDecodedBytes: number;
}

export interface StampRequest {
  pdf: Uint8Array;
  heading: string;
  footer: string;
}

/** `limits`: the file needs more than a bounded decoder gives it; `malformed`: pdf-lib could not label it. */
export type StampReply = { ok: true; pdf: Uint8Array } | { ok: false; reason: 'limits' | 'malformed' };
