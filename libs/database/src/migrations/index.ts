import type { MigrationInterface } from 'typeorm';

/**
 * Every schema change, in order. Schema changes only through migrations (never
 * `synchronize`); each capability's tables are created by the migration that introduced it.
 */
export const MIGRATIONS: Array<new () => MigrationInterface> = [];
