import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { type Actor, Clock, DomainError, ErrorCode } from '@kura/common';
import { KuraConfig } from '@kura/config';
import type { AuditEventFilter, AuditEventView } from '../audit-query.types';
import { AuditRepository } from '../audit.repository';
import { AuditService } from '../audit.service';
import { auditEventFilter, auditFilterDetails } from '../dto/audit-events.filter';
import type { AuditEventsQuery } from '../dto/audit-events.query';
import { csvHeader, csvRow, jsonLine } from './audit-export-lines';
import { renderAuditReportPdf } from './audit-export-pdf';

export type AuditExportFormat = 'csv' | 'jsonl' | 'pdf';

/** Events read per query while streaming: memory stays at one batch whatever the trail's size. */
export const AUDIT_EXPORT_BATCH_SIZE = 1_000;

const CONTENT_TYPES: Record<AuditExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  // JSON Lines (jsonlines.org); JSON text is UTF-8 by definition (RFC 8259), so no charset.
  jsonl: 'application/jsonl',
  pdf: 'application/pdf',
};

export interface AuditExport {
  format: AuditExportFormat;
  contentType: string;
  filename: string;
  count: number;
  /** csv and jsonl: streamed from the database batch by batch; pdf: the finished report. */
  body: Readable | Buffer;
}

/** 2026-11-26T06:14:14.123Z → 20261126T061414Z (ISO 8601 basic format: no colons in file names). */
const fileStamp = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

/**
 * Auditor exports of the trail (A.8.15). The export is counted on one snapshot of the chain
 * (up to its newest event), audited with its format, filters and count before a byte leaves,
 * and then sends exactly those events.
 */
@Injectable()
export class AuditExportService {
  /** Rows per keyset batch; a seam for tests that cross batch boundaries with few events. */
  batchSize = AUDIT_EXPORT_BATCH_SIZE;

  constructor(
    private readonly events: AuditRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: KuraConfig,
  ) {}

  async export(actor: Actor, q: AuditEventsQuery, format: AuditExportFormat): Promise<AuditExport> {
    if (q.page !== undefined || q.pageSize !== undefined) {
      const field = q.page !== undefined ? 'page' : 'pageSize';
      throw DomainError.validation(`${field} applies to format=json only: exports hold every matching event.`, [{ field, messages: [`${field} applies to format=json only`] }]);
    }
    const filter = auditEventFilter(q);
    const filters = auditFilterDetails(q);
    const generatedAt = this.clock.now();
    const { upTo, total } = await this.events.exportSnapshot(filter);
    const details = { format, filter: filters, count: total, upToSeq: upTo };
    const base = { format, contentType: CONTENT_TYPES[format], filename: `audit-events-${fileStamp(generatedAt)}.${format}`, count: total };

    if (format === 'pdf') {
      const max = this.config.auditExportPdfMaxEvents;
      if (total > max) {
        // Recorded as failed, not denied: the auditor may export these events, just not as one PDF.
        await this.audit.record({ actor, action: 'audit.events.export', targetType: 'AuditEvent', outcome: 'failed', details: { ...details, reason: 'too-many-events-for-pdf', limit: max } });
        throw new DomainError(
          ErrorCode.PayloadTooLarge,
          `${total} events match, more than the ${max} a PDF report may hold. Narrow the filters (actor, action, targetId, outcome, from, to) or export as csv or jsonl.`,
        );
      }
      const events: AuditEventView[] = [];
      for await (const batch of this.batches(filter, upTo)) events.push(...batch);
      let pdf: Buffer;
      try {
        pdf = await renderAuditReportPdf({ generatedBy: { id: actor.id, username: actor.username }, generatedAt, filters, upToSeq: upTo, events });
      } catch (err) {
        await this.audit.record({ actor, action: 'audit.events.export', targetType: 'AuditEvent', outcome: 'failed', details: { ...details, reason: 'render-failed' } });
        throw err;
      }
      await this.audit.record({ actor, action: 'audit.events.export', targetType: 'AuditEvent', outcome: 'allowed', details });
      return { ...base, count: events.length, body: pdf };
    }

    // The export is on the record before its first byte is sent (A.8.15: the watchers are watched).
    await this.audit.record({ actor, action: 'audit.events.export', targetType: 'AuditEvent', outcome: 'allowed', details });
    return { ...base, body: Readable.from(this.lines(format, filter, upTo), { objectMode: false }) };
  }

  private async *lines(format: 'csv' | 'jsonl', filter: AuditEventFilter, upTo: string): AsyncGenerator<string> {
    if (format === 'csv') yield csvHeader();
    const line = format === 'csv' ? csvRow : jsonLine;
    for await (const batch of this.batches(filter, upTo)) yield batch.map(line).join('');
  }

  /** Keyset pages by seq: each query starts after the last seq of the previous one. */
  private async *batches(filter: AuditEventFilter, upTo: string): AsyncGenerator<AuditEventView[]> {
    let after = '0';
    for (;;) {
      const batch = await this.events.exportBatch(filter, after, upTo, this.batchSize);
      if (batch.length === 0) return;
      yield batch;
      if (batch.length < this.batchSize) return;
      after = String(batch[batch.length - 1].seq);
    }
  }
}
