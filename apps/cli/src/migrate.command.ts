import { migrate } from '@kura/database';
import { CommandSpec, EXIT } from './command';

export const migrateCommands: CommandSpec[] = [
  {
    name: 'migrate',
    summary: 'Applies pending database migrations (DATABASE_URL, or the embedded PostgreSQL) and exits.',
    details: ['Safe to run while other instances start: migrations take turns on an advisory lock.'],
    async run({ io, config, database }) {
      const url = config().databaseUrl;
      if (!url) {
        await database();
        io.out('The embedded database (VAR_DIR/postgres) is migrated.');
        return EXIT.ok;
      }
      const applied = await migrate(url);
      io.out(applied.length ? `Applied ${applied.length} migration(s):\n${applied.map((m) => `  + ${m}`).join('\n')}` : 'The schema is up to date.');
      return EXIT.ok;
    },
  },
];
