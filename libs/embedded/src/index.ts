export * from './free-port';
export * from './embedded-postgres';
export * from './embedded-s3';
export * from './infrastructure';
export * from './embedded-postgres-guard';
export * from './connect-probe';
