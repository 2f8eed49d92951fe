import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface PurposeRow {
  code: string;
  nameJa: string;
  nameEn: string;
  createdAt: Date;
  retiredAt: Date | null;
}

const COLUMNS = `code, name_ja AS "nameJa", name_en AS "nameEn", created_at AS "createdAt", retired_at AS "retiredAt"`;

/** The purposes list and which purposes series and documents permit. The only SQL on mynumber_* tables. */
@Injectable()
export class PurposesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async list(): Promise<PurposeRow[]> {
    return (await this.dataSource.query(`SELECT ${COLUMNS} FROM mynumber_purposes ORDER BY code`)) as PurposeRow[];
  }

  /** false when the code exists already. */
  async insert(m: EntityManager, p: { code: string; nameJa: string; nameEn: string; createdAt: Date; createdBy: string }): Promise<boolean> {
    const rows = (await m.query(
      `INSERT INTO mynumber_purposes (code, name_ja, name_en, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (code) DO NOTHING RETURNING code`,
      [p.code, p.nameJa, p.nameEn, p.createdAt, p.createdBy],
    )) as unknown[];
    return rows.length === 1;
  }

  /** false when there is no such active purpose. */
  async retire(m: EntityManager, code: string, at: Date): Promise<boolean> {
    // As a CTE: TypeORM answers a bare UPDATE … RETURNING with [rows, count], a SELECT with rows.
    const rows = (await m.query(`WITH u AS (UPDATE mynumber_purposes SET retired_at = $2 WHERE code = $1 AND retired_at IS NULL RETURNING code) SELECT code FROM u`, [code, at])) as unknown[];
    return rows.length === 1;
  }

  /** The codes among `codes` that are not active purposes. */
  async unknownCodes(codes: string[]): Promise<string[]> {
    if (codes.length === 0) return [];
    const rows = (await this.dataSource.query(`SELECT code FROM mynumber_purposes WHERE code = ANY($1::text[]) AND retired_at IS NULL`, [codes])) as Array<{ code: string }>;
    const known = new Set(rows.map((r) => r.code));
    return codes.filter((c) => !known.has(c));
  }

  async replaceSeriesPurposes(m: EntityManager, seriesId: string, codes: string[]): Promise<void> {
    await m.query(`DELETE FROM mynumber_series_purposes WHERE series_id = $1`, [seriesId]);
    if (codes.length) await m.query(`INSERT INTO mynumber_series_purposes (series_id, purpose_code) SELECT $1, unnest($2::text[])`, [seriesId, codes]);
  }

  async replaceDocumentPurposes(m: EntityManager, documentId: string, codes: string[]): Promise<void> {
    await m.query(`DELETE FROM mynumber_document_purposes WHERE document_id = $1`, [documentId]);
    if (codes.length) await m.query(`INSERT INTO mynumber_document_purposes (document_id, purpose_code) SELECT $1, unnest($2::text[])`, [documentId, codes]);
  }

  async seriesPurposes(seriesId: string): Promise<string[]> {
    const rows = (await this.dataSource.query(`SELECT purpose_code AS code FROM mynumber_series_purposes WHERE series_id = $1 ORDER BY 1`, [seriesId])) as Array<{ code: string }>;
    return rows.map((r) => r.code);
  }

  /**
   * The purposes a document permits: its own list when it has one, else its series' list.
   * Retired purposes permit nothing.
   */
  async permittedFor(documentId: string, seriesId: string | null): Promise<{ codes: string[]; source: 'document' | 'series' | 'none' }> {
    const own = (await this.dataSource.query(
      `SELECT p.code FROM mynumber_document_purposes d JOIN mynumber_purposes p ON p.code = d.purpose_code
        WHERE d.document_id = $1 AND p.retired_at IS NULL ORDER BY 1`,
      [documentId],
    )) as Array<{ code: string }>;
    const anyOwn = (await this.dataSource.query(`SELECT 1 FROM mynumber_document_purposes WHERE document_id = $1 LIMIT 1`, [documentId])) as unknown[];
    if (anyOwn.length) return { codes: own.map((r) => r.code), source: 'document' };
    if (seriesId === null) return { codes: [], source: 'none' };
    const fromSeries = (await this.dataSource.query(
      `SELECT p.code FROM mynumber_series_purposes s JOIN mynumber_purposes p ON p.code = s.purpose_code
        WHERE s.series_id = $1 AND p.retired_at IS NULL ORDER BY 1`,
      [seriesId],
    )) as Array<{ code: string }>;
    return { codes: fromSeries.map((r) => r.code), source: fromSeries.length ? 'series' : 'none' };
  }
}
