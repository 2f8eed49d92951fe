import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed logins counted per (username, client address): a lockout then shuts out the
 * address that guessed, not the account's owner everywhere (issue 11: one client could
 * keep the only administrator locked out for good).
 */
export class LoginFailures1764000500000 implements MigrationInterface {
  name = 'LoginFailures1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE login_failures (
        username text NOT NULL,
        client_address text NOT NULL,
        failures integer NOT NULL,
        locked_until timestamptz NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT pk_login_failures PRIMARY KEY (username, client_address),
        CONSTRAINT ck_login_failures_failures CHECK (failures >= 0)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE login_failures`);
  }
}
