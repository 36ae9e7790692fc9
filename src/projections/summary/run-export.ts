import { z } from 'zod';
import { ActorSchema, EvidenceSchema } from '../../runbook/events.js';
import type { IncidentSummary, RichText } from './types.js';

// The run as data, for postmortem tools: `incident-<runId>.json` next to the Markdown. The format is documented
// in docs/run-export.md; `version` changes whenever a field changes meaning or goes away.

export const RUN_EXPORT_VERSION = 1;

const instant = z.string();
const nullableMs = z.number().nonnegative().nullable();

export const RunExportSchema = z.object({
  version: z.literal(RUN_EXPORT_VERSION),
  runId: z.string().min(1),
  scenario: z.object({ name: z.string(), title: z.string(), version: z.number().int() }),
  tenantId: z.string(),
  outcome: z.enum(['recovered', 'recovered_with_exceptions', 'failed', 'aborted', 'switched', 'in_progress']),
  outcomeReason: z.string().optional(),
  startedBy: ActorSchema,
  times: z.object({
    startedAt: instant,
    endedAt: instant.nullable(),
    durationMs: nullableMs,
    reachableAt: instant.nullable(),
    timeToReachableMs: nullableMs,
    healthyAt: instant.nullable(),
    timeToHealthyMs: nullableMs,
  }),
  timeline: z.array(z.object({ seq: z.number().int().positive(), at: instant, type: z.string(), text: z.string() })),
  decisions: z.array(
    z.object({
      stepId: z.string(),
      step: z.string(),
      item: z.string().optional(),
      question: z.string().nullable(),
      askedAt: instant.nullable(),
      at: instant,
      by: ActorSchema,
      optionId: z.string(),
      option: z.string(),
      followedRecommendation: z.boolean(),
      reason: z.string().optional(),
      value: z.string().optional(),
    }),
  ),
  approvals: z.array(
    z.object({
      stepId: z.string(),
      guards: z.string(),
      round: z.number().int(),
      requestedAt: instant,
      outcome: z.enum(['granted', 'voided', 'expired', 'open', 'not_given']),
      grantedBy: ActorSchema.optional(),
      grantedAt: instant.optional(),
    }),
  ),
  evidence: z.array(
    z.object({
      stepId: z.string(),
      step: z.string(),
      outcome: z.string(),
      startedAt: instant.nullable(),
      finishedAt: instant.nullable(),
      items: z.array(EvidenceSchema),
    }),
  ),
  followUps: z.array(z.object({ id: z.string(), text: z.string(), owner: z.null() })),
});
export type RunExport = z.infer<typeof RunExportSchema>;

function plain(text: RichText): string {
  return text.map((p) => (typeof p === 'string' ? p : p.code)).join('');
}

/** The run export of an incident summary; the same summary always gives the same export. */
export function buildRunExport(s: IncidentSummary): RunExport {
  return {
    version: RUN_EXPORT_VERSION,
    runId: s.runId,
    scenario: { name: s.scenario.name, title: s.scenario.title, version: s.scenario.version },
    tenantId: s.tenantId,
    outcome: s.outcome,
    ...(s.outcomeReason !== undefined ? { outcomeReason: s.outcomeReason } : {}),
    startedBy: s.trigger.startedBy,
    times: {
      startedAt: s.times.startedAt,
      endedAt: s.times.endedAt,
      durationMs: s.times.durationMs,
      reachableAt: s.times.reachableAt,
      timeToReachableMs: s.times.timeToReachableMs,
      healthyAt: s.times.healthyAt,
      timeToHealthyMs: s.times.timeToHealthyMs,
    },
    timeline: s.timeline.map((t) => ({ seq: t.seq, at: t.at, type: t.type, text: plain(t.text) })),
    decisions: s.decisions.map((d) => ({
      stepId: d.stepId,
      step: d.stepTitle,
      ...(d.item ? { item: d.item.id } : {}),
      question: d.prompt,
      askedAt: d.requestedAt,
      at: d.at,
      by: d.by,
      optionId: d.optionId,
      option: d.optionLabel,
      followedRecommendation: d.followedRecommendation,
      ...(d.reason !== undefined ? { reason: d.reason } : {}),
      ...(d.value !== undefined ? { value: d.value } : {}),
    })),
    approvals: s.approvals.map((a) => ({
      stepId: a.stepId,
      guards: a.guards,
      round: a.round,
      requestedAt: a.requestedAt,
      outcome: a.outcome,
      ...(a.grantedBy ? { grantedBy: a.grantedBy } : {}),
      ...(a.grantedAt ? { grantedAt: a.grantedAt } : {}),
    })),
    evidence: s.steps
      .filter((step) => step.evidence.length > 0)
      .map((step) => ({
        stepId: step.id,
        step: step.title,
        outcome: step.outcome,
        startedAt: step.startedAt,
        finishedAt: step.finishedAt,
        items: [...step.evidence],
      })),
    followUps: s.followUps.map((f) => ({ id: f.id, text: plain(f.text), owner: null })),
  };
}

/** The export as the file's text: pretty-printed, ending in a newline. */
export function renderRunExport(s: IncidentSummary): string {
  return `${JSON.stringify(buildRunExport(s), null, 2)}\n`;
}
