import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An approved batch is executed by a worker that holds its lease: one worker at a time per
 * batch, renewed while it runs; a crashed worker's lease expires and another takes the batch.
 * Lease times are PostgreSQL's clock (clock_timestamp()), the one clock every process shares.
 */
export class DispositionLeases1764001500000 implements MigrationInterface {
  name = 'DispositionLeases1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE disposition_batches ADD COLUMN lease_owner text, ADD COLUMN lease_until timestamptz`);
    await q.query(`ALTER TABLE disposition_batches ADD CONSTRAINT ck_disposition_batches_lease CHECK ((lease_owner IS NULL) = (lease_until IS NULL))`);
    await q.query(`ALTER TABLE disposition_batches ADD CONSTRAINT ck_disposition_batches_lease_state CHECK (lease_owner IS NULL OR state = 'executing')`);
    await q.query(`CREATE INDEX ix_disposition_batches_executing ON disposition_batches (approved_at, id) WHERE state = 'executing'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_disposition_batches_executing`);
    await q.query(`ALTER TABLE disposition_batches DROP CONSTRAINT ck_disposition_batches_lease_state, DROP CONSTRAINT ck_disposition_batches_lease`);
    await q.query(`ALTER TABLE disposition_batches DROP COLUMN lease_until, DROP COLUMN lease_owner`);
  }
}
