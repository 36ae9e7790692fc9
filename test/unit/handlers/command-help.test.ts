import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../../src/handlers/command-grammar.js';
import { commandHelp, commandsFor, helpText, mayRun } from '../../../src/handlers/command-help.js';

const viewer = { isOperator: false, isApprover: false };
const approver = { isOperator: false, isApprover: true };
const operator = { isOperator: true, isApprover: false };

describe('who may run what', () => {
  it('lets only operators start and abort runs', () => {
    expect(commandsFor(viewer)).toEqual(['status', 'summary', 'history', 'diagnose', 'help']);
    expect(commandsFor(approver)).toEqual(['status', 'summary', 'history', 'diagnose', 'help']);
    expect(commandsFor(operator)).toEqual([...COMMAND_NAMES]);
    expect(mayRun('recover', viewer)).toBe(false);
    expect(mayRun('abort', operator)).toBe(true);
  });
});

describe('help text', () => {
  it('lists only the commands the person may run', () => {
    const forViewer = helpText(viewer);
    expect(forViewer).not.toContain('/dg recover');
    expect(forViewer).not.toContain('/dg abort');
    expect(forViewer).toContain('/dg status');
    expect(helpText(operator)).toContain('/dg recover &lt;scenario&gt;');
  });

  it('tells approvers how they approve', () => {
    expect(helpText(approver)).toContain('approve');
    expect(helpText(viewer)).not.toContain('approve');
  });

  it('explains one command, with scenarios and aliases for recover', () => {
    const recover = commandHelp('recover');
    expect(recover).toContain('(operators only)');
    expect(recover).toContain('`event-log` (also `eventlog`, `event_log`, `log`)');
    expect(helpText(viewer, 'abort')).toContain('You are not an operator');
    expect(helpText(operator, 'abort')).not.toContain('You are not an operator');
  });

  it('escapes placeholders so mrkdwn does not read them as links', () => {
    for (const name of COMMAND_NAMES) {
      expect(commandHelp(name)).not.toMatch(/[<>]/);
      expect(helpText(operator, name)).not.toMatch(/[<>]/);
    }
    expect(helpText({ isOperator: true, isApprover: true })).not.toMatch(/[<>]/);
  });
});
