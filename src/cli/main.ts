import { colourWanted, createStyle } from '../projections/terminal/style.js';
import { parseCliArgs } from './args.js';
import { isEntryModule, runAsProcess } from './entry.js';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import type { CliIo, CliOptions } from './run-command.js';
import { usageHint, usageText } from './usage.js';
import { packageVersion } from './version.js';

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

export type { CliIo, CliOptions } from './run-command.js';

/** Runs one `dg-recovery` command and returns the exit status; never calls `process.exit`. */
export async function runCli(argv: readonly string[], io: CliIo, options: CliOptions = {}): Promise<number> {
  const parsed = parseCliArgs(argv);
  const err = (line: string) => io.stderr.write(`${line}\n`);
  if (!parsed.ok) {
    err(`dg-recovery: ${parsed.message}`);
    err(usageHint(parsed.topic));
    return EXIT_USAGE;
  }
  const { command } = parsed;
  const style = createStyle(parsed.colour !== 'never' && colourWanted(io.stdout.isTTY === true, io.env));
  const print = (line: string) => io.stdout.write(`${line}\n`);
  if (command.kind === 'help' && command.bare) {
    err('dg-recovery: no command given.');
    err(usageText());
    return EXIT_USAGE;
  }
  if (command.kind === 'help') {
    print(usageText(command.topic));
    return EXIT_OK;
  }
  if (command.kind === 'version') {
    print(`dg-recovery ${packageVersion()}`);
    return EXIT_OK;
  }

  // Everything that opens connections loads only now, so `help` and usage errors answer at once.
  const { runCommand } = await import('./run-command.js');
  return runCommand(command, io, options, { print, err, style });
}

/** The process entry: real streams and environment; a first Ctrl-C leaves the run, a second one exits at once. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  await runAsProcess(
    (io) => runCli(argv, io),
    () => process.stderr.write('\nLeaving; press Ctrl-C again to exit at once.\n'),
  );
}

if (isEntryModule(import.meta.url)) await main();
