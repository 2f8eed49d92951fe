const PDF_HEADER = Buffer.from('%PDF-', 'latin1');

/** Viewers (Acrobat, pdf.js, poppler) accept the `%PDF-` header anywhere in the first 1,024 bytes. */
export const PDF_HEADER_WINDOW = 1024;

export function hasPdfHeader(head: Buffer): boolean {
  return head.subarray(0, PDF_HEADER_WINDOW + PDF_HEADER.length - 1).includes(PDF_HEADER);
}

/** application/pdf, application/x-pdf, application/vnd.pdf, text/pdf, …: any type a browser hands to a PDF viewer. */
export function isPdfMediaType(mediaType: string): boolean {
  return /^[a-z0-9.+-]+\/(?:[a-z0-9.+-]*[.+-])?pdf(?:\s*;.*)?$/i.test(mediaType.trim());
}

export function hasPdfName(filename: string): boolean {
  return /\.pdf\s*$/i.test(filename);
}

/**
 * A.5.13: a classified file that any viewer would open as a PDF must carry its label, so the
 * bytes, the name and the declared type each count: any one of them makes it a PDF.
 */
export function opensAsPdf(file: { head?: Buffer; filename: string; mediaType: string }): boolean {
  return (file.head !== undefined && hasPdfHeader(file.head)) || hasPdfName(file.filename) || isPdfMediaType(file.mediaType);
}
