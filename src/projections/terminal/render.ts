import { cut, safeText } from '../../outside-text.js';
import type {
  Actor,
  DecisionOption,
  Evidence,
  EvidenceSource,
  Json,
  PendingApproval,
  PendingDecision,
  RunEvent,
  RunState,
  Scenario,
  StepError,
} from '../../runbook/index.js';
import {
  interruptedAttemptOf,
  isExecutorStep,
  pendingApprovalOf,
  reduce,
  stepState,
  whatToCheck,
} from '../../runbook/index.js';
import { formatDuration, formatOffset, msBetween } from '../../runbook/time-format.js';
import type { Style } from './style.js';

// The terminal view of a run: each run event becomes a few lines, as it arrives. Pure: the text depends only on
// the events (times are offsets from the run's start, durations come from event times), so the same log always
// reads the same, and tests compare plain text.

export interface RenderOptions {
  readonly style: Style;
  /** The run's scenario, for step titles and positions; step ids are shown without it. */
  readonly scenario?: Scenario;
  /** The run's state before this event: durations and offsets come from it. */
  readonly before?: RunState;
}

const INDENT = '    ';
const MAX_VALUE = 160;

/**
 * Text from events (reasons, messages, measured values) under the outside-text rule: escape sequences and carriage
 * returns, which would let it repaint or hide the terminal, are gone. A terminal needs no other escaping.
 */
export function clean(text: string): string {
  return safeText(text, 'many');
}

/** One line of text: the outside-text rule on one line, then cut to `max` characters. */
export function oneLine(text: string, max = MAX_VALUE): string {
  return cut(safeText(text, 'one'), max);
}

/** A measured or expected value, compact: strings bare, lists comma-separated, objects as `key: value`. */
export function formatValue(value: Json | undefined, max = MAX_VALUE): string {
  const text = valueText(value, 0);
  return oneLine(text, max);
}

function valueText(value: Json | undefined, depth: number): string {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (depth > 3) return '…';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none';
    return depth === 0
      ? value.map((v) => valueText(v, depth + 1)).join(', ')
      : `[${value.map((v) => valueText(v, depth + 1)).join(', ')}]`;
  }
  const keys = Object.keys(value).sort();
  if (keys.length === 0) return '{}';
  const inner = keys.map((k) => `${k}: ${valueText(value[k], depth + 1)}`).join(', ');
  return depth === 0 ? inner : `{${inner}}`;
}

export function actorName(actor: Actor | null | undefined): string {
  if (!actor) return 'the engine';
  return oneLine(actor.name && actor.name !== actor.id ? `${actor.name} (${actor.id})` : actor.id, 100);
}

/** Where a measurement came from: `GET /api/healthz → 200, 12 ms, request F1a2`. */
export function formatSource(source: EvidenceSource): string | undefined {
  const parts: string[] = [];
  const status = source.status === undefined ? undefined : source.status === null ? 'no answer' : String(source.status);
  const latency = source.latencyMs !== undefined ? formatDuration(source.latencyMs) : undefined;
  switch (source.kind) {
    case 'http': {
      const call = [source.method, source.path].filter(Boolean).join(' ');
      parts.push(status !== undefined ? `${oneLine(call, 100)} → ${status}` : oneLine(call, 100));
      break;
    }
    case 'sql':
      parts.push('SQL');
      break;
    case 'host': {
      const what = `host action ${source.path ?? ''}`.trim();
      parts.push(status !== undefined ? `${oneLine(what, 100)} → ${status}` : oneLine(what, 100));
      break;
    }
    case 'engine':
      return undefined;
  }
  if (latency !== undefined) parts.push(latency);
  if (source.requestId) parts.push(`request ${oneLine(source.requestId, 80)}`);
  return parts.join(', ');
}

/**
 * An evidence item: the mark, what was measured against what was expected, and where it came from. The source
 * line is left out when it repeats `previousSource` (several items read from one call).
 */
export function renderEvidence(item: Evidence, style: Style, indent = INDENT, previousSource?: string): string[] {
  const mark = item.ok === true ? style.green('✓') : item.ok === false ? style.red('✗') : style.dim('•');
  const measured = formatValue(item.measured);
  const expected = item.expected !== undefined ? ` ${style.dim(`(expected ${formatValue(item.expected)})`)}` : '';
  const source = formatSource(item.source);
  const lines = [
    `${indent}${mark} ${oneLine(item.label, 120)}: ${item.ok === false ? style.red(measured) : measured}${expected}`,
  ];
  if (source && source !== previousSource) lines.push(`${indent}  ${style.dim(source)}`);
  if (item.detail) lines.push(`${indent}  ${style.dim(oneLine(item.detail, 300))}`);
  return lines;
}

