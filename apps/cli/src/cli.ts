import { parseArgs } from 'node:util';
import { describeError } from '@kura/common';
import { ConfigError } from '@kura/config';
import { certificateCommands } from './certificate.command';
import { CliIo, CommandSpec, EXIT } from './command';
import { jobsCommands } from './jobs.command';
import { keysCommands } from './keys.command';
import { migrateCommands } from './migrate.command';
import { CliRuntime } from './runtime';
import { seedFilePlanCommands } from './seed-file-plan.command';
import { usersCommands } from './users.command';

export type { CliIo } from './command';

/** Every command; each capability's file exports its own list. */
export const COMMANDS: CommandSpec[] = [...keysCommands, ...usersCommands, ...certificateCommands, ...seedFilePlanCommands, ...migrateCommands, ...jobsCommands];

const PROGRAM = 'npm run cli --';

function usageLine(spec: CommandSpec): string {
  const opts = Object.entries(spec.options ?? {}).map(([name, o]) => (o.type === 'boolean' ? `[--${name}]` : `[--${name} ${o.value ?? 'VALUE'}]`));
  if (spec.changes) opts.push('[--yes]');
  return [PROGRAM, spec.name, ...(spec.args ?? []), ...opts].join(' ');
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary, ...(spec.details ?? [])];
  const options: Array<[string, string]> = Object.entries(spec.options ?? {}).map(([name, o]) => [
    `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}${o.short ? `, -${o.short}` : ''}`,
    o.description,
  ]);
  if (spec.changes) options.push(['--yes', 'confirm the change without asking (required when not on a terminal)']);
  options.push(['--help, -h', 'show this help and exit']);
  lines.push('', 'options:', ...options.map(([f, d]) => `  ${f.padEnd(24)} ${d}`));
  lines.push('', 'exit status: 0 done, 1 failed (nothing or only part done: see the output), 2 usage error');
  return lines.join('\n');
}

export function overallHelp(commands = COMMANDS, group?: string): string {
  const shown = group ? commands.filter((c) => c.name.split(' ')[0] === group) : commands;
  const width = Math.max(...shown.map((c) => `${c.name} ${(c.args ?? []).join(' ')}`.length));
  return [
    `usage: ${PROGRAM} ${group ?? '<command>'} … [--help]`,
    '',
    'commands:',
    ...shown.map((c) => `  ${`${c.name} ${(c.args ?? []).join(' ')}`.padEnd(width)}  ${c.summary}`),
    '',
    `${PROGRAM} <command> --help describes a command. Exit status: 0 done, 1 failed, 2 usage error.`,
  ].join('\n');
}

function findCommand(argv: string[], commands: CommandSpec[]): { spec?: CommandSpec; rest: string[]; group?: string } {
  const [a, b] = argv;
  const two = commands.find((c) => c.name === `${a} ${b}`);
  if (two) return { spec: two, rest: argv.slice(2) };
  const one = commands.find((c) => c.name === a);
  if (one) return { spec: one, rest: argv.slice(1) };
  const group = commands.some((c) => c.name.split(' ')[0] === a) ? a : undefined;
  return { rest: argv, group };
}

async function confirm(spec: CommandSpec, change: string, io: CliIo): Promise<boolean | 'usage'> {
  if (!io.interactive || !io.ask) {
    io.err(`This will ${change}.\nNothing was changed: re-run with --yes to confirm.`);
    return 'usage';
  }
  const answer = await io.ask(`This will ${change}.\nContinue? [y/N] `);
  return /^y(es)?$/i.test(answer.trim());
}

/**
 * The whole CLI: strict parsing, help that never acts, one exit-status convention.
 * Nothing is started (no PostgreSQL, no S3) until a command's arguments are valid and confirmed.
 */
export async function runCli(argv: string[], io: CliIo, commands: CommandSpec[] = COMMANDS): Promise<number> {
  const end = argv.indexOf('--');
  const head = end >= 0 ? argv.slice(0, end) : argv;
  const wantsHelp = head.includes('--help') || head.includes('-h');
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    const group = argv[0] === 'help' ? argv[1] : undefined;
    if (argv.length === 0) {
      io.err(overallHelp(commands));
      return EXIT.usage;
    }
    io.out(overallHelp(commands, group && commands.some((c) => c.name.startsWith(`${group} `)) ? group : undefined));
    return EXIT.ok;
  }
  const { spec, rest, group } = findCommand(argv, commands);
  if (!spec) {
    if (wantsHelp && group) {
      io.out(overallHelp(commands, group));
      return EXIT.ok;
    }
    io.err(`${group ? `unknown ${group} command: ${argv[1] ?? '(none)'}` : `unknown command: ${argv[0]}`}\n\n${overallHelp(commands, group)}`);
    return EXIT.usage;
  }
  if (wantsHelp) {
    io.out(commandHelp(spec));
    return EXIT.ok;
  }

  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
    for (const [name, o] of Object.entries(spec.options ?? {})) options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
    if (spec.changes) options.yes = { type: 'boolean' };
    ({ values, positionals } = parseArgs({ args: rest, options, allowPositionals: true, strict: true }));
  } catch (err) {
    io.err(`${describeError(err)}\n\n${commandHelp(spec)}`);
    return EXIT.usage;
  }
  const wanted = spec.args ?? [];
  const required = wanted.filter((a) => a.startsWith('<')).length;
  const problem =
    positionals.length < required
      ? `missing ${wanted.slice(positionals.length, required).join(' ')}`
      : positionals.length > wanted.length
        ? `unexpected argument: ${positionals[wanted.length]}`
        : spec.validate?.(values, positionals);
  if (problem) {
    io.err(`${problem}\n\n${commandHelp(spec)}`);
    return EXIT.usage;
  }
  if (spec.changes && values.yes !== true) {
    const answer = await confirm(spec, spec.changes(values, positionals), io);
    if (answer === 'usage') return EXIT.usage;
    if (!answer) {
      io.err('Cancelled: nothing was changed.');
      return EXIT.failed;
    }
  }

  const runtime = new CliRuntime(io);
  try {
    return await spec.run({
      values,
      positionals,
      io,
      config: () => runtime.config(),
      database: () => runtime.database(),
      services: () => runtime.services(),
      worker: () => runtime.worker(),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`Configuration error: ${err.message}`);
      return EXIT.usage;
    }
    io.err(`Error: ${describeError(err)}`);
    return EXIT.failed;
  } finally {
    await runtime.close();
  }
}
