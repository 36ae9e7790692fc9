import { codeSpan, userText } from '../bot/slack-text.js';
import { duration, when, who } from '../bot/thread/format.js';
import { progressText, statusText } from '../bot/thread/header.js';
import { buildThreadModel } from '../bot/thread/model.js';
import type { ActiveRun } from '../jobs/run-service.js';
import type { RunEvent, Scenario } from '../runbook/index.js';
import type { HistoryEntry } from './handler-deps.js';

/** `/dg status <run>`: where one run stands. */
export function runStatusText(events: readonly RunEvent[], scenario: Scenario): string {
  const model = buildThreadModel(events, scenario);
  const { state, view } = model;
  const lines = [
    `*${userText(view.title, 200)}* run ${codeSpan(state.runId, 80)}, tenant ${codeSpan(state.tenantId, 80)}`,
    `${statusText(state)} · ${progressText(model)}`,
    `Started by ${who(state.startedBy)} at ${when(state.startedAt)}`,
  ];
  if (state.outcome === null && view.current) lines.push(`Current step: ${userText(view.current.title, 200)}`);
  if (state.pause) lines.push(`Paused: ${userText(state.pause.reason, 500)}`);
  if (state.pendingDecision) lines.push(`Waiting for a decision: ${userText(state.pendingDecision.prompt, 300)}`);
  if (state.pendingApproval && state.pendingApproval.grantedBy === null) {
    lines.push('Waiting for an approval (see the thread for who may approve)');
  }
  if (state.outcome) lines.push(`Finished at ${when(state.outcome.at)}: ${state.outcome.outcome}`);
  return lines.join('\n');
}

/** `/dg status`: the active runs, one line each. */
export function activeRunsText(runs: readonly ActiveRun[], stateNote?: string): string {
  const lines =
    runs.length === 0
      ? ['No recovery run is active.']
      : [
          `${runs.length === 1 ? 'One run is' : `${runs.length} runs are`} active:`,
          ...runs.map(
            (r) =>
              `• ${codeSpan(r.runId, 80)} ${codeSpan(r.scenario, 40)} tenant ${codeSpan(r.tenantId, 80)}: ` +
              `${userText(r.status.replaceAll('_', ' '), 60)}${r.currentStep ? `, at ${codeSpan(r.currentStep, 70)}` : ''}`,
          ),
          '`/dg status <run>` shows one run in detail.',
        ];
  if (stateNote) lines.push(`_${userText(stateNote, 500)}_`);
  return lines.join('\n');
}

/** `/dg history`: the newest runs with their outcome and duration. */
export function historyText(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'No runs recorded yet.';
  const lines = entries.map((e) => {
    const took =
      e.finishedAt !== null ? `, took ${duration(Date.parse(e.finishedAt) - Date.parse(e.startedAt))}` : ', running';
    const outcome = e.outcome ?? e.status;
    return (
      `• ${codeSpan(e.runId, 80)} ${codeSpan(e.scenario ?? '?', 40)} tenant ${codeSpan(e.tenantId ?? '?', 80)}: ` +
      `${userText(outcome, 40)}, started ${when(e.startedAt)}${took}`
    );
  });
  return [`The last ${entries.length === 1 ? 'run' : `${entries.length} runs`}:`, ...lines].join('\n');
}
