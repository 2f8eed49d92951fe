import { JsonLogger } from './json-logger';
import { requestContext } from './request-context';

describe(JsonLogger.name, () => {
  function capture(level: 'info' | 'debug' = 'info', format: 'json' | 'pretty' = 'json') {
    const lines: string[] = [];
    return { logger: new JsonLogger(level, (l) => lines.push(l), format), lines };
  }

  it('writes one JSON object per line with level, time, context, request id and fields', () => {
    const { logger, lines } = capture();
    requestContext.run({ requestId: 'req-1234567890' }, () => logger.log({ msg: 'request', status: 200 }, 'HTTP'));
    expect(JSON.parse(lines[0])).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), context: 'HTTP', requestId: 'req-1234567890', status: 200, msg: 'request' });
  });

  it('redacts secrets wherever the usual names appear', () => {
    const { logger, lines } = capture();
    logger.warn({ msg: 'oops', password: 'hunter2', user: { token: 'abc', name: 'kim' }, headers: { authorization: 'Bearer xyz' } });
    expect(lines[0]).not.toMatch(/hunter2|abc|xyz/);
    expect(JSON.parse(lines[0])).toMatchObject({ password: '[redacted]', user: { token: '[redacted]', name: 'kim' }, headers: { authorization: '[redacted]' } });
  });

  it('keeps the stack Nest passes with an error', () => {
    const { logger, lines } = capture();
    const err = new Error('boom');
    logger.error('Unhandled', err.stack, 'ExceptionsHandler');
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'error', context: 'ExceptionsHandler', msg: 'Unhandled', stack: expect.stringMatching(/Error: boom\n\s+at /) });
    logger.error({ msg: 'no stack' }, 'HTTP');
    expect(JSON.parse(lines[1])).toMatchObject({ context: 'HTTP', msg: 'no stack' });
  });

  it('keeps Nest start-up chatter and the api+worker data source false alarm out of info', () => {
    const { logger, lines } = capture();
    logger.log('Mapped {/api/v1/documents, GET} route', 'RouterExplorer');
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.warn('A data source with the default name is already registered. Multiple data sources …', 'DataSourceNameRegistry');
    expect(lines).toEqual([]);
    const debug = capture('debug');
    debug.logger.log('Mapped {/api/v1/documents, GET} route', 'RouterExplorer');
    expect(debug.lines).toHaveLength(1);
  });

  it('writes readable lines in pretty mode', () => {
    const { logger, lines } = capture('info', 'pretty');
    logger.log({ msg: 'Kura is listening', url: 'http://127.0.0.1:3000' }, 'Main');
    const text = lines.join('\n');
    expect(() => JSON.parse(lines[0])).toThrow();
    expect(text).toMatch(/INFO.*\[Main\] Kura is listening/);
    expect(text).toMatch(/url: "http:\/\/127\.0\.0\.1:3000"/);
  });
});
