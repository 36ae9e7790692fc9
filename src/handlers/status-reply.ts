import type { ActiveRun } from '../jobs/run-service-port.js';
import { formatJson } from '../projections/summary/format.js';
import { clock, principal } from '../projections/thread/format.js';
import { progressText, renderHeader, statusText } from '../projections/thread/header.js';
import { buildThreadModel } from '../projections/thread/model.js';
import { WAIT_NOUN, waitingLine } from '../projections/thread/waiting-line.js';
import type { FailingCondition, HealthVerdict } from '../runbook/health-verdict.js';
import { type Json, openWait, type RunEvent, type Scenario } from '../runbook/index.js';
import type { MessageBlock } from '../slack/blocks/validate.js';
import { codeSpan, userText } from '../slack/slack-text.js';
import type { HealthReading } from '../triage/index.js';
import { context, fallbackText, fitLines, type Reply, section } from './reply-blocks.js';

/** What the health probe of `/dg status` gave: the checklist's reading, or why there is none. */
export type HealthOutcome =
  | { readonly kind: 'reading'; readonly reading: HealthReading }
  | { readonly kind: 'failed'; readonly reason: string };

export interface StatusReplyInput {
  /** @defaultValue DecisionGraph's health is not shown (no probe in this installation) */
  readonly health?: HealthOutcome;
  readonly runs: readonly ActiveRun[];
  /** A step's title in its scenario, for the active runs' current step. @defaultValue the step id alone */
  readonly stepTitle?: (scenario: string, stepId: string) => string | undefined;
  /** Where the bot keeps its state. */
  readonly stateNote?: string;
}

const SECTION_MAX = 2900;

/** Runs whose damage the checklist cannot see: while one is open, DecisionGraph is not called healthy. */
const DAMAGE_SCENARIOS: readonly string[] = ['event-log'];

function verdictHead(verdict: HealthVerdict, damageRuns: readonly ActiveRun[]): string {
  if (verdict.healthy && damageRuns.length > 0) {
    const ids = damageRuns.map((r) => codeSpan(r.runId, 80)).join(', ');
    return (
      `:warning: *DecisionGraph is not known healthy*: the checklist passes, but the event-log recovery ${ids} is ` +
      'still open, and the log is not known good until it ends.'
    );
  }
  if (verdict.healthy) return ':white_check_mark: *DecisionGraph is healthy* by the recovery checklist.';
  const n = verdict.failing.length;
  return `:x: *DecisionGraph is not healthy*: ${n} checklist condition${n === 1 ? '' : 's'} failing.`;
}

function value(v: unknown): string {
  return codeSpan(formatJson(v as Json, 120) || '-', 124);
}

/** One failing condition in two lines: what and where, then measured against expected. */
export function failingLines(f: FailingCondition): string {
  return (
    `✗ ${codeSpan(f.condition, 40)} ${userText(f.detail, 300, { keepNewlines: false })}\n` +
    `      measured ${value(f.measured)} · expected ${value(f.expected)}`
  );
}

function healthBlocks(health: HealthOutcome, runs: readonly ActiveRun[], blocks: MessageBlock[], text: string[]): void {
  if (health.kind === 'failed') {
    const line = `:warning: *DecisionGraph's health could not be read*: ${userText(health.reason, 300)}`;
    blocks.push(section('status-health', line));
    text.push(line);
    return;
  }
  const { verdict } = health.reading;
  const head = verdictHead(
    verdict,
    runs.filter((r) => DAMAGE_SCENARIOS.includes(r.scenario)),
  );
  blocks.push(section('status-health', head));
  text.push(head);
  if (verdict.failing.length > 0) {
    const lines = verdict.failing.map(failingLines);
    blocks.push(
      section(
        'status-failing',
        fitLines(lines, SECTION_MAX, (rest) => `… ${rest} more: \`/dg diagnose\` reads every probe`),
      ),
    );
    text.push(...verdict.failing.map((f) => `✗ ${f.condition}: ${userText(f.detail, 300, { keepNewlines: false })}`));
  }
  if (verdict.unchecked.length > 0) {
    const unchecked = `Not checked (no input): ${verdict.unchecked.map((c) => codeSpan(c, 40)).join(', ')}`;
    blocks.push(context('status-unchecked', unchecked));
  }
}

