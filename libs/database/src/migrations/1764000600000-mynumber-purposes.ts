import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Purpose-bound access to specific personal information (My Number Act art. 9, 19: use only
 * for the purposes the law lists). The purposes list is managed by records officers; a
 * series names the purposes its `specific` documents serve by default, a document may name
 * its own. Rows are never cascaded away: purposes are retired, not deleted.
 */
export class MyNumberPurposes1764000600000 implements MigrationInterface {
  name = 'MyNumberPurposes1764000600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mynumber_purposes (
        code text NOT NULL,
        name_ja text NOT NULL,
        name_en text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by uuid NULL,
        retired_at timestamptz NULL,
        CONSTRAINT pk_mynumber_purposes PRIMARY KEY (code),
        CONSTRAINT ck_mynumber_purposes_code CHECK (code ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' AND length(code) <= 64)
      )`);
    await q.query(`
      CREATE TABLE mynumber_series_purposes (
        series_id uuid NOT NULL,
        purpose_code text NOT NULL,
        CONSTRAINT pk_mynumber_series_purposes PRIMARY KEY (series_id, purpose_code),
        CONSTRAINT fk_mynumber_series_purposes_series FOREIGN KEY (series_id) REFERENCES record_series (id) ON DELETE RESTRICT,
        CONSTRAINT fk_mynumber_series_purposes_purpose FOREIGN KEY (purpose_code) REFERENCES mynumber_purposes (code) ON DELETE RESTRICT
      )`);
    await q.query(`
      CREATE TABLE mynumber_document_purposes (
        document_id uuid NOT NULL,
        purpose_code text NOT NULL,
        CONSTRAINT pk_mynumber_document_purposes PRIMARY KEY (document_id, purpose_code),
        CONSTRAINT fk_mynumber_document_purposes_document FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE RESTRICT,
        CONSTRAINT fk_mynumber_document_purposes_purpose FOREIGN KEY (purpose_code) REFERENCES mynumber_purposes (code) ON DELETE RESTRICT
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mynumber_document_purposes`);
    await q.query(`DROP TABLE mynumber_series_purposes`);
    await q.query(`DROP TABLE mynumber_purposes`);
  }
}
