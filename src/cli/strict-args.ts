import { type ParseArgsConfig, parseArgs } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** One option as `parseArgs` read it; `index` is the word it came from (`-hx` yields `-h` and `-x`). */
export interface OptionToken {
  readonly name: string;
  readonly rawName: string;
  readonly index: number;
  readonly value?: string | undefined;
  readonly inlineValue?: boolean | undefined;
}

/** What strict parsing refused, for the caller to word: the option at fault and the word it came from. */
export interface Refusal {
  readonly problem: 'unknown' | 'needs-value' | 'takes-no-value';
  readonly option: OptionToken;
  readonly word: string;
  /** The options read before it, all valid, for checks of their own that come first. */
  readonly before: readonly OptionToken[];
}

type Config<O extends OptionsConfig> = {
  args: readonly string[];
  options: O;
  strict: true;
  allowPositionals: true;
  tokens: true;
};
type Values<O extends OptionsConfig> = ReturnType<typeof parseArgs<Config<O>>>['values'];

export type StrictArgs<O extends OptionsConfig> =
  | {
      readonly ok: true;
      readonly values: Values<O>;
      readonly positionals: readonly string[];
      /** Every option given, in order, repeats included. */
      readonly options: readonly OptionToken[];
    }
  | { readonly ok: false; readonly refusal: Refusal };

/**
 * `parseArgs` in strict mode with positionals allowed. Its errors name the option only in Node's prose, so a refusal
 * is explained from a lenient re-read of the same words: the first option that strict mode refuses.
 */
export function parseStrict<const O extends OptionsConfig>(args: readonly string[], options: O): StrictArgs<O> {
  const config: Config<O> = { args, options, strict: true, allowPositionals: true, tokens: true };
  try {
    const { values, positionals, tokens } = parseArgs(config);
    return { ok: true, values, positionals, options: tokens.filter((t) => t.kind === 'option') };
  } catch (err) {
    if (!String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw err;
    const before: OptionToken[] = [];
    for (const token of parseArgs({ ...config, strict: false }).tokens) {
      if (token.kind !== 'option') continue;
      const problem = problemOf(token, options);
      if (problem === undefined) before.push(token);
      else return { ok: false, refusal: { problem, option: token, word: args[token.index] ?? '', before } };
    }
    throw err; // strict mode refused something the rules below do not mirror: a parseArgs change to follow
  }
}

/** Strict mode's rules for one option. */
function problemOf(token: OptionToken, options: OptionsConfig): Refusal['problem'] | undefined {
  const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
  if (spec === undefined) return 'unknown';
  if (spec.type === 'boolean') return token.value === undefined ? undefined : 'takes-no-value';
  // A value after a space may not look like an option: `--trace --auto` forgot the trace.
  const { value, inlineValue } = token;
  return value === undefined || (!inlineValue && value.length > 1 && value.startsWith('-')) ? 'needs-value' : undefined;
}

/** `unknown option -x`, `--trace needs a value`, `--auto takes no value`. */
export function refusalMessage({ problem, option, word }: Refusal): string {
  switch (problem) {
    case 'unknown': {
      // A negative number is read as an option; after `--` it is a word.
      const hint = /^-\d/.test(word)
        ? ` (a word that starts with - goes after --, as in \`-- ${word.slice(0, 40)}\`)`
        : '';
      return `unknown option ${word.slice(0, 40)}${hint}`;
    }
    case 'needs-value': {
      const v = option.value;
      const hint =
        v !== undefined && !v.startsWith('--')
          ? `; a value that starts with - goes as ${option.rawName}=${v.slice(0, 40)}`
          : '';
      return `${option.rawName} needs a value${hint}`;
    }
    case 'takes-no-value':
      return `${option.rawName} takes no value`;
  }
}
