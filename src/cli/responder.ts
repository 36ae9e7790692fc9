import type { Style } from '../projections/terminal/style.js';
import {
  type DecisionOption,
  findScenario,
  INTERRUPTION_OPTIONS,
  interruptedAttemptOf,
  isExecutorStep,
  type PendingApproval,
  type PendingDecision,
  type PendingManual,
  type RunState,
} from '../runbook/index.js';
import type { Prompter } from './prompter.js';

// Who answers what the run asks of people. The interactive responder asks at the prompt; the automatic one takes
// the recommended option at decisions and stops the run where a person is needed. It never approves: an approval
// of a destructive step is a person's (safety rule 2), so it goes to the prompt or leaves the run waiting. Nor does
// it answer whether an interrupted action finished: that question recommends nothing, and the run is stopped.

/** Ends the front end's part: `abort` ends the run with the reason; `leave` exits and lets the run wait. */
export type Stop = { readonly stop: 'abort'; readonly reason: string } | { readonly stop: 'leave' };

export type DecisionAnswer =
  | {
      readonly optionId: string;
      readonly reason?: string;
      readonly value?: string;
      /** Who chooses, when it must be someone other than the person who started the run; else the starter. */
      readonly by?: string;
    }
  | Stop;
export type ApprovalAnswer = { readonly approver: string } | Stop;
export type ManualAnswer = { readonly done: true; readonly note?: string } | Stop;
export type PauseAnswer =
  /** `by`: who retries, when it must be an approver other than the person who started the run; else the starter. */
  | { readonly action: 'retry'; readonly by?: string }
  /** `by`: who confirms a skip another person asked for (a safety check needs a second person); else the starter. */
  | { readonly action: 'skip'; readonly reason: string; readonly by?: string }
  | { readonly action: 'abort'; readonly reason: string }
  | { readonly stop: 'leave' };

export interface Responder {
  /** `refusal`: why the previous answer to the same question was refused. */
  decide(pending: PendingDecision, state: RunState, refusal?: string): Promise<DecisionAnswer>;
  approve(pending: PendingApproval, state: RunState, refusal?: string): Promise<ApprovalAnswer>;
  manual(pending: PendingManual, state: RunState, refusal?: string): Promise<ManualAnswer>;
  paused(state: RunState, refusal?: string): Promise<PauseAnswer>;
}

export const AUTO_REASON = 'auto: recommended option';

/** Whether running the step again repeats a destructive action, which the engine lets only an approver choose. */
function isDestructive(state: RunState, stepId: string | undefined): boolean {
  const step = findScenario(state.scenario)?.steps.find((x) => x.id === stepId);
  return step !== undefined && isExecutorStep(step) && step.risk === 'destructive';
}

export function isStop(answer: object): answer is Stop {
  return 'stop' in answer;
}

/** The option `--auto` takes: the recommended one, if it can be taken without typing a value. */
export function autoOption(options: readonly DecisionOption[]): DecisionOption | undefined {
  const recommended = options.filter((o) => o.recommended === true);
  return recommended.length === 1 && recommended[0]?.needsValue === undefined ? recommended[0] : undefined;
}

export interface AutoResponderOptions {
  /**
   * Who answers approvals: the interactive responder when a person is at the terminal.
   * @defaultValue nobody: the run is left waiting at its first approval, with a line saying why
   */
  readonly approvals?: Pick<Responder, 'approve'>;
  /** Writes the line that says why the run was left waiting. @defaultValue nothing is written */
  readonly print?: (line: string) => void;
}

/**
 * Answers decisions without a person (the recommended option) and stops the run where a person is needed.
 * Approvals are never its own: they go to `approvals`, or, when there is nobody to ask, the run is left waiting
 * for an approval given elsewhere (Slack), and can be stopped with `dg-recovery abort`.
 */
