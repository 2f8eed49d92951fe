export * from './database.module';
export * from './migrate';
export * from './migrations';
export * from './copy-out';
export * from './transaction-runner';
