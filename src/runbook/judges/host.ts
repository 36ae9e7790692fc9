import { clipLine, MAX_ARTIFACT_LABEL, tailOf } from '../../outside-text.js';
import type { Evidence, EvidenceSource } from '../events.js';
import type { JsonObject } from '../json.js';
import {
  type BackupArtifact,
  type HostActionMeasurement,
  hostActionOf,
  type ListBackupsMeasurement,
  type PreserveMeasurement,
} from '../measurements.js';
import { formatAgainstRunStart, formatDuration } from '../time-format.js';
import { evidence } from './evidence.js';
import type { JudgeContext, Verdict } from './types.js';

const TIMEOUT = 'DG_ERR_HOST_ACTION_TIMEOUT';
const FAILED = 'DG_ERR_HOST_ACTION_FAILED';
const UNREACHABLE = 'DG_ERR_HOST_ACTION_UNREACHABLE';
const NO_ANSWER = 'DG_ERR_HOST_ACTION_NO_ANSWER';
const BAD_OUTPUT = 'DG_ERR_HOST_ACTION_BAD_OUTPUT';

function hostSource(m: HostActionMeasurement, ctx: JudgeContext): EvidenceSource {
  const action = hostActionOf(ctx.executor) ?? ctx.executor;
  if (m.mode === 'http')
    return { kind: 'host', method: m.method, path: action, status: m.status, latencyMs: m.durationMs };
  if (m.mode === 'command') return { kind: 'host', path: action, latencyMs: m.durationMs };
  return { kind: 'host', path: action };
}

function tail(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  return tailOf(text, 600);
}

/**
 * Exit 0 or a 2xx, yet the host-action layer says the action did not succeed (a backup list that does not parse):
 * its reason stands. Not transient: the same output would come back.
 */
function unexplainedFailure(action: string, failure: { code: string; message: string }, item: Evidence): Verdict {
  return {
    result: 'failed',
    error: {
      code: failure.code.slice(0, 100) || FAILED,
      message: failure.message.slice(0, 2000) || `${action} failed`,
    },
    transient: false,
    evidence: [{ ...item, ok: false, detail: failure.message.slice(0, 1000) }],
  };
}

/**
 * A host action ran (or is left to a person). A command passes on exit 0, a webhook on 2xx. A timeout or a
 * failure is not retried on its own: the action may have half happened, so a person decides (Retry re-probes).
 * A webhook that could not be reached was never sent and may be tried again; one sent and never answered has an
 * unknown outcome (`outcomeUnknown`), which the engine re-probes or puts to people.
 */
export function judgeHostCompleted(m: HostActionMeasurement, ctx: JudgeContext): Verdict {
  const action = hostActionOf(ctx.executor) ?? ctx.executor;
  const source = hostSource(m, ctx);
  if (m.mode === 'manual') {
    return {
      result: 'manual',
      instructions: m.instructions,
      evidence: [evidence(`${action}`, 'manual: waiting for a person', source)],
    };
  }
  if (m.mode === 'command') {
    const shown = m.argv.join(' ').slice(0, 300);
    const detail = tail(m.outputTail);
    const item = evidence(
      `${action} exit code`,
      m.timedOut ? 'timed out' : (m.exitCode ?? `signal ${m.signal}`),
      source,
      {
        expected: 0,
        ok: !m.timedOut && m.exitCode === 0,
        detail: `${shown}${detail ? `\n${detail}` : ''}`,
      },
    );
    if (m.timedOut) {
      return {
        result: 'failed',
        error: {
          code: TIMEOUT,
          message: `${action} did not finish in time (${formatDuration(m.durationMs)}); it may have partly run`,
        },
        transient: false,
        evidence: [item],
      };
    }
    if (m.exitCode !== 0) {
      return {
        result: 'failed',
        error: { code: FAILED, message: `${action} exited with ${m.exitCode ?? `signal ${m.signal}`}` },
        transient: false,
        evidence: [item],
      };
    }
    if (m.failure) return unexplainedFailure(action, m.failure, item);
    return { result: 'passed', outputs: { action, mode: 'command', exitCode: 0 }, evidence: [item] };
  }
  const ok = m.status !== null && m.status >= 200 && m.status < 300;
  // Sent and never (fully) answered: a timeout, or a reset or close after the request left.
  const noAnswer = m.timedOut || m.failure?.code === NO_ANSWER;
  const item = evidence(
    `${action} ${m.method}`,
    noAnswer ? 'sent; no answer' : (m.status ?? `not sent (${m.error ?? 'refused'})`),
    source,
    {
      expected: '2xx',
      ok,
      ...((tail(m.bodyTail) ?? m.error) ? { detail: (tail(m.bodyTail) ?? m.error) as string } : {}),
    },
  );
  if (noAnswer) {
    return {
      result: 'failed',
      error: {
        code: m.timedOut ? TIMEOUT : NO_ANSWER,
        message: `${action} webhook: sent; no answer${m.timedOut ? ' in time' : ''}. It may have run: its outcome is unknown`,
      },
      transient: false,
      outcomeUnknown: true,
      evidence: [item],
    };
  }
  if (m.status === null) {
    return {
      result: 'failed',
      error: {
        code: UNREACHABLE,
        message: `${action} webhook could not be reached (${m.error ?? 'no connection'}): nothing was sent`,
      },
      transient: true,
      evidence: [item],
    };
  }
  if (!ok) {
    return {
      result: 'failed',
      error: { code: FAILED, message: `${action} webhook answered ${m.status}` },
      transient: false,
      evidence: [item],
    };
  }
  if (m.failure || m.error) {
    return unexplainedFailure(action, m.failure ?? { code: FAILED, message: m.error as string }, item);
  }
  return { result: 'passed', outputs: { action, mode: 'http', status: m.status }, evidence: [item] };
}

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

