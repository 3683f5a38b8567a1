import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, REDACTED } from './logger.js';
import { requestContext } from './request-context.js';

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logger = createLogger({ service: 'config-manager', version: '1.2.3', level: 'info', pretty: false, destination: stream });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

describe(createLogger.name, () => {
  it('writes JSON lines with service, version and an ISO timestamp', () => {
    const { logger, lines } = capture();
    logger.info('started');
    const [line] = lines();
    expect(line).toMatchObject({ service: 'config-manager', version: '1.2.3', level: 'info', msg: 'started' });
    expect(new Date(String(line!['time'])).toISOString()).toBe(line!['time']);
  });

  it('redacts credentials in headers and secret fields at any of the first levels', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: {
          headers: {
            authorization: 'Bearer eyJhbGciOi.secret-jwt',
            'x-api-key': 'sk-live-123',
            'x-vault-token': 'hvs.CAESsecretvalue',
            cookie: 'session=cookie-value',
            accept: 'application/json',
          },
        },
        password: 'top-level-password',
        user: { email: 'a@example.com', password: 'hunter2', api_key: 'key-abc' },
        oauth: { access_token: 'at-1', refresh_token: 'rt-1', nested: { client_secret: 'cs-1', private_key: 'pk-1' } },
        token: 'tok-1',
      },
      'login',
    );
    const raw = JSON.stringify(lines()[0]);
    for (const secret of ['secret-jwt', 'sk-live-123', 'hvs.CAES', 'cookie-value', 'top-level-password', 'hunter2', 'key-abc', 'at-1', 'rt-1', 'cs-1', 'pk-1', 'tok-1']) {
      expect(raw).not.toContain(secret);
    }
    const line = lines()[0] as { req: { headers: Record<string, string> }; user: Record<string, string> };
    expect(line.req.headers['authorization']).toBe(REDACTED);
    expect(line.req.headers['x-api-key']).toBe(REDACTED);
    expect(line.req.headers['accept']).toBe('application/json');
    expect(line.user['password']).toBe(REDACTED);
    expect(line.user['email']).toBe('a@example.com');
  });

  it('adds request_id and trace_id inside a request context only', async () => {
    const { logger, lines } = capture();
    await requestContext.run({ requestId: 'req-42', traceId: 'trace-7' }, async () => {
      await Promise.resolve();
      logger.info('inside');
    });
    logger.info('outside');
    const [inside, outside] = lines();
    expect(inside).toMatchObject({ request_id: 'req-42', trace_id: 'trace-7' });
    expect(outside).not.toHaveProperty('request_id');
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('keeps the context on child loggers', () => {
    const { logger, lines } = capture();
    requestContext.run({ requestId: 'req-child' }, () => logger.child({ component: 'storage' }).warn('slow'));
    expect(lines()[0]).toMatchObject({ request_id: 'req-child', component: 'storage', service: 'config-manager' });
  });

  it('writes human-readable, still redacted lines when pretty output is asked for', () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    const logger = createLogger({ service: 'svc', version: '1', level: 'info', pretty: true, destination: stream });
    logger.info({ user: { password: 'hunter2' } }, 'hello pretty');
    const output = chunks.join('');
    expect(output).toContain('hello pretty');
    expect(output).not.toContain('hunter2');
    expect(() => JSON.parse(output.trim())).toThrow();
  });
});
