import * as os from 'node:os';
import type { INestApplicationContext } from '@nestjs/common';
import { DomainError } from '@kura/common';
import { GRANT_STATUSES, type GrantStatus, PrivilegeGrantsService } from '@kura/identity';
import type { CommandContext, CommandSpec } from './command';

export const USERS_USAGE = `usage: kura users <command>
  grants [--status S]              privilege grants, newest first (S: ${GRANT_STATUSES.join('|')}; default pending)
  approve <grantId> [--comment C]  approve a grant as the operator: only while the administrator who
                                   requested it is the only active one (first installation, or after
                                   every other administrator left); otherwise a second administrator
                                   approves over the API (POST /api/v1/users/grants/:id/approve)
  reject <grantId> [--comment C]   reject a grant as the operator (same condition)`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

/**
 * `npm run cli -- users …`: the operator's side of privilege grants, audited under the
 * operator's OS user. It exists for the installation whose only administrator cannot have
 * a second one approved by anybody else (docs/access-control.md, "The first privileged users").
 */
export async function runUsersCommand(args: string[], app: INestApplicationContext, out: (line: string) => void, err: (line: string) => void = out): Promise<number> {
  const operator = `cli:${os.userInfo().username}`;
  const grants = app.get(PrivilegeGrantsService);
  try {
    switch (args[0]) {
      case 'grants': {
        const status = (option(args, '--status') ?? 'pending') as GrantStatus;
        if (!GRANT_STATUSES.includes(status)) throw new Error(`--status must be one of ${GRANT_STATUSES.join(', ')}`);
        out(JSON.stringify((await grants.list({ operator }, { status })).items, null, 2));
        return 0;
      }
      case 'approve':
      case 'reject': {
        const id = args[1];
        if (!id || !/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`${args[0]} needs a grant id (a UUID)`);
        const comment = option(args, '--comment') ?? '';
        const decided = args[0] === 'approve' ? await grants.approveByOperator(operator, id, comment) : await grants.rejectByOperator(operator, id, comment);
        out(JSON.stringify(decided, null, 2));
        return 0;
      }
      default:
        out(USERS_USAGE);
        return 2;
    }
  } catch (e) {
    // A refusal (four-eyes, unknown or decided grant) is an answer for the operator, not a crash.
    if (e instanceof DomainError) {
      err(`refused: ${e.detail}`);
      return 1;
    }
    throw e;
  }
}

const comment = { type: 'string', value: 'C', description: 'a comment recorded with the decision' } as const;

async function onServices(ctx: CommandContext, args: string[]): Promise<number> {
  const app = await ctx.services();
  return runUsersCommand(args, app, (line) => ctx.io.out(line), (line) => ctx.io.err(line));
}

function decide(verb: 'approve' | 'reject'): CommandSpec {
  return {
    name: `users ${verb}`,
    args: ['<grantId>'],
    summary: `${verb === 'approve' ? 'Approves' : 'Rejects'} a privilege grant as the operator (only while its requesting administrator is the only active one).`,
    details: ['Otherwise a second administrator decides over the API (POST /api/v1/users/grants/:id/' + verb + ').'],
    options: { comment },
    validate: (_values, [id]) => (/^[0-9a-f-]{36}$/i.test(id) ? undefined : `${verb} needs a grant id (a UUID)`),
    changes: (_values, [id]) => `${verb} privilege grant ${id} as the operator`,
    run: (ctx) => onServices(ctx, [verb, ctx.positionals[0], ...(typeof ctx.values.comment === 'string' ? ['--comment', ctx.values.comment] : [])]),
  };
}

export const usersCommands: CommandSpec[] = [
  {
    name: 'users grants',
    summary: 'Lists privilege grants, newest first.',
    options: { status: { type: 'string', value: 'S', description: `${GRANT_STATUSES.join('|')} (default pending)` } },
    validate: (values) =>
      values.status === undefined || GRANT_STATUSES.includes(values.status as GrantStatus) ? undefined : `--status must be one of ${GRANT_STATUSES.join(', ')}`,
    run: (ctx) => onServices(ctx, ['grants', ...(typeof ctx.values.status === 'string' ? ['--status', ctx.values.status] : [])]),
  },
  decide('approve'),
  decide('reject'),
];
