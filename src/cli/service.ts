import type { RunEvent, RunState } from '../runbook/index.js';

// What the terminal front end needs of the job layer's run service: the same commands the Slack handlers send.
// Declared here by shape, so the front end depends on the service's behaviour, not on how it is built.

export interface CliActor {
  readonly id: string;
  readonly name?: string;
  readonly via: 'slack' | 'cli';
  readonly groups?: string[];
}

export type CliCommandOutcome =
  | { readonly ok: true; readonly events: RunEvent[] }
  | { readonly ok: false; readonly code: string; readonly message: string };

export type CliStartOutcome =
  | { readonly ok: true; readonly runId: string }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly activeRunId?: string };

export interface CliActiveRun {
  readonly runId: string;
  readonly scenario: string;
  readonly tenantId: string;
  readonly status: string;
  readonly currentStep?: string | null;
}

export interface CliRunService {
  start(req: {
    scenario: string;
    tenantId?: string;
    params?: { traceId?: string; workflowId?: string; previousRelease?: string; upgradedAt?: string };
    actor: CliActor;
    channelId?: string;
  }): Promise<CliStartOutcome>;
  decide(
    runId: string,
    cmd: { stepId: string; itemId?: string; optionId: string; reason?: string; value?: string; actor: CliActor },
  ): Promise<CliCommandOutcome>;
  approve(runId: string, cmd: { stepId: string; actor: CliActor; fingerprint?: string }): Promise<CliCommandOutcome>;
  manualDone(runId: string, cmd: { stepId: string; actor: CliActor; note?: string }): Promise<CliCommandOutcome>;
  retry(runId: string, cmd: { actor: CliActor }): Promise<CliCommandOutcome>;
  skip(runId: string, cmd: { actor: CliActor; reason: string }): Promise<CliCommandOutcome>;
  abort(runId: string, cmd: { actor: CliActor; reason: string }): Promise<CliCommandOutcome>;
  get(runId: string): Promise<{ events: RunEvent[]; state: RunState } | null>;
  listActive(): Promise<readonly CliActiveRun[]>;
  subscribe(runId: string, onEvent: (event: RunEvent) => void): Promise<() => Promise<void>>;
}