export function createAutoResponder(options: AutoResponderOptions = {}): Responder {
  return {
    async decide(pending, state, refusal) {
      if (refusal !== undefined)
        return { stop: 'abort', reason: `auto: the recommended option was refused: ${refusal}` };
      const attempt = interruptedAttemptOf(findScenario(state.scenario), pending);
      if (attempt !== undefined) {
        // Whether the action finished is a fact only someone who looked can give; the question has no recommendation.
        return {
          stop: 'abort',
          reason:
            `auto: the bot stopped while running ${pending.stepId} (attempt ${attempt}) and cannot tell whether it ` +
            'finished; a person must look before the run goes on',
        };
      }
      const option = autoOption(pending.options);
      if (option === undefined) {
        return {
          stop: 'abort',
          reason: `auto: ${pending.stepId} has no single recommended option that can be taken without typing; a person must decide`,
        };
      }
      return { optionId: option.id, reason: AUTO_REASON };
    },
    async approve(pending, state, refusal) {
      if (options.approvals !== undefined) return options.approvals.approve(pending, state, refusal);
      options.print?.(
        `  --auto never approves: ${pending.stepId} needs the approval of a person. Give it in Slack, or stop ` +
          `the run; with a terminal on stdin, --auto asks for approvals at the prompt.`,
      );
      return { stop: 'leave' };
    },
    async manual(pending) {
      return {
        stop: 'abort',
        reason:
          `auto: ${pending.stepId} is a manual action a person has to perform; configure it as a command or http ` +
          'action in RECOVERY_CONFIG, or run without --auto',
      };
    },
    async paused(state) {
      const at = state.pause?.stepId ? ` at ${state.pause.stepId}` : '';
      return { action: 'abort', reason: `auto: the run paused${at} (${state.pause?.reason ?? 'no reason given'})` };
    },
  };
}

export interface InteractiveOptions {
  readonly prompter: Prompter;
  readonly style: Style;
  /** Prints a line (the prompts' own explanations). */
  readonly print: (line: string) => void;
  /**
   * The approver named on the command line: approves, and chooses to run a destructive action again (an
   * interrupted one, or Retry after it failed).
   * @defaultValue asked at each approval and each such choice
   */
  readonly approver?: string;
}

