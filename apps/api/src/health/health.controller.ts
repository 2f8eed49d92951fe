import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, ErrorCode } from '@kura/common';
import { Public } from '@kura/access';
import { ObjectStore } from '@kura/storage';

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
    const [database, objectStore] = await Promise.all([
      this.db.query('SELECT 1').then(() => true, () => false),
      this.store.ping().catch(() => false),
    ]);
    if (!database || !objectStore) {
      throw new DomainError(ErrorCode.Unavailable, 'A dependency is not ready.', {
        checks: { database: database ? 'ok' : 'failing', objectStore: objectStore ? 'ok' : 'failing' },
      });
    }
    return { status: 'ok', checks: { database: 'ok', objectStore: 'ok' } };
  }
}
