import { Logger, StreamableFile } from '@nestjs/common';
import type { AuditExport } from '@kura/audit';
import { withBom } from '../http/csv-bom';

const logger = new Logger('AuditExport');

/**
 * The export as a download. A failure once it is under way (the database mid-stream) destroys
 * the socket: the client sees a broken transfer, never a second response or a truncated file
 * that ends cleanly and looks complete.
 */
export function exportFile(e: AuditExport, bom = false): StreamableFile {
  const options = { type: e.contentType, disposition: `attachment; filename="${e.filename}"` };
  // Two constructor overloads (bytes, stream) and no union one: each branch picks its own.
  const body = bom ? withBom(e.body) : e.body;
  const file = Buffer.isBuffer(body) ? new StreamableFile(body, options) : new StreamableFile(body, options);
  return file.setErrorHandler((err, res) => {
    logger.error({ msg: 'audit export failed after it started', format: e.format, error: err.message });
    res.destroy?.();
  });
}
