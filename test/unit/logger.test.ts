import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lazyChild, REDACTED, scrubSecrets, withLogContext } from '../../src/logger.js';

const SECRETS = [
  'reader-token-7f3a9c',
  'admin-token-88e1d2',
  'xoxb-1111-2222-abcdefabcdef',
  'xapp-1-A0-3333-fedcba',
  'signing-secret-5b5b5b',
  'pg-password-c0ffee',
];

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'trace' }, stream), text: () => lines.join('') };
}

describe('logger', () => {
  it('never prints a secret, whatever shape it is logged in', () => {
    const { logger, text } = capture();
    const config = {
      decisionGraph: { apiToken: SECRETS[0], adminToken: SECRETS[1], databaseUrl: `postgres://ro:${SECRETS[5]}@db/dg` },
      slack: { botToken: SECRETS[2], appToken: SECRETS[3], signingSecret: SECRETS[4] },
    };
    logger.info({ config }, 'config loaded');
    logger.info({ headers: { authorization: `Bearer ${SECRETS[0]}`, 'x-slack-signature': 'v0=abc' } }, 'request');
    logger.warn({ token: SECRETS[1], nested: { deeper: { password: SECRETS[5] } } }, 'nested');
    logger.error({ err: new Error(`call failed with Bearer ${SECRETS[0]} to postgres://u:${SECRETS[5]}@h/db`) }, 'x');
    logger.info(`posting with ${SECRETS[2]} and ${SECRETS[3]}`);
    logger.info({ env: { DG_API_TOKEN: SECRETS[0], SLACK_SIGNING_SECRET: SECRETS[4] } }, 'env');

    const out = text();
    for (const secret of SECRETS) expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
    // The messages themselves survive, so the log is still useful.
    expect(out).toContain('config loaded');
    expect(out).toContain('call failed with Bearer');
  });

  it('scrubs tokens and connection-string passwords from free text and leaves other text alone', () => {
    expect(scrubSecrets('Authorization: Bearer abc.def')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(scrubSecrets('postgres://dg:pw@127.0.0.1:5432/x')).toBe(`postgres://dg:${REDACTED}@127.0.0.1:5432/x`);
    expect(scrubSecrets('healthz answered 200 in 12 ms')).toBe('healthz answered 200 in 12 ms');
  });

  it('a lazy child is built on its first use and logs like a child: bindings, levels, redaction', () => {
    const { logger, text } = capture();
    let children = 0;
    const counting = new Proxy(logger, {
      get(target, property, receiver) {
        if (property === 'child') children++;
        return Reflect.get(target, property, receiver);
      },
    });
    const unused = lazyChild(counting, { runId: 'run-1' });
    const used = lazyChild(counting, { runId: 'run-2', stepId: 'check_healthz' });
    expect(children).toBe(0);
    expect(unused).toBeDefined();

    used.info({ token: SECRETS[0] }, 'step ran');
    used.debug('detail');
    expect(used.isLevelEnabled('trace')).toBe(true);
    expect(children).toBe(1);

    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ runId: 'run-2', stepId: 'check_healthz', msg: 'step ran', token: REDACTED });
    expect(lines[1]).toMatchObject({ runId: 'run-2', msg: 'detail' });
    expect(text()).not.toContain('run-1');
  });
});

describe('withLogContext', () => {
  it("puts the step's runId and stepId on every line inside it, also after an await, never twice in one line", async () => {
    const { logger, text } = capture();
    const bound = logger.child({ runId: 'run-a' });
    await withLogContext({ runId: 'run-a', stepId: 'restart_node' }, async () => {
      logger.info('before');
      await Promise.resolve();
      bound.info('after');
    });
    logger.info('outside');
    const lines = text().trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => [p.msg, p.runId, p.stepId])).toEqual([
      ['before', 'run-a', 'restart_node'],
      ['after', 'run-a', 'restart_node'],
      ['outside', undefined, undefined],
    ]);
    expect(lines[1]?.match(/"runId"/g)).toHaveLength(1);
  });
});
