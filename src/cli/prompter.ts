import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** Questions at the terminal, one at a time. */
export interface Prompter {
  /** The line typed, trimmed; `null` when the input ended or the person pressed Ctrl-C. */
  ask(question: string): Promise<string | null>;
  close(): void;
}

/**
 * A prompter over readline. Lines typed while no question is open are kept for the next question, so answers
 * piped in (or typed ahead) are not lost.
 */
export function createReadlinePrompter(input: Readable, output: Writable): Prompter {
  let rl: Interface | undefined;
  const lines: string[] = [];
  let waiting: ((line: string | null) => void) | undefined;
  let ended = false;
  // A terminal echoes what is typed; piped answers are echoed here so the transcript shows them.
  const echo = (output as { isTTY?: boolean }).isTTY !== true;

  const finish = () => {
    ended = true;
    const w = waiting;
    waiting = undefined;
    w?.(null);
  };
  const open = (): Interface => {
    if (rl) return rl;
    const created = createInterface({ input, output, terminal: (output as { isTTY?: boolean }).isTTY === true });
    created.on('line', (line) => {
      const w = waiting;
      waiting = undefined;
      if (w) {
        if (echo) output.write(`${line.trim()}\n`);
        w(line.trim());
      } else lines.push(line.trim());
    });
    created.on('close', finish);
    created.on('SIGINT', () => {
      output.write('\n');
      created.close();
    });
    rl = created;
    return created;
  };

  return {
    ask(question) {
      const r = open();
      const typed = lines.shift();
      if (typed !== undefined) {
        output.write(`${question}${typed}\n`);
        return Promise.resolve(typed);
      }
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => {
        waiting = resolve;
        r.setPrompt(question);
        r.prompt();
      });
    },
    close() {
      rl?.close();
      rl = undefined;
    },
  };
}
