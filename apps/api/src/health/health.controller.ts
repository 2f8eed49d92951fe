import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, ErrorCode, withDeadline } from '@kura/common';
import { Public } from '@kura/access';
import { ObjectStore } from '@kura/storage';

/** Load balancers give up after about 2 s; the probe answers first. */
const READY_CHECK_MS = 1_500;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly store: ObjectStore,
  ) {}

  @Public()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, 'ok'> }> {
    // A hung dependency must not hang the probe: each check answers within READY_CHECK_MS.
    const [database, objectStore] = await Promise.all([
      withDeadline('database', 'ping', READY_CHECK_MS, this.db.query('SELECT 1')).then(() => true, () => false),
      this.store.ping(READY_CHECK_MS).catch(() => false),
    ]);
    if (!database || !objectStore) {
      throw new DomainError(ErrorCode.Unavailable, 'A dependency is not ready.', {
        checks: { database: database ? 'ok' : 'failing', objectStore: objectStore ? 'ok' : 'failing' },
      });
    }
    return { status: 'ok', checks: { database: 'ok', objectStore: 'ok' } };
  }
}
