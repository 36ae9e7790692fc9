import type { Access } from '../config/recovery-config.js';
import type { RunActor, RunService } from '../jobs/run-service-port.js';
import type { Logger } from '../logger.js';
import type { HistoryEntry } from '../projections/run-history.js';
import type { PostSummaryFile } from '../projections/summary-file/index.js';
import type { Diagnosis } from '../runbook/diagnose.js';
import type { Scenario } from '../runbook/index.js';
import type { UserGroupDirectory } from '../slack/user-groups.js';
import type { HealthReading } from '../triage/index.js';
import type { AfterAckQueue } from './after-ack-queue.js';

/** What the listeners need; every optional part turns its command into "not available yet" when missing. */
export interface HandlerDeps {
  readonly service: RunService;
  /** The recovery config's access section: operators, approvers, channels, two-person rule. */
  readonly access: Access;
  readonly logger: Logger;
  /** The scenario a run follows (as the job layer runs it); used to build incident summaries. */
  readonly scenarioFor?: (name: string) => Scenario;
  /** Newest runs first, from the journal. @defaultValue `/dg history` is not available */
  readonly history?: (limit: number) => Promise<readonly HistoryEntry[]>;
  /** A read-only probe sweep judged by the runbook's rules. @defaultValue `/dg diagnose` is not available */
  readonly diagnose?: () => Promise<Diagnosis>;
  /**
   * The recovery checklist's reading of DecisionGraph and its verdict for `/dg status` (read-only probes, the same
   * as the terminal's `status`). @defaultValue DecisionGraph's health is not shown
   */
  readonly health?: () => Promise<HealthReading>;
  /**
   * How long `/dg status` waits for `health` before it answers without it (saying so).
   * @defaultValue 6000
   */
  readonly healthTimeoutMs?: number;
  /**
   * Where the listeners' work after the acknowledgement waits its turn, so a burst of requests is acknowledged
   * first. @defaultValue each request's work starts at once (tests); `registerListeners` sets one up
   */
  readonly afterAck?: AfterAckQueue;
  /**
   * Members of the user groups (`S…`) the access lists name. Without it such groups let nobody in (and a warning
   * is logged). @defaultValue none
   */
  readonly userGroups?: UserGroupDirectory;
  /** Posts a run's Markdown summary file, for `/dg summary`. @defaultValue the file is not posted again */
  readonly postSummaryFile?: PostSummaryFile;
  /**
   * Where threads of runs started without a channel (from the terminal) are posted; clicks on them are taken there.
   * @defaultValue such runs have no thread
   */
  readonly defaultChannel?: string;
  /** Where the bot keeps its state (hosts only, never credentials), shown by `/dg status`. */
  readonly stateNote?: string;
  /**
   * How long a dialog's submission waits for the run service before the dialog is closed and the outcome is
   * reported as an ephemeral message instead. Slack allows 3 s. @defaultValue 2000
   */
  readonly submitBudgetMs?: number;
}

/** The person behind a Slack request, as the run service records them. */
export function slackActor(user: { id: string; username?: string; name?: string }): RunActor {
  const name = user.username ?? user.name;
  return { id: user.id, ...(name ? { name: name.slice(0, 200) } : {}), via: 'slack' };
}
