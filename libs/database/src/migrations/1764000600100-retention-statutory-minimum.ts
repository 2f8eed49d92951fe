import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A series may keep its records until the later of its own rule and a statutory minimum
 * (e.g. My Number forms: destroy once the purpose ends, but not before 7 years after the
 * filing deadline). No minimum_trigger: no minimum.
 */
export class RetentionStatutoryMinimum1764000600100 implements MigrationInterface {
  name = 'RetentionStatutoryMinimum1764000600100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE record_series
        ADD COLUMN minimum_trigger text NULL,
        ADD COLUMN minimum_years integer NOT NULL DEFAULT 0,
        ADD COLUMN minimum_months integer NOT NULL DEFAULT 0,
        ADD COLUMN minimum_days integer NOT NULL DEFAULT 0,
        ADD CONSTRAINT ck_record_series_minimum_trigger CHECK (minimum_trigger IS NULL OR minimum_trigger ~ '^(created|event:[a-z][a-z0-9]*(-[a-z0-9]+)*)$'),
        ADD CONSTRAINT ck_record_series_minimum_period CHECK (minimum_years BETWEEN 0 AND 200 AND minimum_months BETWEEN 0 AND 2400 AND minimum_days BETWEEN 0 AND 73000)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE record_series
        DROP CONSTRAINT ck_record_series_minimum_period, DROP CONSTRAINT ck_record_series_minimum_trigger,
        DROP COLUMN minimum_days, DROP COLUMN minimum_months, DROP COLUMN minimum_years, DROP COLUMN minimum_trigger`);
  }
}
