import type { FaultSwitch } from './fault-host.js';

/**
 * A host-answer fault: the host carries the action out, and the answer is lost on the way back (see
 * `HOST_ANSWER_FAULTS`). Its scope is the action's name, or `*` for every action.
 */
export function lostAnswers(mode: 'cut-off' | 'answer-lost'): FaultSwitch {
  return {
    async inject(h, action) {
      h.host.lostAnswers.set(action, mode);
      return action;
    },
    async clear(h, action) {
      h.host.lostAnswers.delete(action as string);
    },
  };
}