function runLine(r: ActiveRun, stepTitle: StatusReplyInput['stepTitle']): string {
  const title = r.currentStep ? stepTitle?.(r.scenario, r.currentStep) : undefined;
  const step = r.currentStep
    ? `, at ${title ? `*${userText(title, 120, { keepNewlines: false })}* (${codeSpan(r.currentStep, 70)})` : codeSpan(r.currentStep, 70)}`
    : '';
  return (
    `• ${codeSpan(r.runId, 80)} ${codeSpan(r.scenario, 40)} tenant ${codeSpan(r.tenantId, 80)}: ` +
    `${userText(r.status.replaceAll('_', ' '), 60)}${step}${waitingClause(r)}`
  );
}

/** `; waits since 03:04 for @ana (a decision)`: who the run calls, as its thread does. */
function waitingClause(r: ActiveRun): string {
  if (!r.waiting) return '';
  const who = r.waiting.call.length > 0 ? r.waiting.call.map(principal).join(', ') : 'a recovery operator';
  return `; waits since ${clock(r.waiting.since)} for ${who} (${WAIT_NOUN[r.waiting.kind]})`;
}

/**
 * `/dg status`: DecisionGraph's health by the recovery checklist (the verdict and each failing condition with
 * what was measured against what was expected, the same verdict the terminal shows), the active runs with their
 * current step, and where the bot keeps its state. Within Block Kit limits however many conditions fail.
 */
export function statusReply(input: StatusReplyInput): Reply {
  const blocks: MessageBlock[] = [];
  const text: string[] = [];
  if (input.health) healthBlocks(input.health, input.runs, blocks, text);
  if (blocks.length > 0) blocks.push({ type: 'divider', block_id: 'status-divider' });
  if (input.runs.length === 0) {
    blocks.push(section('status-runs', 'No recovery run is active.'));
    text.push('No recovery run is active.');
  } else {
    const n = input.runs.length;
    const lines = input.runs.map((r) => runLine(r, input.stepTitle));
    const head = `*${n === 1 ? 'One run is' : `${n} runs are`} active:*`;
    blocks.push(
      section('status-runs', `${head}\n${fitLines(lines, SECTION_MAX - head.length - 1, (rest) => `… ${rest} more`)}`),
    );
    text.push(`${n === 1 ? 'One run is' : `${n} runs are`} active:`, ...lines);
  }
  const hints = ['`/dg status <run>` shows one run', '`/dg diagnose` reads every probe and names the scenario'];
  if (input.stateNote) hints.push(`_${userText(input.stateNote, 1200)}_`);
  blocks.push(context('status-hints', hints.join(' · ')));
  if (input.stateNote) text.push(`_${userText(input.stateNote, 1200)}_`);
  return { text: fallbackText(text), blocks };
}

/** `/dg status <run>`: the run's header as its thread shows it (without buttons) and what it waits for. */
export function runStatusReply(events: readonly RunEvent[], scenario: Scenario): Reply {
  const model = buildThreadModel(events, scenario);
  const { state, view } = model;
  const header = renderHeader(model);
  // Buttons belong in the thread, where the answer is recorded; the thread's own hint line does not fit here.
  const blocks: MessageBlock[] = header.blocks
    .filter((b) => b.type !== 'actions' && b.block_id !== 'hdr-help')
    .map((b) =>
      b.type === 'section' && b.block_id === 'hdr-pause' && b.text
        ? { ...b, text: { ...b.text, text: b.text.text.replace("in the step's message below", "in the run's thread") } }
        : b,
    );
  const waits: string[] = [];
  if (state.pendingDecision) waits.push(`The question: ${userText(state.pendingDecision.prompt, 300)}`);
  const wait = openWait(state);
  if (wait !== null) waits.push(waitingLine(model, wait.kind, state.pendingApproval ?? undefined));
  if (state.pendingManual) waits.push('The thread has the instructions of the manual action.');
  if (state.skipRequest) {
    waits.push('Waiting for a second person to confirm skipping a safety check: the thread says who may.');
  }
  if (waits.length > 0) blocks.push(section('run-waits', waits.join('\n')));
  blocks.push(
    context(
      'run-hints',
      state.outcome === null
        ? `Every step and its evidence are in the run's thread. ${codeSpan(`/dg abort ${state.runId} <reason>`, 120)}`
        : `The incident summary: ${codeSpan(`/dg summary ${state.runId}`, 100)}`,
    ),
  );
  const text = [
    `${userText(view.title, 200)}: run ${codeSpan(state.runId, 80)}, tenant ${codeSpan(state.tenantId, 80)}`,
    `${statusText(state)} · ${progressText(model)}`,
    ...(state.outcome === null && view.current ? [`Current step: ${userText(view.current.title, 200)}`] : []),
    ...waits,
  ];
  return { text: fallbackText(text), blocks };
}
