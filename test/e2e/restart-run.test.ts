import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleScenarioTiming } from '../../src/jobs/scenario-timing.js';
import { ACTION, incidentSummaryMarkdown } from '../../src/projections/thread/index.js';
import { getScenario } from '../../src/runbook/index.js';
import { ANA, BO, buttons, CHANNEL, E2E, EVE, TIME_SCALE, textOf, withButton } from './harness.js';
import { summaryFileNames } from './summary-files.js';

// A whole `restart` run driven from Slack: the node is down and, after its restart, projections do not move until
// a catch_up replay is requested. One person starts the run, another makes the decision by clicking the button the
// bot posted; the thread ends with the broadcast result, the incident summary and the summary files.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['node-down', 'projections-behind'] } });
});

afterAll(async () => {
  await e2e?.close();
});

describe('/dg status and /dg diagnose before the run', () => {
  it('shows DecisionGraph down and no active run, and diagnoses the restart scenario with a button for operators', async () => {
    const status = await e2e.command(ANA, 'status');
    const statusText = await e2e.until(() => e2e.privateTexts(ANA.id, status.responseId)[0], 'the status answer');
    expect(statusText).toContain('healthz did not answer');
    expect(statusText).toContain('No recovery run is active');
    expect(statusText).toContain('Run state: live logs and jobs in Redis at 127.0.0.1:6379');

    const diagnosed = await e2e.command(ANA, 'diagnose');
    expect(diagnosed.ack.text).toContain('read-only probes');
    const reply = await e2e.until(() => e2e.fake.responses(diagnosed.responseId)[0]?.body, 'the diagnosis');
    expect(String(reply.text)).toContain('fits scenario `restart`');
    const blocks = JSON.stringify(reply.blocks);
    expect(blocks).toContain(ACTION.startRecovery);
    const outsider = await e2e.command(EVE, 'diagnose', CHANNEL);
    const outsiderReply = await e2e.until(() => e2e.fake.responses(outsider.responseId)[0]?.body, 'the diagnosis');
    expect(JSON.stringify(outsiderReply.blocks)).not.toContain(ACTION.startRecovery);
    expect(await e2e.bot.runtime.service.listActive()).toEqual([]);
    expect(e2e.sim.hostActionCounts().restart ?? 0).toBe(0);
  });
});