/**
 * `label · 3 h before the run · size`, what a person needs to pick an artifact (its creation time as such when
 * the run's start is not known); the label is cut to one short line.
 */
export function describeArtifact(a: BackupArtifact, maxLabel = MAX_ARTIFACT_LABEL, runStartedAt?: string): string {
  const label = clipLine(a.label, maxLabel) || clipLine(a.id, maxLabel);
  return `${label} · ${artifactAge(a, runStartedAt)} · ${humanSize(a.size_bytes)}`;
}

function artifactAge(a: BackupArtifact, runStartedAt: string | undefined): string {
  return runStartedAt === undefined || Number.isNaN(Date.parse(a.created_at))
    ? clipLine(a.created_at, 40)
    : formatAgainstRunStart(a.created_at, runStartedAt);
}

/**
 * The broken database preserved. Passes as any host action does and keeps the id or path the action named, by
 * which the backup listing recognises the copy whatever its clock said; without one the listing falls back to the
 * copy's creation time, and the evidence says so.
 */
export function judgePreserved(m: PreserveMeasurement, ctx: JudgeContext): Verdict {
  const done = judgeHostCompleted(m, ctx);
  if (done.result !== 'passed') return done;
  const copy = m.preserved;
  const named = copy?.id ?? copy?.path;
  const item =
    named !== undefined
      ? evidence('preserved copy', named, hostSource(m, ctx), {
          detail: 'never recommended for the restore: it is recognised on the backup list by this id or path',
        })
      : evidence('preserved copy', 'not named', hostSource(m, ctx), {
          detail:
            'the action named no id or path for its copy: the backup list tells it only by its creation time, ' +
            'which a clock skew between hosts can mislead',
        });
  const outputs: JsonObject = {
    ...done.outputs,
    ...(copy?.id !== undefined ? { preservedId: copy.id } : {}),
    ...(copy?.path !== undefined ? { preservedPath: copy.path } : {}),
  };
  return { result: 'passed', outputs, evidence: [...done.evidence, item] };
}

/**
 * Where an artifact comes from: the copy of the broken database this run preserved (by the id or path that step
 * reported; by its creation time when it reported none), or, by its creation time against the run, taken before
 * the run (a candidate) or made during it (it holds the state being repaired).
 */
export type ArtifactOrigin =
  | 'before_run'
  | 'during_run'
  | 'preserved_by_run'
  | 'preserved_by_time'
  | 'restored_by_run'
  | 'time_unknown';

export const PRESERVED_BY_RUN = 'the broken copy preserved by this run';

function isPreservedCopy(a: BackupArtifact, ctx: JudgeContext): boolean {
  const copy = ctx.preservedCopy;
  if (copy === undefined) return false;
  return (copy.id !== undefined && a.id === copy.id) || (copy.path !== undefined && a.path === copy.path);
}

function originOf(a: BackupArtifact, ctx: JudgeContext): ArtifactOrigin | undefined {
  if (isPreservedCopy(a, ctx)) return 'preserved_by_run';
  if ((ctx.restoredArtifacts ?? []).some((r) => r === a.id || r === a.path)) return 'restored_by_run';
  if (ctx.runStartedAt === undefined) return undefined;
  const t = Date.parse(a.created_at);
  if (Number.isNaN(t)) return 'time_unknown';
  if (ctx.preservedSince !== undefined && t >= Date.parse(ctx.preservedSince)) return 'preserved_by_time';
  return t >= Date.parse(ctx.runStartedAt) ? 'during_run' : 'before_run';
}

