import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, type ClientConfig } from 'pg';
import type { DataSource, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { metrics } from '@kura/common';
import { AuditEventEntity } from './audit-event.entity';
import { storedEventHash } from './audit-hash';
import { AuditRepository, ChainedEvent, PendingAuditEvent } from './audit.repository';

/** What became of a pending event its writer waited for. */
export type ChainOutcome = { chained: true; event: AuditEventEntity } | { chained: false; reason: string };

interface Waiter {
  pending: PendingAuditEvent;
  settle: (o: ChainOutcome) => void;
}

export interface SequencerOptions {
  /** Events chained per transaction at most (one group commit). */
  batchSize: number;
  /** The periodic pass that chains what no waiting writer woke us for (a writer that died, another instance's rows). */
  tickMs: number;
  /** How long a pass waits for another instance's sequencer before leaving it to the next tick. */
  lockTimeoutMs: number;
  /** How long a committed transaction waits for its events to be chained before returning anyway. */
  maxWaitMs: number;
}

export const DEFAULT_SEQUENCER_OPTIONS: SequencerOptions = { batchSize: 2_000, tickMs: 250, lockTimeoutMs: 1_000, maxWaitMs: 10_000 };

/**
 * Chains committed audit events: the queue → sequence → integrate design of transparency
 * logs. Business transactions record events in audit_pending (AuditRepository.append); after
 * each one commits, its writer wakes this sequencer and waits until its events are chained
 * (read-your-writes: whoever reads the trail right after an operation finds it). A pass takes
 * a PostgreSQL advisory lock (one sequencer at a time across api and worker instances) and
 * chains everything pending in batches, one transaction per batch, on a connection of its
 * own (never one the waiting writers hold). A periodic tick chains rows no writer waits for.
 */
@Injectable()
export class AuditSequencer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditSequencer.name);
  private client: Client | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Map<string, Waiter>();
  private readonly outcomes = new WeakMap<PendingAuditEvent, Promise<ChainOutcome>>();
  readonly options: SequencerOptions;
  /** Runs inside a pass, after its batch is read and before it is written (tests hold it at a barrier). */
  beforeWrite: (() => Promise<void>) | undefined;
  /** Since start: batches and events chained, and the oldest event's age when chained (the window). */
  readonly stats = { batches: 0, events: 0, maxLagMs: 0 };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repo: AuditRepository,
    @Optional() options?: Partial<SequencerOptions>,
  ) {
    this.options = { ...DEFAULT_SEQUENCER_OPTIONS, ...options };
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: ({ queryRunner }) => this.committed(queryRunner),
      afterTransactionRollback: ({ queryRunner }) => this.repo.forgetRolledBack(queryRunner),
    };
    this.dataSource.subscribers.push(subscriber);
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => this.tick(), this.options.tickMs);
    this.timer.unref();
  }

  /** Stops ticking, lets a running pass finish, and releases waiters (their rows stay pending for the next sequencer). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    for (const w of this.waiters.values()) w.settle({ chained: false, reason: 'the audit sequencer stopped' });
    this.waiters.clear();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /**
   * The outcome of a committed pending event: chained (with its seq and hash), or not within
   * `maxWaitMs` (it stays pending; verification reports it once older than the window).
   */
  async outcomeOf(pending: PendingAuditEvent): Promise<ChainOutcome> {
    return this.bounded(this.outcomes.get(pending) ?? this.awaitChaining([pending])[0]);
  }

  /** Runs a pass now (or waits for the running one and runs another): chains what is pending. */
  async flush(): Promise<void> {
    this.again = true;
    this.wake();
    while (this.running) await this.running;
  }

  private committed(runner: QueryRunner): Promise<void> | undefined {
    if (runner.isTransactionActive) return undefined; // a savepoint was released; the transaction goes on
    const written = this.repo.takeWritten(runner);
    if (!written.length) return undefined;
    // The writer's transaction resolves once its events are chained: read-your-writes for every caller.
    return Promise.all(this.awaitChaining(written).map((o) => this.bounded(o))).then((outcomes) => {
      const late = outcomes.filter((o) => !o.chained);
      // The change is committed and its events are durable in audit_pending; verification reports them if they stay there.
      if (late.length) this.logger.warn({ msg: 'committed audit events were not confirmed chained', events: late.length, reason: late[0].chained ? null : late[0].reason });
    });
  }

  private awaitChaining(pendings: PendingAuditEvent[]): Array<Promise<ChainOutcome>> {
    const outcomes = pendings.map((pending) => {
      if (this.stopped) return Promise.resolve<ChainOutcome>({ chained: false, reason: 'the audit sequencer stopped' });
      let settle!: (o: ChainOutcome) => void;
      const outcome = new Promise<ChainOutcome>((r) => (settle = r));
      this.waiters.set(pending.pendingId, { pending, settle });
      this.outcomes.set(pending, outcome);
      return outcome;
    });
    this.again = true;
    this.wake();
    return outcomes;
  }

  private bounded(outcome: Promise<ChainOutcome>): Promise<ChainOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ChainOutcome>((r) => {
      timer = setTimeout(() => r({ chained: false, reason: `not chained within ${this.options.maxWaitMs} ms` }), this.options.maxWaitMs);
    });
    return Promise.race([outcome, timeout]).finally(() => clearTimeout(timer));
  }

  private tick(): void {
    if (!this.running) this.wake(this.waiters.size === 0);
  }

  /** Starts a pass unless one runs (it then runs another: `again`). An idle tick first only looks. */
  private wake(onlyIfPending = false): void {
    if (this.stopped || this.running) return;
    this.running = this.loop(onlyIfPending).finally(() => {
      this.running = null;
      if (this.again && this.waiters.size) this.wake();
    });
  }

  private async loop(onlyIfPending: boolean): Promise<void> {
    try {
      if (onlyIfPending && !(await this.repo.hasPending(await this.connection()))) return;
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.logger.error({ msg: 'audit sequencer pass failed; the next tick retries', error: err instanceof Error ? err.message : String(err) });
      const client = this.client;
      this.client = null;
      await client?.end().catch(() => undefined);
    }
  }

  private async pass(): Promise<void> {
    const client = await this.connection();
    for (;;) {
      const batch = await this.repo.openBatch(client, this.options.lockTimeoutMs, this.options.batchSize);
      // Another instance's sequencer is busy: it, or our next tick, chains the rest.
      if (!batch) return;
      let chained: ChainedEvent[];
      try {
        chained = await this.repo.chainBatch(client, batch.head, batch.pending, this.beforeWrite);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      if (chained.length) this.count(chained);
      for (const c of chained) this.resolve(c);
      if (chained.length < this.options.batchSize) break;
    }
    // Waiters left when no new ones are queued for another pass: another instance chained their events, or they vanished.
    if (this.waiters.size && !this.again) await this.locateWaiters(client);
  }

  private count(chained: ChainedEvent[]): void {
    metrics.auditHeadSeq.set(Number(chained[chained.length - 1].seq));
    this.stats.batches++;
    this.stats.events += chained.length;
    const chainedAt = chained[0].chainedAt;
    if (chainedAt) {
      const lag = chainedAt.getTime() - Math.min(...chained.map((c) => c.at.getTime()));
      if (lag > this.stats.maxLagMs) this.stats.maxLagMs = lag;
    }
  }

  /** Waiters whose events another instance chained, or that vanished before anyone chained them. */
  private async locateWaiters(client: Client): Promise<void> {
    const ids = [...this.waiters.keys()];
    const { chained, stillPending } = await this.repo.locate(client, ids);
    const found = new Set<string>();
    for (const c of chained) {
      found.add(c.pendingId);
      this.resolve(c);
    }
    for (const id of ids) {
      if (found.has(id) || stillPending.has(id)) continue;
      const w = this.waiters.get(id);
      if (!w) continue;
      this.waiters.delete(id);
      this.logger.error({ msg: 'audit event was deleted before it was chained', pendingId: id, action: w.pending.event.action });
      w.settle({ chained: false, reason: `audit event ${id} was deleted before it was chained` });
    }
  }

  /**
   * Settles the writer of `c`, after checking that what was chained is what it wrote: an edit
   * of the pending row before chaining leaves a valid chain, and only the writer can tell.
   */
  private resolve(c: ChainedEvent): void {
    const w = this.waiters.get(c.pendingId);
    if (!w) return;
    this.waiters.delete(c.pendingId);
    const { pending } = w;
    const expected = storedEventHash({ ...pending.event, seq: c.seq, at: pending.at, prevHash: c.prevHash }, pending.detailsText);
    if (expected !== c.hash) {
      this.logger.error({ msg: 'audit event was altered before it was chained', pendingId: c.pendingId, seq: c.seq, action: pending.event.action });
      w.settle({ chained: false, reason: `audit event ${c.seq} was altered before it was chained` });
      return;
    }
    const event = Object.assign(new AuditEventEntity(), pending.event, { seq: c.seq, at: pending.at, prevHash: c.prevHash, hash: c.hash });
    w.settle({ chained: true, event });
  }

  /** A connection of the sequencer's own, with the pool's settings: never one a waiting writer holds. */
  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const pool = (this.dataSource.driver as unknown as { master: { options: ClientConfig } }).master;
    const client = new Client({ ...pool.options, application_name: 'kura-audit-sequencer' });
    client.on('error', (err) => {
      this.logger.warn({ msg: 'audit sequencer connection lost', error: err.message });
      if (this.client === client) this.client = null;
    });
    await client.connect();
    this.client = client;
    return client;
  }
}
