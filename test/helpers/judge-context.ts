import type { JudgeContext } from '../../src/runbook/index.js';

/** What the engine hands a judge on a first reading: nothing expected, no progress, no runs of the bot's own. */
export function judgeContext(executor: string, over: Partial<JudgeContext> = {}): JudgeContext {
  return {
    now: new Date(),
    executor,
    params: {},
    expected: {},
    progress: undefined,
    poll: 0,
    ownReplayJobIds: [],
    acknowledgedRunIds: [],
    workflowExpected: false,
    ...over,
  };
}