/** The one line a person picks from; an artifact that must not be restored says so first. */
function displayOf(a: BackupArtifact, origin: ArtifactOrigin | undefined, runStartedAt: string | undefined): string {
  switch (origin) {
    case 'preserved_by_run':
      return `${PRESERVED_BY_RUN} · ${artifactAge(a, runStartedAt)} · ${humanSize(a.size_bytes)}`;
    case 'restored_by_run':
      return `restored by this run and rejected · ${describeArtifact(a, 40, runStartedAt)}`;
    case 'preserved_by_time':
      return `made after this run began preserving (by time: no copy was named) · ${describeArtifact(a, 40, runStartedAt)}`;
    case 'during_run':
      return `made during this run · ${describeArtifact(a, 40, runStartedAt)}`;
    case 'time_unknown':
      return `${describeArtifact(a, 40)} (creation time not understood)`;
    default:
      return describeArtifact(a, MAX_ARTIFACT_LABEL, runStartedAt);
  }
}

/** Where an artifact goes in the list people pick from: candidates first, the run's own broken copy last. */
const ORIGIN_RANK: Readonly<Record<ArtifactOrigin, number>> = {
  before_run: 0,
  time_unknown: 1,
  during_run: 1,
  preserved_by_time: 1,
  restored_by_run: 2,
  preserved_by_run: 3,
};

/** The recommended artifact first, then the others by origin, newest first within each. */
function pickingOrder(
  artifacts: readonly BackupArtifact[],
  origins: ReadonlyMap<BackupArtifact, ArtifactOrigin | undefined>,
  preferred: BackupArtifact | undefined,
): BackupArtifact[] {
  const rank = (a: BackupArtifact) => (a === preferred ? -1 : ORIGIN_RANK[origins.get(a) ?? 'before_run']);
  // Array.prototype.sort is stable: within a rank the newest-first order stays.
  return [...artifacts].sort((a, b) => rank(a) - rank(b));
}

/** Artifacts kept in the step's outputs (newest first, the preferred one always among them). */
export const MAX_KEPT_ARTIFACTS = 50;
/** An artifact's id or path becomes an option id and an action parameter: too long for that, it is left out. */
const MAX_ARTIFACT_REF = 200;

/** By instant (`…:01Z` and `…:01.5Z` do not sort as text); a time that does not parse goes last. */
function newestFirst(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return Number.isNaN(ta) ? (Number.isNaN(tb) ? 0 : 1) : -1;
  return tb - ta;
}

function usable(a: BackupArtifact): boolean {
  const ref = (v: unknown) => typeof v === 'string' && v !== '' && v.length <= MAX_ARTIFACT_REF;
  return ref(a.id) && ref(a.path) && typeof a.created_at === 'string' && Number.isFinite(a.size_bytes);
}

/**
 * The artifacts `list_backups` printed, newest first, and a preferred one among those taken before the run
 * started: the newest whose label contains `expected.preferLabel` (e.g. `pre-upgrade`), else the newest. An
 * artifact made since the run started holds the state being repaired and is never preferred; the copy this run's
 * own preserve step made is labelled as such. A listing that failed, or whose output could not be read, fails the
 * step with that reason. A listing that found nothing passes with `count: 0` and says so in its evidence: the
 * decision that follows then offers typing an artifact by hand (recommended) or aborting.
 */
