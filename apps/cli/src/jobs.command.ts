import { Scheduler } from '../../worker/src/scheduler';
import { CommandSpec, EXIT } from './command';

export const jobsCommands: CommandSpec[] = [
  {
    name: 'jobs list',
    summary: 'Lists the background jobs with their interval and last run.',
    async run({ io, worker }) {
      const scheduler = (await worker()).get(Scheduler);
      io.out(JSON.stringify(await scheduler.describe(), null, 2));
      return EXIT.ok;
    },
  },
  {
    name: 'jobs run',
    args: ['<name>'],
    summary: 'Runs one background job now, in this process, and waits for it (one run per job across all workers).',
    details: ['Names: see `jobs list` (e.g. retention.sweep, fixity, audit.checkpoint, session.purge).'],
    async run({ io, worker, positionals: [name] }) {
      const scheduler = (await worker()).get(Scheduler);
      if (!scheduler.jobNames.includes(name)) {
        io.err(`unknown job: ${name} (known: ${scheduler.jobNames.join(', ')})`);
        return EXIT.usage;
      }
      const outcome = await scheduler.runByName(name);
      if (outcome.status === 'busy') {
        io.err(`${name} is running on another worker right now: nothing was started.`);
        return EXIT.failed;
      }
      io.out(JSON.stringify(outcome));
      return outcome.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    },
  },
];
