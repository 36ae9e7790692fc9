import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { RunExportSchema } from '../../../src/projections/summary/index.js';
import {
  ChartRenderFailedError,
  createSummaryFilePublisher,
  type SummaryFilePublisher,
  type SummaryFilePublisherOptions,
  SummaryFileStore,
  uploadTextFile,
} from '../../../src/projections/summary-file/index.js';
import { incidentSummaryMarkdown } from '../../../src/projections/thread/index.js';
import { foldRun, getScenario, type RunEvent } from '../../../src/runbook/index.js';
import {
  createOutboxSlackClient,
  OutboxDrainTimeoutError,
  type OutboxMessageStatus,
} from '../../../src/slack/outbox/index.js';
import { FakeSlack, FILE_UPLOAD, type StoredMessage } from '../../helpers/fake-slack.js';
import { pngSize } from '../../helpers/png.js';
import { deleteKeysUnder } from '../../helpers/redis-keys.js';
import { RUNS } from '../../unit/projections/summary/runs.js';
import { capturingLogger } from '../slack/outbox/fixtures.js';

// The incident summary file against a fake Slack and the machine's Redis: shared into the run's thread once,
// whatever happens around the upload (retries, Slack failing, a share whose answer was lost, two processes).

const CHANNEL = 'C0INCIDENT';
const scenario = getScenario('restart');

let fake: FakeSlack;
let redis: Redis;
let prefix: string;
let slack: ReturnType<typeof createOutboxSlackClient>;
let publishers: SummaryFilePublisher[] = [];

beforeAll(async () => {
  fake = await FakeSlack.start();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  slack = createOutboxSlackClient({ token: fake.token, slackApiUrl: fake.apiUrl, timeoutMs: 2000 });
});

afterAll(async () => {
  redis.disconnect();
  await fake.close();
});

beforeEach(() => {
  prefix = `dgrtest-${randomBytes(5).toString('hex')}:`;
  fake.clearQueued();
});

afterEach(async () => {
  await Promise.all(publishers.map((p) => p.close()));
  publishers = [];
  await deleteKeysUnder(redis, prefix);
});

/** A finished run with a thread (header and summary) already in the fake's channel. */
async function finishedRun() {
  const runId = `run-${randomBytes(5).toString('hex')}`;
  const events = RUNS.restart.recovered().events.map((e) => ({ ...e, runId }) as RunEvent);
  const header = await slack.chat.postMessage({ channel: CHANNEL, text: `Recovery run ${runId}` });
  const summary = await slack.chat.postMessage({ channel: CHANNEL, thread_ts: header.ts, text: 'Incident summary' });
  const status = (key: string, ts: string | undefined, order: number): OutboxMessageStatus => ({
    key,
    channel: CHANNEL,
    parentKey: key === 'header' ? undefined : 'header',
    order,
    ts,
    desiredVersion: 1,
    deliveredVersion: 1,
    state: 'delivered',
    lastError: undefined,
    textOnly: false,
    broadcast: false,
  });
  const thread = [status('header', header.ts, 1), status('summary', summary.ts, 2)];
  const finishedAt = Date.parse(events.at(-1)?.at ?? '');
  return { runId, events, headerTs: header.ts as string, thread, finishedAt };
}

type Run = Awaited<ReturnType<typeof finishedRun>>;

function publisher(run: Run, overrides: Partial<SummaryFilePublisherOptions> = {}) {
  const { logger, lines } = capturingLogger();
  const drain = vi.fn(async () => run.thread);
  const p = createSummaryFilePublisher({
    redis,
    prefix,
    slack,
    outbox: { drain },
    service: { get: async (id) => (id === run.runId ? { events: run.events, state: foldRun(run.events) } : null) },
    scenarioFor: () => scenario,
    logger,
    backoffBaseMs: 10,
    backoffMaxMs: 50,
    lockRetryMs: 10,
    clock: () => new Date(run.finishedAt + 60_000),
    ...overrides,
  });
  publishers.push(p);
  return { p, drain, lines };
}