export function judgeBackupsListed(m: ListBackupsMeasurement, ctx: JudgeContext): Verdict {
  const done = judgeHostCompleted(m, ctx);
  if (done.result !== 'passed') return done;
  const source = hostSource(m, ctx);
  if (m.artifacts === undefined) {
    return {
      result: 'failed',
      error: { code: BAD_OUTPUT, message: 'list_backups succeeded but no backup list could be read from its output' },
      transient: false,
      evidence: [...done.evidence, evidence('backup artifacts found', 'unreadable', source, { ok: false })],
    };
  }
  const listed = m.artifacts.filter(usable).map((a) => ({ ...a, label: typeof a.label === 'string' ? a.label : '' }));
  const dropped = m.artifacts.length - listed.length;
  const artifacts = [...listed].sort((a, b) => newestFirst(a.created_at, b.created_at));
  const origins = new Map(artifacts.map((a) => [a, originOf(a, ctx)]));
  const candidates = artifacts.filter((a) => {
    const origin = origins.get(a);
    return origin === undefined || origin === 'before_run';
  });
  const { preferred, warning } = recommendation(candidates, ctx);
  const newest = artifacts.slice(0, MAX_KEPT_ARTIFACTS);
  if (preferred !== undefined && !newest.includes(preferred)) newest[newest.length - 1] = preferred;
  const kept = pickingOrder(newest, origins, preferred);
  const outputs: JsonObject = {
    artifacts: kept.map((a) => {
      const origin = origins.get(a);
      return {
        id: a.id,
        path: a.path,
        created_at: clipLine(a.created_at, 40),
        size_bytes: a.size_bytes,
        label: clipLine(a.label, 200),
        display: displayOf(a, origin, ctx.runStartedAt),
        ...(typeof a.last_log_seq === 'number' && Number.isSafeInteger(a.last_log_seq)
          ? { last_log_seq: a.last_log_seq }
          : {}),
        // Only the exceptions are marked: a listing of older backups reads (and fingerprints) as it always did.
        ...(origin !== undefined && origin !== 'before_run' ? { origin } : {}),
      };
    }),
    count: artifacts.length,
    ...(preferred ? { preferred: preferred.id } : {}),
  };
  const restored = artifacts.filter((a) => origins.get(a) === 'restored_by_run').length;
  const madeSince = artifacts.length - candidates.length - restored;
  const notes = [
    ...(restored > 0 ? [`${restored} restored by this run already and rejected: never recommended again`] : []),
    ...(kept.length < artifacts.length ? [`${kept.length} of them kept: the newest and the preferred one`] : []),
    ...(dropped > 0
      ? [`${dropped} ${dropped === 1 ? 'entry' : 'entries'} left out: id or path empty or too long`]
      : []),
    ...(madeSince > 0
      ? [
          `${madeSince} made since the run started (or of unknown time), never recommended: they hold the state being repaired`,
        ]
      : []),
    ...(artifacts.length > 0 && preferred === undefined && warning === undefined
      ? ['none was taken before the run started: none is recommended']
      : []),
  ];
  const found =
    artifacts.length === 0
      ? evidence('backup artifacts found', 0, source, {
          expected: '≥ 1',
          ok: false,
          detail:
            'the listing ran but named no backup: type the id or path of one by hand, or abort' +
            (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
        })
      : evidence('backup artifacts found', artifacts.length, source, {
          detail: [...kept.slice(0, 5).map((a) => displayOf(a, origins.get(a), ctx.runStartedAt)), ...notes].join('\n'),
        });
  const warned =
    warning === undefined
      ? []
      : [
          evidence('recommended backup', preferred?.id ?? 'none', source, {
            ...(preferred === undefined ? { ok: false } : {}),
            detail: warning,
          }),
        ];
  return { result: 'passed', outputs, evidence: [...done.evidence, found, ...warned] };
}

/** What `expected.unlabelledOnlyBefore` says: the event a backup without the label must predate, and how to date it. */
interface BeforeRule {
  readonly what: string;
  readonly given: string;
}

function beforeRuleOf(expected: JsonObject): BeforeRule | undefined {
  const rule = expected.unlabelledOnlyBefore;
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) return undefined;
  return { what: String(rule.what ?? 'the incident'), given: String(rule.given ?? 'its time') };
}

/**
 * The candidate to recommend: the newest whose label contains `expected.preferLabel`, else the newest. With
 * `expected.unlabelledOnlyBefore`, a backup without that label is recommended only when it was taken before
 * `params.takenBefore`; with no such time given, or none taken before it, none is, and the warning says why.
 */
function recommendation(
  candidates: readonly BackupArtifact[],
  ctx: JudgeContext,
): { preferred: BackupArtifact | undefined; warning?: string } {
  const label = typeof ctx.expected.preferLabel === 'string' ? ctx.expected.preferLabel : undefined;
  const labelled =
    label === undefined ? undefined : candidates.find((a) => a.label.toLowerCase().includes(label.toLowerCase()));
  const rule = beforeRuleOf(ctx.expected);
  if (labelled !== undefined || rule === undefined || candidates.length === 0) {
    return { preferred: labelled ?? candidates[0] };
  }
  const none = `no backup is labelled "${label ?? ''}"`;
  const before = typeof ctx.params.takenBefore === 'string' ? Date.parse(ctx.params.takenBefore) : Number.NaN;
  if (Number.isNaN(before)) {
    return {
      preferred: undefined,
      warning:
        `${none} and the time of ${rule.what} is not known: none is recommended, because the newest may have been ` +
        `taken after ${rule.what} and hold data the release you return to cannot read. Pick one taken before ` +
        `${rule.what}, or start the run again with ${rule.given}.`,
    };
  }
  const at = clipLine(String(ctx.params.takenBefore), 40);
  const preferred = candidates.find((a) => Date.parse(a.created_at) < before);
  return preferred === undefined
    ? { preferred, warning: `${none} and none was taken before ${rule.what} (${at}): none is recommended.` }
    : { preferred, warning: `${none}: recommending the newest taken before ${rule.what} (${at}).` };
}
