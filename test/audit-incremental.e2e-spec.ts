import { AuditCheckpointService, AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from './support/app';
import { lastSeq, recordEvents, tamper } from './support/audit';

/**
 * Incremental verification: from the newest checkpoint the last successful verification of
 * this process covered, over the events since (O(new events)), with what it does and does not see.
 */
describe('audit verification since the last verified checkpoint', () => {
  let t: TestApp;
  let verifier: AuditVerifier;
  let checkpoint: number;

  beforeEach(async () => {
    t = await startTestApp();
    verifier = t.app.get(AuditVerifier);
    await recordEvents(t, 10);
    checkpoint = Number((await t.app.get(AuditCheckpointService).create())!.seq);
    // The first run has nothing remembered: it verifies the whole chain and remembers the checkpoint.
    await expect(verifier.verifyIncremental()).resolves.toMatchObject({ valid: true, checked: checkpoint, from: 1 });
    await recordEvents(t, 5);
  });
  afterEach(async () => {
    await t.close();
  });

  it('checks only the events from the remembered checkpoint on', async () => {
    const head = await lastSeq(t);
    await expect(verifier.verifyIncremental()).resolves.toEqual({ valid: true, checked: head - checkpoint + 1, firstInvalidSeq: null, reason: null, from: checkpoint });
  });

  it('detects an edit after the checkpoint, and an edit of the checkpointed event itself', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = $1`, [checkpoint + 2]));
    await expect(verifier.verifyIncremental()).resolves.toMatchObject({ valid: false, firstInvalidSeq: checkpoint + 2 });
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'alice' WHERE seq = $1`, [checkpoint + 2]));
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = $1`, [checkpoint]));
    await expect(verifier.verifyIncremental()).resolves.toMatchObject({ valid: false, firstInvalidSeq: checkpoint });
  });

  it('does not see an edit before the remembered checkpoint; the full verification does', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = $1`, [checkpoint - 3]));
    await expect(verifier.verifyIncremental()).resolves.toMatchObject({ valid: true, from: checkpoint });
    await expect(verifier.verify()).resolves.toMatchObject({ valid: false, firstInvalidSeq: checkpoint - 3 });
  });

  it('fails when the remembered checkpoint was removed or replaced', async () => {
    await tamper(t, (db) => db.query(`DELETE FROM audit_checkpoints WHERE seq = $1`, [checkpoint]));
    await expect(verifier.verifyIncremental()).resolves.toMatchObject({
      valid: false,
      firstInvalidSeq: checkpoint,
      reason: `checkpoint ${checkpoint} changed or vanished since it was last verified`,
    });
  });
});