function filesIn(run: Run): StoredMessage[] {
  return fake.thread(CHANNEL, run.headerTs).filter((m) => m.files !== undefined);
}

function shared(run: Run) {
  return fake.calls('files.completeUploadExternal').filter((c) => c.ok && c.params.thread_ts === run.headerTs);
}

describe('the summary file of a finished run', () => {
  it('is shared once into the run’s thread, after the summary: the Markdown, the export and the chart', async () => {
    const run = await finishedRun();
    const { p } = publisher(run);
    p.request(run.runId);
    expect(await p.settled(run.runId)).toBe('done');

    const files = filesIn(run);
    expect(files).toHaveLength(1);
    expect(files[0]?.files).toMatchObject([
      { name: `incident-${run.runId}.md` },
      { name: `incident-${run.runId}.json` },
      { name: `incident-${run.runId}.png` },
    ]);
    const thread = fake.thread(CHANNEL, run.headerTs);
    expect(thread.at(-1)?.files).toBeDefined();
    expect(thread.at(-2)?.text).toBe('Incident summary');
    const fileIds = files[0]?.files?.map((f) => f.id) ?? [];
    const content = (id: string | undefined) => fake.uploads().find((u) => u.file_id === id)?.content;
    expect(content(fileIds[0])?.toString('utf8')).toBe(incidentSummaryMarkdown(run.events, scenario));
    expect(RunExportSchema.parse(JSON.parse(content(fileIds[1])?.toString('utf8') ?? '')).runId).toBe(run.runId);
    expect(pngSize(content(fileIds[2]) ?? Buffer.alloc(0)).width).toBeGreaterThan(1000);
    expect(await p.record(run.runId)).toMatchObject({
      state: 'done',
      fileId: fileIds[0],
      fileIds,
      threadTs: run.headerTs,
    });

    // Asked again, in this process or in a restarted one: nothing more goes to Slack.
    p.request(run.runId);
    const restarted = publisher(run).p;
    restarted.request(run.runId);
    expect(await restarted.settled(run.runId)).toBe('done');
    expect(filesIn(run)).toHaveLength(1);
    expect(shared(run)).toHaveLength(1);
  });

  it('shares the Markdown and the export when the chart cannot be drawn, and names the failure', async () => {
    const run = await finishedRun();
    const renderChart = async () => {
      throw new ChartRenderFailedError('no fonts, no luck');
    };
    const { p, lines } = publisher(run, { renderChart });
    p.request(run.runId);
    expect(await p.settled(run.runId)).toBe('done');
    expect(filesIn(run)[0]?.files?.map((f) => f.name)).toEqual([
      `incident-${run.runId}.md`,
      `incident-${run.runId}.json`,
    ]);
    expect(lines().some((l) => l.code === ErrorCode.ChartRenderFailed && l.runId === run.runId)).toBe(true);
  });

  it('gets through Slack failing at every step of the upload, and is shared once', async () => {
    const run = await finishedRun();
    fake.queueError('files.getUploadURLExternal', 'internal_error');
    fake.queueHttpError(FILE_UPLOAD, 503);
    fake.queueHttpError('files.completeUploadExternal', 503);
    fake.queueRateLimit('files.completeUploadExternal', 1);
    const { p, lines } = publisher(run);
    p.request(run.runId);
    expect(await p.settled(run.runId, 15_000)).toBe('done');
    expect(filesIn(run)).toHaveLength(1);
    expect(shared(run)).toHaveLength(1);
    const complete = fake.calls('files.completeUploadExternal');
    const limited = complete.find((c) => c.status === 429);
    const after = complete.find((c) => limited && c.at > limited.at);
    // The 429's Retry-After (1 s) was waited out.
    expect((after?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(
      lines()
        .filter((l) => l.msg === 'summary file postponed')
        .map((l) => l.code),
    ).toEqual(['internal_error', 'http_503', 'http_503']);
  }, 20_000);

  it('finds a file whose share was interrupted in the thread, and does not share it again', async () => {
    const run = await finishedRun();
    const store = new SummaryFileStore({ redis, prefix });
    // A previous attempt shared the file, and the process died before it could record that.
    const { fileId } = await uploadTextFile(
      slack,
      {
        filename: `incident-${run.runId}.md`,
        title: 't',
        content: '# x\n',
        channelId: CHANNEL,
        threadTs: run.headerTs,
      },
      {
        beforeShare: ([id]) =>
          store.put(run.runId, { state: 'inflight', fileId: id, channel: CHANNEL, threadTs: run.headerTs }),
      },
    );
    const before = fake.calls('files.getUploadURLExternal').length;
    const { p, lines } = publisher(run);
    p.request(run.runId);
    expect(await p.settled(run.runId)).toBe('done');
    expect(fake.calls('files.getUploadURLExternal')).toHaveLength(before);
    expect(filesIn(run)).toHaveLength(1);
    expect(await p.record(run.runId)).toMatchObject({ state: 'done', fileId });
    expect(lines().some((l) => l.msg === 'summary file found in the thread after an interrupted share')).toBe(true);
  });

  it('uploads the file when the interrupted attempt never got to share it', async () => {
    const run = await finishedRun();
    await new SummaryFileStore({ redis, prefix }).put(run.runId, {
      state: 'inflight',
      fileId: 'F0NEVERSHARED',
      channel: CHANNEL,
      threadTs: run.headerTs,
    });
    const { p } = publisher(run);
    p.request(run.runId);
    expect(await p.settled(run.runId)).toBe('done');
    expect(filesIn(run)).toHaveLength(1);
  });

  it('records a permanent refusal, logs it and does not try again', async () => {
    const run = await finishedRun();
    fake.queueError('files.completeUploadExternal', 'not_in_channel');
    const { p, lines } = publisher(run);
    p.request(run.runId);
    expect(await p.settled(run.runId)).toBe('failed');
    expect(await p.record(run.runId)).toMatchObject({ state: 'failed', code: 'not_in_channel' });
    expect(lines().find((l) => l.msg === 'Slack refused the summary file; not trying again')).toMatchObject({
      level: 50,
      code: 'not_in_channel',
    });
    const calls = fake.calls('files.completeUploadExternal').length;
    p.request(run.runId);
    expect(await p.settled(run.runId)).toBe('failed');
    expect(fake.calls('files.completeUploadExternal')).toHaveLength(calls);
    expect(filesIn(run)).toHaveLength(0);
  });

  it('is shared once when two processes ask at the same moment', async () => {
    const run = await finishedRun();
    const one = publisher(run).p;
    const two = publisher(run).p;
    one.request(run.runId);
    two.request(run.runId);
    expect(await Promise.all([one.settled(run.runId), two.settled(run.runId)])).toEqual(['done', 'done']);
    expect(filesIn(run)).toHaveLength(1);
    expect(shared(run)).toHaveLength(1);
  });

  it('waits for the thread to be delivered, then follows it', async () => {
    const run = await finishedRun();
    const { p, drain } = publisher(run, { threadWaitMs: 30 });
    let slow = 3;
    drain.mockImplementation(async () => {
      if (slow-- > 0) throw new OutboxDrainTimeoutError(run.runId, ['summary'], 10);
      return run.thread;
    });
    p.request(run.runId);
    expect(await p.settled(run.runId)).toBe('done');
    expect(drain.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(filesIn(run)).toHaveLength(1);
  });

  it('skips runs with no thread, and runs that finished too long ago', async () => {
    const run = await finishedRun();
    const noThread = publisher(run);
    noThread.drain.mockResolvedValue([]);
    noThread.p.request(run.runId);
    expect(await noThread.p.settled(run.runId)).toBe('skipped');
    const old = publisher(run, { clock: () => new Date(run.finishedAt + 8 * 24 * 3600 * 1000) });
    old.p.request(run.runId);
    expect(await old.p.settled(run.runId)).toBe('skipped');
    expect(old.drain).not.toHaveBeenCalled();
    expect(filesIn(run)).toHaveLength(0);
    expect(await old.p.record(run.runId)).toBeUndefined();
  });
});
