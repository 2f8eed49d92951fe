import type { INestApplicationContext } from '@nestjs/common';
import type { KuraConfig } from '@kura/config';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** True when a person is at the terminal: destructive commands may then ask instead of requiring --yes. */
  interactive?: boolean;
  /** Asks a question on the terminal and resolves with the answer (interactive only). */
  ask?(question: string): Promise<string>;
  /** Progress of long operations: a bar on a terminal, JSON lines otherwise. */
  progress?(event: Record<string, unknown>): void;
}

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; description: string; value?: string };

/** What a command gets once its arguments are parsed and, for destructive ones, confirmed. */
export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  io: CliIo;
  config(): KuraConfig;
  /** The database URL after migrations (embedded PostgreSQL when DATABASE_URL is unset). */
  database(): Promise<string>;
  /** Configured or embedded PostgreSQL and S3, migrated, with the services operator commands use. */
  services(): Promise<INestApplicationContext>;
  /** The worker's application context with its jobs, the scheduler not started. */
  worker(): Promise<INestApplicationContext>;
}

/** One CLI command: parsed with node:util parseArgs in strict mode by the runner. */
export interface CommandSpec {
  /** Words that select it, e.g. `keys rotate`. */
  name: string;
  /** Positional arguments in the usage line, e.g. `<kekId>`. */
  args?: string[];
  summary: string;
  /** Further lines of help. */
  details?: string[];
  options?: Record<string, OptionSpec>;
  /** A usage error in the parsed values (exit 2), or undefined. */
  validate?(values: CommandContext['values'], positionals: string[]): string | undefined;
  /** Destructive commands say what they will change; the runner asks for --yes or a terminal confirmation. */
  changes?(values: CommandContext['values'], positionals: string[]): string;
  run(ctx: CommandContext): Promise<number>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
