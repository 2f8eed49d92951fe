import { type ArgumentsHost, Logger } from '@nestjs/common';
import { DomainError, ErrorCode, JsonLogger } from '@kura/common';
import { ProblemFilter } from './problem.filter';

function host(headers: Record<string, string> = {}) {
  const set: Record<string, string> = {};
  let status = 0;
  let body = '';
  const res = {
    headersSent: false,
    setHeader: (k: string, v: string) => (set[k.toLowerCase()] = v),
    vary: () => undefined,
    status: (s: number) => ((status = s), res),
    type: () => res,
    send: (b: string) => ((body = b), res),
  };
  const req = { originalUrl: '/api/v1/auth/login', method: 'POST', headers, acceptsLanguages: (...l: string[]) => (headers['accept-language']?.startsWith('ja') ? 'ja' : l[0]) };
  const h = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }) } as unknown as ArgumentsHost;
  return { h, result: () => ({ status, headers: set, body: JSON.parse(body) as Record<string, unknown> }) };
}

describe(ProblemFilter.name, () => {
  it('sends Retry-After (whole seconds, at least 1) when the error says when to retry', () => {
    const { h, result } = host();
    new ProblemFilter().catch(new DomainError(ErrorCode.TooManyRequests, 'Slow down.', { retryAfterSeconds: 29.2 }), h);
    expect(result()).toMatchObject({ status: 429, headers: { 'retry-after': '30' }, body: { title: 'Too Many Requests' } });
  });

  it('writes title and detail in Japanese for a request that prefers ja', () => {
    const { h, result } = host({ 'accept-language': 'ja' });
    new ProblemFilter().catch(new DomainError(ErrorCode.Unavailable, 'The object store is unavailable.', { retryAfterSeconds: 5 }), h);
    expect(result()).toMatchObject({ status: 503, headers: { 'retry-after': '5', 'content-language': 'ja' }, body: { title: 'サービス利用不可', detail: 'サービスは一時的に利用できません。しばらくしてから再試行してください。' } });
  });

  it('logs an unexpected 500 with its stack, and answers without it', () => {
    const lines: string[] = [];
    Logger.overrideLogger(new JsonLogger('info', (l) => lines.push(l)));
    const { h, result } = host();
    new ProblemFilter().catch(new TypeError('cannot read x of undefined'), h);
    expect(result().body).toMatchObject({ status: 500, detail: 'The server could not complete the request.' });
    expect(JSON.stringify(result().body)).not.toMatch(/TypeError|at /);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request failed');
    expect(logged).toMatchObject({ level: 'error', status: 500, errorName: 'TypeError', stack: expect.stringMatching(/TypeError: cannot read x of undefined\n\s+at /) });
  });
});