/** Evidence items in order, each call's source named once. */
export function renderEvidenceList(items: readonly Evidence[], style: Style, indent = INDENT): string[] {
  const lines: string[] = [];
  let previous: string | undefined;
  for (const item of items) {
    lines.push(...renderEvidence(item, style, indent, previous));
    previous = formatSource(item.source);
  }
  return lines;
}

function stepTitle(options: RenderOptions, stepId: string): string {
  const step = options.scenario?.steps.find((s) => s.id === stepId);
  return step ? `${oneLine(step.title, 120)} (${stepId})` : stepId;
}

function position(options: RenderOptions, stepId: string): string {
  const steps = options.scenario?.steps;
  const i = steps?.findIndex((s) => s.id === stepId) ?? -1;
  return steps && i >= 0 ? `[${i + 1}/${steps.length}] ` : '';
}

function errorText(error: StepError): string {
  return `${oneLine(error.message, 300)} [${oneLine(error.code, 60)}]`;
}

/** The options of a decision, numbered from 1 as the prompt expects them. */
export function renderOptions(options: readonly DecisionOption[], style: Style): string[] {
  return options.flatMap((o, i) => {
    const tags = [o.recommended ? style.green('recommended') : '', o.needsReason ? 'reason required' : '']
      .filter(Boolean)
      .join(', ');
    const lines = [
      `${INDENT}${style.bold(`${i + 1})`)} ${oneLine(o.label, 200)}${tags ? ` ${style.dim('—')} ${tags}` : ''}`,
    ];
    if (o.detail) lines.push(`${INDENT}   ${style.dim(oneLine(o.detail, 300))}`);
    return lines;
  });
}

/**
 * The question about an action the bot was running when it stopped: nobody knows whether it finished, so what to
 * look at comes first, on its own line, and no option is marked.
 */
function renderInterruption(pending: PendingDecision, attempt: number, style: Style, options: RenderOptions): string[] {
  const step = options.scenario?.steps.find((s) => s.id === pending.stepId);
  const check = step !== undefined && isExecutorStep(step) ? whatToCheck(step) : undefined;
  return [
    `${style.magenta('?')} ${style.bold(`Interrupted: ${stepTitle(options, pending.stepId)}, attempt ${attempt}: did it finish?`)}`,
    `${INDENT}${oneLine(pending.prompt, 1000)}`,
    ...(check !== undefined ? [`${INDENT}${style.bold('What to check:')} ${oneLine(check, 500)}`] : []),
    `${INDENT}${style.dim('Nothing is recommended: only someone who looked can tell.')}`,
    ...renderEvidenceList(pending.evidence, style),
    ...renderOptions(pending.options, style),
  ];
}

/** The text shown with a decision: the question, what it rests on, the options. */
export function renderDecision(pending: PendingDecision, style: Style, options: RenderOptions): string[] {
  const attempt = interruptedAttemptOf(options.scenario, pending);
  if (attempt !== undefined) return renderInterruption(pending, attempt, style, options);
  const item = pending.item ? ` — ${oneLine(pending.item.label, 200)}` : '';
  return [
    `${style.magenta('?')} ${style.bold(`Decision: ${stepTitle(options, pending.stepId)}`)}${item}`,
    `${INDENT}${oneLine(pending.prompt, 1000)}`,
    ...renderEvidenceList(pending.evidence, style),
    ...renderOptions(pending.options, style),
  ];
}

/** The text shown with an approval request. */
export function renderApproval(pending: PendingApproval, style: Style, options: RenderOptions): string[] {
  const who =
    pending.approvers === null ? 'anyone' : pending.approvers.map((a) => oneLine(a, 60)).join(', ') || 'nobody';
  const not = pending.excluded.length > 0 ? `, not ${pending.excluded.map((a) => oneLine(a, 60)).join(', ')}` : '';
  return [
    `${style.yellow('!')} ${style.bold(`Approval needed: ${stepTitle(options, pending.stepId)}`)}${pending.round > 1 ? ` (round ${pending.round})` : ''}`,
    `${INDENT}${oneLine(pending.prompt, 1000)}`,
    ...renderEvidenceList(pending.evidence, style),
    `${INDENT}${style.dim(`It lets ${stepTitle(options, pending.guards)} run. May approve: ${who}${not}.`)}`,
  ];
}

