import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identity: privilege grants that need a second administrator (A.5.3, A.5.18). A grant is one
 * privilege for one user; it is effective only once approved, and the database refuses an
 * approval by the administrator who asked for it or by the user it is for.
 */
export class IdentityPrivilegeGrants1764000910000 implements MigrationInterface {
  name = 'IdentityPrivilegeGrants1764000910000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE privilege_grants (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        privilege text NOT NULL,
        value text NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        requested_by uuid NOT NULL,
        requested_by_username text NOT NULL,
        requested_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        decided_by uuid NULL,
        decided_by_username text NULL,
        decided_at timestamptz NULL,
        comment text NOT NULL DEFAULT '',
        CONSTRAINT pk_privilege_grants PRIMARY KEY (id),
        CONSTRAINT fk_privilege_grants_user FOREIGN KEY (user_id) REFERENCES users (id),
        CONSTRAINT fk_privilege_grants_requested_by FOREIGN KEY (requested_by) REFERENCES users (id),
        CONSTRAINT fk_privilege_grants_decided_by FOREIGN KEY (decided_by) REFERENCES users (id),
        CONSTRAINT ck_privilege_grants_privilege CHECK (
          (privilege = 'role' AND value IN ('admin', 'records_officer'))
          OR (privilege = 'designation' AND value = 'mynumber_handler')
          OR (privilege = 'clearance' AND value = 'SECRET')
        ),
        CONSTRAINT ck_privilege_grants_status CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'withdrawn')),
        CONSTRAINT ck_privilege_grants_decided CHECK ((status = 'pending') = (decided_at IS NULL)),
        CONSTRAINT ck_privilege_grants_expiry CHECK (expires_at > requested_at),
        -- Four eyes, guarded by the database too: neither the requester nor the grantee approves.
        CONSTRAINT ck_privilege_grants_four_eyes CHECK (
          status <> 'approved' OR (decided_by IS DISTINCT FROM requested_by AND decided_by IS DISTINCT FROM user_id)
        ),
        CONSTRAINT ck_privilege_grants_not_own CHECK (requested_by <> user_id)
      )`);
    // One open request per privilege and user: asking again reuses it.
    await q.query(`CREATE UNIQUE INDEX uq_privilege_grants_pending ON privilege_grants (user_id, privilege, value) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX ix_privilege_grants_status_requested_at ON privilege_grants (status, requested_at)`);
    await q.query(`CREATE INDEX ix_privilege_grants_decided_at ON privilege_grants (decided_at) WHERE decided_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE privilege_grants`);
  }
}
