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
  /** "The later of": a statutory minimum (`created` | `event:<name>` + its period), or null. */
  minimumTrigger: string | null;
  minimumYears: number;
  minimumMonths: number;
  minimumDays: number;
  disposition: 'destroy' | 'review';
  citation: string;
  createdAt: Date;
  updatedAt: Date;
}

export type NewSeries = Omit<SeriesRow, 'id' | 'createdAt' | 'updatedAt'>;

const COLUMNS = `id, code, name, years, months, days, trigger, disposition, citation, created_at AS "createdAt", updated_at AS "updatedAt",
  minimum_trigger AS "minimumTrigger", minimum_years AS "minimumYears", minimum_months AS "minimumMonths", minimum_days AS "minimumDays"`;

@Injectable()
export class SeriesRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /** null when the code is already taken (the unique constraint decides, not a prior read). */
  async insert(m: EntityManager, s: NewSeries, createdBy: string | null, at: Date): Promise<SeriesRow | null> {
    const rows = (await m.query(
      `INSERT INTO record_series (code, name, years, months, days, trigger, disposition, citation, created_at, created_by, updated_at,
                                  minimum_trigger, minimum_years, minimum_months, minimum_days)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, $11, $12, $13, $14)
       ON CONFLICT ON CONSTRAINT uq_record_series_code DO NOTHING
       RETURNING ${COLUMNS}`,
      [s.code, s.name, s.years, s.months, s.days, s.trigger, s.disposition, s.citation, at, createdBy, s.minimumTrigger, s.minimumYears, s.minimumMonths, s.minimumDays],
    )) as SeriesRow[];
    return rows[0] ?? null;
  }

  list(m: EntityManager = this.dataSource.manager): Promise<SeriesRow[]> {
    return m.query(`SELECT ${COLUMNS} FROM record_series ORDER BY code`) as Promise<SeriesRow[]>;
  }

  async update(m: EntityManager, id: string, s: NewSeries, at: Date): Promise<SeriesRow> {
    const [row] = (await m.query(
      `WITH u AS (UPDATE record_series SET name = $2, years = $3, months = $4, days = $5, trigger = $6, disposition = $7, citation = $8, updated_at = $9,
                                           minimum_trigger = $10, minimum_years = $11, minimum_months = $12, minimum_days = $13
                   WHERE id = $1 RETURNING *)
       SELECT ${COLUMNS} FROM u`,
      [id, s.name, s.years, s.months, s.days, s.trigger, s.disposition, s.citation, at, s.minimumTrigger, s.minimumYears, s.minimumMonths, s.minimumDays],
    )) as SeriesRow[];
    return row;
  }

  async findById(m: EntityManager, id: string, lock = false): Promise<SeriesRow | null> {
    const rows = (await m.query(`SELECT ${COLUMNS} FROM record_series WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id])) as SeriesRow[];
    return rows[0] ?? null;
  }
}
