import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { KuraConfig } from '@kura/config';
import { ContentReconciler } from '@kura/documents';
import { Job, Scheduler } from '../scheduler';

/**
 * Every RECONCILE_INTERVAL_SECONDS: orphaned objects removed, missing objects reported
 * (ContentReconciler). Safe on several workers at once.
 */
@Injectable()
export class ContentReconcileJob implements OnApplicationBootstrap, Job {
  readonly name = 'content.reconcile';
  readonly intervalSeconds: number;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly reconciler: ContentReconciler,
    config: KuraConfig,
  ) {
    this.intervalSeconds = config.reconcileIntervalSeconds;
  }

  onApplicationBootstrap(): void {
    this.scheduler.register(this);
  }

  async run(): Promise<void> {
    await this.reconciler.reconcile();
  }
}
