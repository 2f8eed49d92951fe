export * from './jobs.module';
export * from './job-runner';
export * from './jobs.repository';
