import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { runHostAction } from '../../../src/executors/host-actions/run-host-action.js';
import { configWith, nodeArgv } from './fixtures.js';

const GOOD = [
  '{"id":"pg-2025-01-02","path":"/backups/pg-2025-01-02.dump","created_at":"2025-01-02T03:00:00Z","size_bytes":734003200,"label":"nightly"}',
  '',
  '{"id":"pre-upgrade-v2","path":"/backups/pre-upgrade-v2.dump","created_at":"2025-01-03T10:15:00+01:00","size_bytes":0,"label":null}',
  '{"id":"pg-2025-01-01","path":"s3://dg-backups/pg-2025-01-01.dump","created_at":"2025-01-01T03:00:00Z","size_bytes":1}',
].join('\n');

const EXPECTED = [
  {
    id: 'pg-2025-01-02',
    path: '/backups/pg-2025-01-02.dump',
    createdAt: '2025-01-02T03:00:00Z',
    sizeBytes: 734003200,
    label: 'nightly',
  },
  {
    id: 'pre-upgrade-v2',
    path: '/backups/pre-upgrade-v2.dump',
    createdAt: '2025-01-03T10:15:00+01:00',
    sizeBytes: 0,
    label: null,
  },
  {
    id: 'pg-2025-01-01',
    path: 's3://dg-backups/pg-2025-01-01.dump',
    createdAt: '2025-01-01T03:00:00Z',
    sizeBytes: 1,
    label: null,
  },
];

function printing(text: string) {
  return configWith({
    list_backups: { type: 'command', argv: nodeArgv('process.stdout.write(process.argv[1])', text), timeout_s: 10 },
  });
}

let server: Server;
let base: string;
const bodies = new Map<string, string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = bodies.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/x-ndjson' });
    res.end(body ?? 'no such listing');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

describe('list_backups', () => {
  it('parses JSON lines from a command into backups', async () => {
    const result = await runHostAction('list_backups', printing(GOOD), {}, { runId: 'run-1' });
    expect(result.status).toBe('done');
    expect(result.output?.backups).toEqual(EXPECTED);
  });

  it('parses JSON lines from a webhook body into backups', async () => {
    bodies.set('/backups?run=run-2', `${GOOD}\n`);
    const config = configWith({
      list_backups: { type: 'http', method: 'GET', url: `${base}/backups?run={run_id}`, timeout_s: 5 },
    });
    const result = await runHostAction('list_backups', config, {}, { runId: 'run-2' });
    expect(result.status).toBe('done');
    expect(result.by).toBe('http');
    expect(result.output?.backups).toEqual(EXPECTED);
  });

  it('accepts an empty listing as no backups', async () => {
    const result = await runHostAction('list_backups', printing('\n'), {}, { runId: 'run-1' });
    expect(result.status).toBe('done');
    expect(result.output?.backups).toEqual([]);
  });

  const badLines: [string, string, string][] = [
    ['not JSON', '{"id":', 'line 3 of the stdout is not valid JSON'],
    ['a missing field', '{"id":"x","path":"/b/x","size_bytes":1}', 'line 3 of the stdout created_at is required'],
    [
      'a size that is not whole bytes',
      '{"id":"x","path":"/b/x","created_at":"2025-01-01T00:00:00Z","size_bytes":1.5}',
      'size_bytes must be whole bytes',
    ],
    [
      'a date without a zone',
      '{"id":"x","path":"/b/x","created_at":"2025-01-01 00:00","size_bytes":1}',
      'created_at must be an ISO 8601 date-time with a zone',
    ],
    [
      'an id that could not be passed on as {artifact}',
      '{"id":"x; rm -rf /","path":"/b/x","created_at":"2025-01-01T00:00:00Z","size_bytes":1}',
      'id may only contain',
    ],
    ['a JSON value that is not an object', '[1,2]', 'line 3 of the stdout must be a JSON object'],
    [
      'a repeated id',
      '{"id":"pg-2025-01-02","path":"/b/x","created_at":"2025-01-01T00:00:00Z","size_bytes":1}',
      'line 3 of the stdout repeats an id',
    ],
  ];

  it.each(badLines)('fails on %s, naming the line', async (_name, line, message) => {
    const text = [GOOD.split('\n')[0], '', line, GOOD.split('\n')[2]].join('\n');
    const result = await runHostAction('list_backups', printing(text), {}, { runId: 'run-1' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(ErrorCode.HostActionBadOutput);
    expect(result.error?.message).toContain(message);
    expect(result.output).toBeUndefined();
  });

  it('names the line of a bad webhook body too', async () => {
    bodies.set('/bad', `${GOOD}\nnot json at all\n`);
    const config = configWith({ list_backups: { type: 'http', method: 'GET', url: `${base}/bad`, timeout_s: 5 } });
    const result = await runHostAction('list_backups', config, {}, { runId: 'run-1' });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('list_backups: line 5 of the response body is not valid JSON');
  });

  it('parses a listing far larger than the evidence tail', async () => {
    const many = Array.from(
      { length: 500 },
      (_, i) => `{"id":"b${i}","path":"/b/${i}.dump","created_at":"2025-01-01T00:00:00Z","size_bytes":${i}}`,
    ).join('\n');
    const result = await runHostAction('list_backups', printing(many), {}, { runId: 'run-1' });
    expect(result.status).toBe('done');
    expect(result.output?.backups).toHaveLength(500);
    expect(result.output?.backups?.[499]?.id).toBe('b499');
  });
});
