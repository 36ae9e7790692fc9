import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { HostActionAbortedError } from '../../../src/executors/host-actions/errors.js';
import { runHostAction } from '../../../src/executors/host-actions/run-host-action.js';
import type { HostActionResult, HttpEvidence } from '../../../src/executors/host-actions/types.js';
import { createLogger } from '../../../src/logger.js';
import { configWith } from './fixtures.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
let seen: Seen[] = [];
let handler: Handler;
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    handler(req, res, body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) => res.end('ok');
});

afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

const TOKEN = 'hook-token-6f1e9a';

function httpEvidence(result: HostActionResult): HttpEvidence {
  if (result.by !== 'http') throw new Error(`expected an http result, got ${result.by}`);
  return result.evidence;
}

describe('http host actions', () => {
  it('calls the webhook with substituted body and query, env-resolved headers and an idempotency key', async () => {
    handler = (_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"accepted":true}');
    };
    const config = configWith(
      {
        restore_backup: {
          type: 'http',
          method: 'post',
          url: `${base}/restore?artifact={artifact}&run={run_id}`,
          headers: { Authorization: `Bearer \${env:HOOK_TOKEN}`, 'X-Team': 'ops' },
          body: { artifact: '{artifact}', note: 'run {run_id}', force: false, retries: 2 },
          timeout_s: 5,
        },
      },
      { HOOK_TOKEN: TOKEN },
    );
    const artifact = 'backups/2025-01-01T00:00:00Z@full+v2';
    const result = await runHostAction('restore_backup', config, { artifact }, { runId: 'run-9' });

    expect(result.status).toBe('done');
    expect(seen).toHaveLength(1);
    const request = seen[0];
    expect(request?.method).toBe('POST');
    const query = new URL(request?.url ?? '', base).searchParams;
    expect(query.get('artifact')).toBe(artifact);
    expect(request?.url).toContain(encodeURIComponent(artifact));
    expect(query.get('run')).toBe('run-9');
    expect(JSON.parse(request?.body ?? '')).toEqual({ artifact, note: 'run run-9', force: false, retries: 2 });
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['x-team']).toBe('ops');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe('run-9-restore_backup');

    const evidence = httpEvidence(result);
    expect(evidence).toMatchObject({
      method: 'POST',
      status: 202,
      bodyTail: '{"accepted":true}',
      idempotencyKey: 'run-9-restore_backup',
      timeoutSeconds: 5,
    });
    expect(evidence.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it("sends the caller's idempotency key: the same for a redelivered attempt, a new one for a retry", async () => {
    const config = configWith({
      restart_runtime: { type: 'http', method: 'POST', url: `${base}/restart`, timeout_s: 5 },
    });
    const attempt1 = { runId: 'run-3', idempotencyKey: 'run-3-restart_runtime-a1' };
    const first = await runHostAction('restart_runtime', config, {}, attempt1);
    await runHostAction('restart_runtime', config, {}, attempt1);
    await runHostAction('restart_runtime', config, {}, { runId: 'run-3', idempotencyKey: 'run-3-restart_runtime-a2' });
    await runHostAction('restart_runtime', config, {}, { runId: 'run-3' });
    expect(seen.map((s) => s.headers['idempotency-key'])).toEqual([
      'run-3-restart_runtime-a1',
      'run-3-restart_runtime-a1',
      'run-3-restart_runtime-a2',
      'run-3-restart_runtime',
    ]);
    expect(httpEvidence(first).idempotencyKey).toBe('run-3-restart_runtime-a1');
  });

  it('refuses an idempotency key that cannot be a header value, before sending anything', async () => {
    const config = configWith({ stop_writes: { type: 'http', method: 'POST', url: `${base}/stop`, timeout_s: 5 } });
    for (const idempotencyKey of ['', 'run-1\r\nx-injected: 1', 'key with spaces', 'k'.repeat(256)]) {
      await expect(runHostAction('stop_writes', config, {}, { runId: 'run-1', idempotencyKey })).rejects.toThrow(
        TypeError,
      );
    }
    expect(seen).toEqual([]);
  });

  it('reports a non-2xx answer as failed with the status and the body tail', async () => {
    handler = (_req, res) => {
      res.writeHead(503);
      res.end('supervisor busy');
    };
    const config = configWith({ stop_runtime: { type: 'http', method: 'POST', url: `${base}/stop`, timeout_s: 5 } });
    const result = await runHostAction('stop_runtime', config, {}, { runId: 'run-1' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(ErrorCode.HostActionFailed);
    expect(result.error?.message).toContain('503');
    expect(httpEvidence(result)).toMatchObject({ status: 503, bodyTail: 'supervisor busy' });
  });

  it('keeps the last 4 KB of a large answer and redacts secrets the server echoes', async () => {
    handler = (_req, res) => res.end(`${'y'.repeat(100_000)} echoed Authorization: ${TOKEN} END`);
    const config = configWith(
      {
        preserve_database: {
          type: 'http',
          method: 'POST',
          url: `${base}/preserve`,
          headers: { 'X-Hook-Token': `\${env:HOOK_TOKEN}` },
          timeout_s: 5,
        },
      },
      { HOOK_TOKEN: TOKEN },
    );
    const result = await runHostAction('preserve_database', config, {}, { runId: 'run-1' });
    const evidence = httpEvidence(result);
    expect(result.status).toBe('done');
    expect(Buffer.byteLength(evidence.bodyTail)).toBeLessThanOrEqual(4096);
    expect(evidence.bodyTail.endsWith('echoed Authorization: [redacted] END')).toBe(true);
    expect(evidence.bodyBytes).toBe(100_000 + ` echoed Authorization: ${TOKEN} END`.length);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('times out a webhook that never answers', async () => {
    handler = (_req, res) => {
      held.push(res);
    };
    const config = configWith({
      restart_runtime: { type: 'http', method: 'POST', url: `${base}/hang`, timeout_s: 0.3 },
    });
    const result = await runHostAction('restart_runtime', config, {}, { runId: 'run-1' });
    expect(result.status).toBe('timeout');
    expect(result.error?.code).toBe(ErrorCode.HostActionTimeout);
    const evidence = httpEvidence(result);
    expect(evidence.status).toBeNull();
    expect(evidence.durationMs).toBeGreaterThanOrEqual(250);
    expect(evidence.durationMs).toBeLessThan(3000);
  });

  it('times out a body that stalls after the headers', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('partial');
      held.push(res);
    };
    const config = configWith({
      start_runtime: { type: 'http', method: 'POST', url: `${base}/slow-body`, timeout_s: 0.3 },
    });
    const result = await runHostAction('start_runtime', config, {}, { runId: 'run-1' });
    expect(result.status).toBe('timeout');
    expect(httpEvidence(result)).toMatchObject({ status: 200, bodyTail: 'partial' });
  });

  it('reports a request that arrived and was cut off unanswered as sent with no answer, not as unreachable', async () => {
    handler = (req) => req.socket.destroy();
    const config = configWith({
      restore_backup: { type: 'http', method: 'POST', url: `${base}/restore`, timeout_s: 5 },
    });
    const result = await runHostAction('restore_backup', config, { artifact: 'b1' }, { runId: 'run-1' });
    expect(seen).toHaveLength(1);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(ErrorCode.HostActionNoAnswer);
    expect(result.error?.message).toContain('restore_backup: sent; no answer');
    expect(result.error?.message).not.toContain('unreachable');
    expect(httpEvidence(result).status).toBeNull();
  });

  it('reports a refused connection as unreachable', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const config = configWith({
      restart_runtime: { type: 'http', method: 'POST', url: `http://127.0.0.1:${port}/restart`, timeout_s: 5 },
    });
    const result = await runHostAction('restart_runtime', config, {}, { runId: 'run-1' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(ErrorCode.HostActionUnreachable);
    expect(result.error?.message).toContain('ECONNREFUSED');
    expect(result.error?.message).toContain('nothing was sent');
    expect(httpEvidence(result).status).toBeNull();
  });

  it('cancels the request and throws when the caller aborts', async () => {
    const arrived = new Promise<void>((resolve) => {
      handler = (_req, res) => {
        held.push(res);
        resolve();
      };
    });
    const config = configWith({ stop_writes: { type: 'http', method: 'POST', url: `${base}/hang`, timeout_s: 30 } });
    const controller = new AbortController();
    const running = runHostAction('stop_writes', config, {}, { runId: 'run-1', signal: controller.signal });
    await arrived;
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(HostActionAbortedError);
    await expect(running).rejects.toMatchObject({ code: ErrorCode.HostActionAborted });
  });
  it('logs the start and the outcome without the URL, headers or body', async () => {
    handler = (_req, res) => res.end(`echo ${TOKEN}`);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'debug' }, sink);
    const config = configWith(
      {
        restore_backup: {
          type: 'http',
          method: 'POST',
          url: `${base}/restore?a={artifact}`,
          headers: { Authorization: `Bearer \${env:HOOK_TOKEN}` },
          body: { artifact: '{artifact}' },
          timeout_s: 5,
        },
      },
      { HOOK_TOKEN: TOKEN },
    );
    await runHostAction('restore_backup', config, { artifact: 'pg-secret-name' }, { runId: 'run-1', logger });
    const logged = lines.join('');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['host action started', 'host action finished']);
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ hostAction: 'restore_backup', by: 'http', status: 'done' });
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain('pg-secret-name');
    expect(logged).not.toContain('/restore');
  });
});