/** Asks at the prompt. Every question can be left with Ctrl-C or Ctrl-D: the run then waits for someone else. */
export function createInteractiveResponder(o: InteractiveOptions): Responder {
  const { prompter, style, print } = o;
  const refused = (refusal: string | undefined) => {
    if (refusal !== undefined) print(style.red(`  refused: ${refusal}`));
  };
  /**
   * Who repeats a destructive action (it counts as approving it again): the approver named on the command line,
   * else a name asked for. `null`: the person left; `''`: they want to choose again.
   */
  const secondPerson = async (
    state: RunState,
    why = 'Running it again repeats a destructive action',
  ): Promise<string | null> => {
    if (o.approver !== undefined) return o.approver;
    const starter = state.startedBy.name ?? state.startedBy.id;
    return prompter.ask(`  ${why}: approver's name (not ${starter}; Enter to choose again): `);
  };
  const askReason = async (label: string, required: boolean): Promise<string | null | undefined> => {
    for (;;) {
      const reason = await prompter.ask(`  ${label}${required ? '' : ' (optional)'}: `);
      if (reason === null) return null;
      if (reason !== '' || !required) return reason === '' ? undefined : reason;
      print(style.yellow('  a reason is required'));
    }
  };

  return {
    async decide(pending, state, refusal) {
      refused(refusal);
      const interrupted = interruptedAttemptOf(findScenario(state.scenario), pending) !== undefined;
      const repeatsDestructive = interrupted && isDestructive(state, pending.stepId);
      const recommended = pending.options.findIndex((o) => o.recommended === true);
      const hint = recommended >= 0 ? `, Enter for ${recommended + 1}` : '';
      for (;;) {
        const typed = await prompter.ask(`  Choose 1-${pending.options.length}${hint}: `);
        if (typed === null) return { stop: 'leave' };
        const n = typed === '' && recommended >= 0 ? recommended + 1 : Number(typed);
        const option = Number.isInteger(n) ? pending.options[n - 1] : undefined;
        if (option === undefined) {
          print(style.yellow(`  type a number from 1 to ${pending.options.length}`));
          continue;
        }
        let by: string | undefined;
        if (repeatsDestructive && option.id === INTERRUPTION_OPTIONS.runAgain) {
          const name = await secondPerson(state);
          if (name === null) return { stop: 'leave' };
          if (name === '') continue;
          by = name;
        }
        let value: string | undefined;
        if (option.needsValue) {
          const v = await askReason(option.needsValue.label, true);
          if (v === null) return { stop: 'leave' };
          value = v;
        }
        let reason: string | undefined;
        if (option.needsReason) {
          const label = interrupted && option.id === INTERRUPTION_OPTIONS.done ? 'What did you check' : 'Reason';
          const r = await askReason(label, true);
          if (r === null) return { stop: 'leave' };
          reason = r;
        }
        return {
          optionId: option.id,
          ...(reason !== undefined ? { reason } : {}),
          ...(value !== undefined ? { value } : {}),
          ...(by !== undefined ? { by } : {}),
        };
      }
    },
    async approve(pending, state, refusal) {
      refused(refusal);
      const starter = state.startedBy.name ?? state.startedBy.id;
      const twoPerson = pending.excluded.length > 0;
      if (o.approver !== undefined && refusal === undefined) {
        const yes = await prompter.ask(`  Approve as ${o.approver}? [y/N] `);
        if (yes === null) return { stop: 'leave' };
        if (/^y(es)?$/i.test(yes)) return { approver: o.approver };
      } else {
        const label = twoPerson
          ? `  Approver's name (a different person from ${starter}; Enter to decline): `
          : `  Type your name to approve (Enter to decline): `;
        const name = await prompter.ask(label);
        if (name === null) return { stop: 'leave' };
        if (name !== '') return { approver: name };
      }
      const reason = await prompter.ask('  Not approved. Reason to abort the run (Enter: leave it waiting and exit): ');
      if (reason === null || reason === '') return { stop: 'leave' };
      return { stop: 'abort', reason };
    },
    async manual(_pending, _state, refusal) {
      refused(refusal);
      const note = await prompter.ask('  Press Enter when done (type a note first if you like): ');
      if (note === null) return { stop: 'leave' };
      return { done: true, ...(note !== '' ? { note } : {}) };
    },
    async paused(state, refusal) {
      refused(refusal);
      const options = state.pause?.options ?? ['retry', 'skip', 'abort'];
      const keys = options.map((a) => `${a[0]}) ${a}`).join('  ');
      for (;;) {
        const typed = await prompter.ask(`  ${keys}; Enter to leave it paused: `);
        if (typed === null || typed === '') return { stop: 'leave' };
        const action = options.find((a) => a === typed.toLowerCase() || a[0] === typed.toLowerCase());
        if (action === undefined) {
          print(style.yellow(`  type one of: ${options.join(', ')}`));
          continue;
        }
        if (action === 'retry') {
          if (!isDestructive(state, state.pause?.stepId)) return { action };
          const name = await secondPerson(state);
          if (name === null) return { stop: 'leave' };
          if (name === '') continue;
          return { action, by: name };
        }
        let by: string | undefined;
        if (action === 'skip' && state.skipRequest !== null) {
          const name = await secondPerson(state, 'Skipping a safety check needs a second person to confirm');
          if (name === null) return { stop: 'leave' };
          if (name === '') continue;
          by = name;
        }
        const reason = await askReason(action === 'skip' ? 'Why skip it' : 'Why abort', true);
        if (reason === null || reason === undefined) return { stop: 'leave' };
        return action === 'skip' && by !== undefined ? { action, reason, by } : { action, reason };
      }
    },
  };
}
