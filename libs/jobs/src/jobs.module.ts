import { Module } from '@nestjs/common';
import { JobRunner } from './job-runner';
import { JobsRepository } from './jobs.repository';

/** Background jobs as rows in PostgreSQL: due times, leases, last runs. */
@Module({
  providers: [JobsRepository, JobRunner],
  exports: [JobRunner],
})
export class JobsModule {}
