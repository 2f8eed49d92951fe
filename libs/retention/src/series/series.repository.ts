import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface SeriesRow {
  id: string;
  code: string;
  name: string;
  years: number;
  months: number;
  days: number;
  trigger: string;
  disposition: 'destroy' | 'review';
  citation: string;
  createdAt: Date;
  updatedAt: Date;
}

export type NewSeries = Omit<SeriesRow, 'id' | 'createdAt' | 'updatedAt'>;

const COLUMNS = `id, code, name, years, months, days, trigger, disposition, citation, created_at AS "createdAt", updated_at AS "updatedAt"`;

@Injectable()
export class SeriesRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /** null when the code is already taken (the unique constraint decides, not a prior read). */
  async insert(m: EntityManager, s: NewSeries, createdBy: string | null, at: Date): Promise<SeriesRow | null> {
    const rows = (await m.query(
      `INSERT INTO record_series (code, name, years, months, days, trigger, disposition, citation, created_at, created_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)
       ON CONFLICT ON CONSTRAINT uq_record_series_code DO NOTHING
       RETURNING ${COLUMNS}`,
      [s.code, s.name, s.years, s.months, s.days, s.trigger, s.disposition, s.citation, at, createdBy],
    )) as SeriesRow[];
    return rows[0] ?? null;
  }

  list(m: EntityManager = this.dataSource.manager): Promise<SeriesRow[]> {
    return m.query(`SELECT ${COLUMNS} FROM record_series ORDER BY code`) as Promise<SeriesRow[]>;
  }

  async update(m: EntityManager, id: string, s: NewSeries, at: Date): Promise<SeriesRow> {
    const [row] = (await m.query(
      `WITH u AS (UPDATE record_series SET name = $2, years = $3, months = $4, days = $5, trigger = $6, disposition = $7, citation = $8, updated_at = $9
                   WHERE id = $1 RETURNING *)
       SELECT ${COLUMNS} FROM u`,
      [id, s.name, s.years, s.months, s.days, s.trigger, s.disposition, s.citation, at],
    )) as SeriesRow[];
    return row;
  }

  async findById(m: EntityManager, id: string, lock = false): Promise<SeriesRow | null> {
    const rows = (await m.query(`SELECT ${COLUMNS} FROM record_series WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])) as SeriesRow[];
    return rows[0] ?? null;
  }
}