describe('/dg recover restart, from the command to the final message', () => {
  it('runs the whole scenario through the thread the bot posts', async () => {
    const started = await e2e.command(ANA, 'recover restart');
    expect(started.res.status).toBe(200);
    expect(started.ack.text).toContain('Starting a `restart` recovery run');
    const runId = await e2e.startedRunId(started.responseId);

    // The header appears at the top of the channel, naming the run, who started it and where it stands.
    const header = await e2e.until(() => e2e.thread(runId)[0], 'the thread header');
    expect(textOf(header)).toContain('<@U0ANA>');
    expect(textOf(header)).toContain('Recovery: App node restart or host reboot');

    // The run stops at the catch_up decision: evidence, one button per option, the recommended one marked.
    const decision = await e2e.until(
      () => withButton(e2e.thread(runId), /^dg\.decide/),
      'the catch_up decision with its buttons',
    );
    expect(textOf(decision)).toContain('Projections are behind and not moving');
    const options = buttons(decision);
    const recommended = options.find((b) => b.text.startsWith('★'));
    expect(recommended?.value).toMatch(new RegExp(`^${runId}\\|catch_up_decision\\|catch_up\\|v\\d+$`));
    expect(options.map((b) => b.actionId)).toContain(`${ACTION.decide}.0`);

    // Bo clicks it, the way Slack sends the click.
    const click = await e2e.click(BO, decision, recommended?.actionId ?? '', recommended?.value);
    expect(click.status).toBe(200);

    // The buttons give way to who decided what, and the run goes on to the checklist and the end.
    await e2e.until(
      () => textOf(e2e.thread(runId).find((m) => m.ts === decision.ts)).includes('Decided* by <@U0BO>'),
      'the decision message to name Bo',
    );
    const summary = await e2e.until(
      () => e2e.thread(runId).find((m) => m.text?.startsWith('Incident summary')),
      'the incident summary',
      30_000,
    );
    expect(summary).toBeDefined();
    await e2e.until(() => textOf(e2e.thread(runId)[0]).includes('Recovered'), 'the header to say Recovered');
    await e2e.bot.outbox?.drain(runId, 10_000);
    const file = await e2e.until(() => e2e.sharedFiles(runId)[0], 'the summary file in the thread');

    const thread = e2e.messages(runId);
    const texts = thread.map((m) => m.text ?? '');
    // Header first, then the steps in runbook order, then the result and the summary.
    expect(texts[0]).toContain(runId);
    const stepOrder = ['check_healthz', 'restart_runtime', 'wait_healthz', 'check_projections', 'gate'].map((id) =>
      thread.findIndex((m) => textOf(m).includes(`st-${id}`)),
    );
    expect(stepOrder.every((i) => i > 0)).toBe(true);
    expect([...stepOrder].sort((a, b) => a - b)).toEqual(stepOrder);
    expect(texts.at(-1)).toMatch(/^Incident summary/);
    expect(texts.at(-2)).toContain(`Recovery run ${runId} recovered`);

    // The restart happened once, through the host action.
    expect(e2e.sim.hostActionCounts().restart).toBe(1);
    // The symptom the first step looked for is said as such, measured against expected, in one line.
    const healthz = thread.find((m) => textOf(m).includes('st-check_healthz'));
    expect(textOf(healthz)).toContain('*Confirmed:* healthz does not answer');
    expect(textOf(healthz)).toMatch(/GET \/api\/healthz: `no answer[^`]*`, expected `200`/);

    // The channel itself shows only the header and the broadcast result; routine steps stay in the thread.
    const channel = e2e.fake
      .channelMessages(CHANNEL)
      .filter((m) => m.thread_ts === undefined || textOf(m).includes(runId));
    expect(channel.filter((m) => m.reply_broadcast).map((m) => m.text)).toEqual([
      expect.stringContaining(`Recovery run ${runId} recovered`),
    ]);

    // Nothing was posted twice: every key went out once and was then updated.
    const posts = e2e.fake.calls('chat.postMessage').filter((c) => c.ok);
    expect(posts.length).toBe(thread.length);

    // Below the summary, once, the summary files: the Markdown with every step's evidence, the export, the chart.
    await e2e.bot.summaryFile?.settled(runId);
    expect(e2e.sharedFiles(runId)).toHaveLength(1);
    expect(e2e.thread(runId).at(-1)?.ts).toBe(file.ts);
    expect(file.files).toMatchObject(summaryFileNames(runId));
    expect(textOf(thread.at(-1))).toContain(`incident-${runId}.md`);
    const run = await e2e.bot.runtime.service.get(runId);
    // DecisionGraph's request ids stay in the run log, out of the thread.
    const requestIds = (run?.events ?? [])
      .flatMap((e) => ('evidence' in e ? e.evidence : []))
      .map((item) => item.source.requestId)
      .filter((id) => typeof id === 'string');
    expect(requestIds.length).toBeGreaterThan(0);
    expect(thread.map(textOf).join('')).not.toContain(requestIds[0] as string);
    const markdown = incidentSummaryMarkdown(
      run?.events ?? [],
      scaleScenarioTiming(getScenario('restart'), TIME_SCALE),
    );
    const uploaded = e2e.fake.uploads().find((u) => u.file_id === file.files?.[0]?.id);
    expect(uploaded?.content?.toString('utf8')).toBe(markdown);
    expect(markdown).toContain('## Timeline');
    // No button is left anywhere in a finished run's thread.
    expect(thread.flatMap(buttons)).toEqual([]);

    // The journal has it: /dg history lists it, /dg summary re-posts its summary in the channel.
    await e2e.bot.runtime.drainJournal(10_000);
    const history = await e2e.command(BO, 'history 3');
    const listed = await e2e.until(() => e2e.privateTexts(BO.id, history.responseId)[0], 'the history');
    expect(listed).toContain(runId);
    expect(listed).toContain('recovered');
    const again = await e2e.command(BO, 'summary');
    const reposted = await e2e.until(() => e2e.fake.responses(again.responseId)[0]?.body, 'the summary again');
    expect(reposted).toMatchObject({ response_type: 'in_channel', text: expect.stringContaining('Incident summary') });
    // …and the file again, in the channel where the command was typed.
    const inChannel = await e2e.until(
      () => e2e.fake.channelMessages(CHANNEL).find((m) => m.thread_ts === undefined && m.files !== undefined),
      'the summary file posted with /dg summary',
    );
    expect(inChannel.files).toMatchObject(summaryFileNames(runId));
    const repostedFile = e2e.fake.uploads().find((u) => u.file_id === inChannel.files?.[0]?.id);
    expect(repostedFile?.content?.toString('utf8')).toBe(markdown);
    // The run's thread still holds one file.
    expect(e2e.sharedFiles(runId)).toHaveLength(1);
    e2e.expectEverythingWithinLimits();
  });
});
