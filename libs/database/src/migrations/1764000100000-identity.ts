import { MigrationInterface, QueryRunner } from 'typeorm';

export class Identity1764000100000 implements MigrationInterface {
  name = 'Identity1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        username text NOT NULL,
        display_name text NOT NULL,
        password_hash text NOT NULL,
        roles text[] NOT NULL DEFAULT '{}',
        clearance smallint NOT NULL DEFAULT 0,
        departments text[] NOT NULL DEFAULT '{}',
        designations text[] NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        must_change_password boolean NOT NULL DEFAULT true,
        last_login_at timestamptz NULL,
        failed_attempts integer NOT NULL DEFAULT 0,
        locked_until timestamptz NULL,
        privileges_changed_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        deactivated_at timestamptz NULL,
        CONSTRAINT pk_users PRIMARY KEY (id),
        CONSTRAINT ck_users_roles CHECK (roles <@ ARRAY['staff', 'records_officer', 'auditor', 'admin']::text[]),
        CONSTRAINT ck_users_designations CHECK (designations <@ ARRAY['mynumber_handler']::text[]),
        CONSTRAINT ck_users_clearance CHECK (clearance BETWEEN 0 AND 3),
        CONSTRAINT ck_users_failed_attempts CHECK (failed_attempts >= 0)
      )`);
    // Case-insensitive uniqueness: "Alice" and "alice" must not be two accounts.
    await q.query(`CREATE UNIQUE INDEX uq_users_username ON users (lower(username))`);

    await q.query(`
      CREATE TABLE sessions (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        token_sha256 text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        ended_at timestamptz NULL,
        end_reason text NULL,
        CONSTRAINT pk_sessions PRIMARY KEY (id),
        CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT uq_sessions_token_sha256 UNIQUE (token_sha256),
        CONSTRAINT ck_sessions_end_reason CHECK (end_reason IS NULL OR end_reason IN ('logout', 'privileges_changed', 'deactivated', 'password_changed', 'password_reset'))
      )`);
    await q.query(`CREATE INDEX ix_sessions_user_open ON sessions (user_id) WHERE ended_at IS NULL`);

    await q.query(`
      CREATE TABLE access_review_signoffs (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        reviewer_id uuid NOT NULL,
        reviewer_username text NOT NULL,
        signed_at timestamptz NOT NULL,
        comment text NOT NULL DEFAULT '',
        user_count integer NOT NULL,
        snapshot_sha256 text NOT NULL,
        CONSTRAINT pk_access_review_signoffs PRIMARY KEY (id),
        CONSTRAINT fk_access_review_signoffs_reviewer FOREIGN KEY (reviewer_id) REFERENCES users (id)
      )`);
    await q.query(`CREATE INDEX ix_access_review_signoffs_signed_at ON access_review_signoffs (signed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE access_review_signoffs`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP TABLE users`);
  }
}
