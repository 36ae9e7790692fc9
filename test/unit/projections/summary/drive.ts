import type { AccessPolicy, Actor, RunEvent, RunState, Scenario, ScenarioName } from '../../../../src/runbook/index.js';
import { type Crew, INCIDENT, type Policy, run, start } from '../../../helpers/engine-drive.js';
import type { World } from '../../../helpers/engine-world.js';

// Runs driven on a clock that moves as a real incident would: executor calls take their time, polls wait their
// delay, people take a while. Ana starts and types, Bo approves and retries.

export const ANA: Actor = { id: 'U04ANA', name: 'Ana Ops', via: 'slack' };
export const BO: Actor = { id: 'U07BO', name: 'Bo On-Call', via: 'slack' };
export const ACCESS: AccessPolicy = { operators: ['U04ANA', 'U07BO'], approvers: ['U07BO'], twoPersonRule: true };
const CREW: Crew = { starter: ANA, approver: BO, access: ACCESS, channelId: 'C0INCIDENT' };

export interface Driven {
  readonly scenario: Scenario;
  readonly events: RunEvent[];
  readonly state: RunState;
}

export function drive(
  world: World,
  name: ScenarioName,
  script: Policy = {},
  params: Record<string, string> = { traceId: 'trace-7f3a' },
  runId = `run-${name}`,
): Driven {
  return run(start(world, name, { crew: CREW, pace: INCIDENT, params, runId }), script);
}