/** The lines one event adds to the terminal. */
export function renderEvent(event: RunEvent, options: RenderOptions): string[] {
  const { style, before } = options;
  const at = before ? `${style.dim(formatOffset(msBetween(before.startedAt, event.at) ?? 0))} ` : '';
  const evidence = (items: readonly Evidence[]) => renderEvidenceList(items, style);
  switch (event.type) {
    case 'run_started': {
      const params = Object.entries(event.params)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} ${oneLine(String(v), 100)}`)
        .join(', ');
      const title = options.scenario ? ` — ${oneLine(options.scenario.title, 120)}` : '';
      return [
        style.bold(`Run ${event.runId}: ${event.scenario}${title}`),
        `${INDENT}tenant ${oneLine(event.tenantId, 100)}, started by ${actorName(event.startedBy)} via ${event.startedBy.via === 'cli' ? 'the terminal' : 'Slack'}${params ? `; ${params}` : ''}`,
      ];
    }
    case 'step_started': {
      const attempt = event.attempt > 1 ? style.yellow(` (attempt ${event.attempt})`) : '';
      const deadline = event.deadlineAt
        ? style.dim(` — deadline in ${formatDuration(msBetween(event.at, event.deadlineAt) ?? 0)}`)
        : '';
      return [
        `${at}${style.cyan('→')} ${position(options, event.stepId)}${stepTitle(options, event.stepId)}${attempt}${deadline}`,
      ];
    }
    case 'step_interrupted':
      return [`${at}${style.yellow('⚠')} ${stepTitle(options, event.stepId)}: ${oneLine(event.detail, 500)}`];
    case 'step_held':
      return [`${at}${style.yellow('…')} ${stepTitle(options, event.stepId)}: ${oneLine(event.reason, 500)}`];
    case 'step_rechecked':
      return [
        `${at}${style.cyan('↻')} ${stepTitle(options, event.stepId)}: re-checked before repeating it: ${
          event.alreadyDone ? style.green('already done, not repeated') : 'not done yet, running it'
        }`,
        ...evidence(event.evidence),
      ];
    case 'step_waiting': {
      const next = formatDuration(msBetween(event.at, event.nextCheckAt) ?? 0);
      const deadline = event.deadlineAt
        ? `, deadline in ${formatDuration(msBetween(event.at, event.deadlineAt) ?? 0)}`
        : '';
      // The evidence is printed once per step: what is not met yet at the first check, the rest when it ends.
      const unmet = event.evidence.filter((item) => item.ok === false);
      const still = event.poll > 1 && unmet.length > 0 ? `; ${unmet.length} check(s) still unmet` : '';
      return [
        `${at}${style.yellow('…')} ${stepTitle(options, event.stepId)}: not yet (check ${event.poll})${still}; next check in ${next}${deadline}`,
        ...(event.poll === 1 ? evidence(unmet) : []),
      ];
    }
    case 'step_passed': {
      const started = before ? stepState(before, event.stepId).startedAt : null;
      const took = msBetween(started, event.at);
      const duration = took !== null ? style.dim(` in ${formatDuration(took)}`) : '';
      const manual =
        event.outputs.manual === true
          ? ' (done by hand)'
          : event.outputs.markedDone === true
            ? ' (reported finished by a person, not measured)'
            : '';
      return [
        `${at}${style.green('✓')} ${stepTitle(options, event.stepId)} passed${manual}${duration}`,
        ...evidence(event.evidence),
      ];
    }
    case 'step_failed': {
      const retry = event.retryAt
        ? style.yellow(` — transient, retrying in ${formatDuration(msBetween(event.at, event.retryAt) ?? 0)}`)
        : '';
      return [
        `${at}${style.red('✗')} ${stepTitle(options, event.stepId)} failed: ${errorText(event.error)}${retry}`,
        ...evidence(event.evidence),
      ];
    }
    case 'step_skipped': {
      const by = event.by ? ` by ${actorName(event.by)}` : '';
      const confirmed = event.confirmedBy
        ? `; confirmed by ${actorName(event.confirmedBy)}: ${oneLine(event.confirmReason ?? '', 300)}`
        : '';
      return [
        `${at}${style.dim('–')} ${stepTitle(options, event.stepId)} skipped${by}: ${oneLine(event.reason, 300)}${confirmed}`,
      ];
    }
    case 'skip_requested':
      return [
        `${at}${style.yellow('!')} ${actorName(event.by)} asks to skip ${stepTitle(options, event.stepId)}: ${oneLine(event.reason, 300)}`,
        `${INDENT}${style.dim('A safety check: a second person who may approve must skip it too (not the starter, not the one who asked).')}`,
      ];
    case 'decision_requested':
      return renderDecision(
        {
          stepId: event.stepId,
          ...(event.item ? { item: event.item } : {}),
          prompt: event.prompt,
          options: event.options,
          evidence: event.evidence,
          requestedAt: event.at,
        },
        style,
        options,
      ).map((line, i) => (i === 0 ? `${at}${line}` : line));
    case 'decision_made': {
      const offered = before?.pendingDecision?.options.find((o) => o.id === event.optionId);
      const label = offered ? oneLine(offered.label, 200) : event.optionId;
      const reason = event.reason ? `: ${oneLine(event.reason, 300)}` : '';
      const value = event.value ? ` (${oneLine(event.value, 200)})` : '';
      return [`${at}${style.magenta('⇒')} ${actorName(event.by)} chose "${label}"${value}${reason}`];
    }
    case 'approval_requested':
      return renderApproval(pendingApprovalOf(event), style, options).map((line, i) =>
        i === 0 ? `${at}${line}` : line,
      );
    case 'approval_granted': {
      const guarded = before?.pendingApproval?.stepId === event.stepId ? before.pendingApproval.guards : undefined;
      const next = guarded ? ` before ${stepTitle(options, guarded)} runs` : '';
      return [`${at}${style.green('✓')} approved by ${actorName(event.by)}; what they saw is measured again${next}`];
    }
    case 'approval_voided':
      return [
        `${at}${style.yellow('⚠')} approval of ${stepTitle(options, event.stepId)} voided: ${oneLine(event.reason, 300)}`,
        ...evidence(event.evidence),
      ];
    case 'approval_expired':
      return [
        `${at}${style.yellow('⚠')} approval of ${stepTitle(options, event.stepId)} expired: nobody approved within ${formatDuration(event.timeoutMs)}`,
      ];
    case 'approval_rejected':
      return [
        `${at}${style.yellow('⚠')} approval of ${stepTitle(options, event.stepId)} rejected by ${actorName(event.by)}${event.reopens ? `; ${stepTitle(options, event.reopens.decision)} is asked again` : ''}`,
      ];
    case 'manual_action_requested':
      return [
        `${at}${style.yellow('✋')} ${style.bold(`Manual action: ${stepTitle(options, event.stepId)}`)}`,
        ...clean(event.instructions)
          .split('\n')
          .map((line) => `${INDENT}${line}`),
        ...evidence(event.evidence),
      ];
    case 'manual_action_done':
      return [
        `${at}${style.green('✓')} ${actorName(event.by)} reported it done${event.note ? `: ${oneLine(event.note, 300)}` : ''}`,
      ];
    case 'run_paused':
      return [
        `${at}${style.yellow('⏸')} ${style.bold('Run paused')}: ${oneLine(event.reason, 500)}`,
        `${INDENT}${style.dim(`You can: ${event.options.join(', ')}`)}`,
      ];
    case 'run_resumed': {
      const confirms = event.action === 'skip' && before?.skipRequest?.stepId === event.stepId;
      return [
        `${at}${style.cyan('▶')} ${actorName(event.by)} ${confirms ? 'confirmed the skip' : `chose ${event.action}`} on ${stepTitle(options, event.stepId)}${
          event.reason ? `: ${oneLine(event.reason, 300)}` : ''
        }`,
      ];
    }
    case 'run_aborted':
      return [`${at}${style.red('■')} aborted by ${actorName(event.by)}: ${oneLine(event.reason, 500)}`];
    case 'run_finished': {
      const took = msBetween(before?.startedAt, event.at);
      const duration = took !== null ? ` after ${formatDuration(took)}` : '';
      const outcome =
        event.outcome === 'recovered'
          ? style.green(style.bold('RECOVERED'))
          : event.outcome === 'recovered_with_exceptions'
            ? style.yellow(style.bold('RECOVERED WITH EXCEPTIONS'))
            : event.outcome === 'switched'
              ? style.cyan(style.bold(`SWITCHED to ${event.switchTo ?? 'another scenario'}`))
              : style.red(style.bold(event.outcome.toUpperCase()));
      const lines = [
        `${at}${style.bold('■ Run finished:')} ${outcome}${duration}${event.reason ? `: ${oneLine(event.reason, 500)}` : ''}`,
      ];
      if (event.gate) {
        const gate = event.gate.passed
          ? style.green('recovery checklist passed')
          : event.gate.skipped
            ? style.yellow('recovery checklist skipped')
            : style.red('recovery checklist did not pass');
        lines.push(`${INDENT}${gate}`);
        for (const f of event.gate.failing) {
          lines.push(
            `${INDENT}${style.red('✗')} ${oneLine(f.condition, 60)}: ${oneLine(f.detail, 300)} ${style.dim(
              `(measured ${formatValue(f.measured, 80)}, expected ${formatValue(f.expected, 80)})`,
            )}`,
          );
        }
      }
      return lines;
    }
  }
}

/** The whole log rendered in order (for `status <run>` and tests). */
export function renderLog(events: readonly RunEvent[], options: Omit<RenderOptions, 'before'>): string[] {
  const lines: string[] = [];
  let state: RunState | undefined;
  for (const event of events) {
    lines.push(...renderEvent(event, { ...options, ...(state ? { before: state } : {}) }));
    state = reduce(state, event);
  }
  return lines;
}
