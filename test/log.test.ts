import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WartaError } from '../src/errors.js';
import { capturingLogger } from './support/capturing-logger.js';


describe('log redaction', () => {
  it('keeps error codes, so operators can see a burst of invalid_credentials', () => {
    const { log, lines } = capturingLogger();
    const error = new WartaError(401, 'invalid_credentials', 'the username, password or code is not right');
    log.info({ requestId: 'r1', code: error.code, detail: undefined }, 'request refused');
    log.error({ requestId: 'r2', err: error, code: error.code }, 'request failed');
    expect(lines[0]).toMatchObject({ code: 'invalid_credentials' });
    expect(lines[1]).toMatchObject({ code: 'invalid_credentials', err: { code: 'invalid_credentials' } });
  });

  it('redacts an OAuth authorization code or a TOTP code carried by a request, and secrets', () => {
    const { log, lines } = capturingLogger();
    log.info({ query: { code: 'SplxlOBeZQQYbYS6WxSbIA', state: 'xyz' }, form: { grant_type: 'authorization_code', code: 'SplxlOBeZQQYbYS6WxSbIA' }, request: { body: { code: '123456' } } }, 'incoming');
    log.info({ token: 't', password: 'p', client: { client_secret: 's', refresh_token: 'r' }, headers: { authorization: 'Bearer x', cookie: 'warta_session=y' } }, 'secrets');
    const text = JSON.stringify(lines);
    for (const secret of ['SplxlOBeZQQYbYS6WxSbIA', '123456', '"t"', '"p"', '"s"', '"r"', 'Bearer x', 'warta_session=y']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ query: { code: '[redacted]', state: 'xyz' }, form: { grant_type: 'authorization_code', code: '[redacted]' }, request: { body: { code: '[redacted]' } } });
  });
});

describe('log timestamps', () => {
  it('stamps every line with the time it was written, as ISO 8601, also lines written in the same millisecond', async () => {
    const { log, lines } = capturingLogger();
    const before = Date.now();
    log.info('first');
    log.info('second');
    const afterTwo = Date.now();
    // A later millisecond gets its own stamp, not the one formatted for the lines before.
    while (Date.now() <= afterTwo) await Promise.resolve();
    log.info('third');
    const after = Date.now();
    const stamps = lines.map((line) => line.time as string);
    for (const stamp of stamps) expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const times = stamps.map((stamp) => Date.parse(stamp));
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect(times[1]).toBeLessThanOrEqual(afterTwo);
    expect(times[2]).toBeGreaterThan(afterTwo);
    expect(times[2]).toBeLessThanOrEqual(after);
  });
});

describe('the default destination (standard output, written in batches)', () => {
  const logModule = pathToFileURL(path.resolve('src/log.ts')).href;
  /** A Node process running `body` after `const log = createLogger('info')`; its standard output is the log. */
  const loggingProcess = (body: string) =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(logModule)}; const log = createLogger('info'); ${body}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const parsedLines = (text: string) => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

  it('writes the lines still in the batch when the process exits', async () => {
    const child = loggingProcess(`for (let n = 0; n < 3; n++) log.info({ n }, 'batched'); process.exit(0);`);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => child.once('close', resolve));
    expect(parsedLines(output).map((line) => line.n)).toEqual([0, 1, 2]);
  });

  it('keeps every line and its multi-byte characters whole across many batches', async () => {
    const child = loggingProcess(`for (let n = 0; n < 2000; n++) log.info({ n, who: 'zażółć gęślą 🙂' }, 'batched'); process.exit(0);`);
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => child.once('close', resolve));
    const lines = parsedLines(output);
    expect(lines.map((line) => line.n)).toEqual(Array.from({ length: 2000 }, (_, n) => n));
    expect(new Set(lines.map((line) => line.who))).toEqual(new Set(['zażółć gęślą 🙂']));
  });

  it('writes a quiet process\'s line without waiting for the batch to fill', async () => {
    const child = loggingProcess(`log.info('alone'); setInterval(() => {}, 60_000);`);
    try {
      let output = '';
      await new Promise<void>((resolve) =>
        child.stdout.on('data', (chunk) => {
          output += chunk;
          if (output.includes('\n')) resolve();
        }),
      );
      expect(parsedLines(output)).toMatchObject([{ level: 30, service: 'warta', msg: 'alone' }]);
    } finally {
      child.kill();
    }
  });
});
