import { REDACTED, scrubSecrets } from '../../logger.js';

/**
 * Keeps the last `limit` bytes of a stream without holding all of it, and optionally all of it up to `keepAll`
 * bytes (for output that must be parsed whole).
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private held = 0;
  private all: Buffer[] | null;
  private allBytes = 0;
  /** Every byte seen, including those the tail dropped. */
  total = 0;
  /** `keepAll` was exceeded; {@link full} is then incomplete. */
  overflowed = false;

  constructor(
    private readonly limit: number,
    private readonly keepAll = 0,
  ) {
    this.all = keepAll > 0 ? [] : null;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.all !== null) {
      if (this.allBytes + chunk.length > this.keepAll) {
        this.overflowed = true;
        this.all = null;
      } else {
        this.all.push(chunk);
        this.allBytes += chunk.length;
      }
    }
    this.chunks.push(chunk);
    this.held += chunk.length;
    // Compact only once twice the limit is held, so a chatty process costs amortised O(1) per chunk.
    if (this.held > this.limit * 2) {
      const joined = Buffer.concat(this.chunks);
      const kept = joined.subarray(joined.length - this.limit);
      this.chunks = [kept];
      this.held = kept.length;
    }
  }

  /**
   * The tail as text, starting at a character boundary, with secrets scrubbed and made storable: the one place
   * output enters the run's evidence, so nothing Postgres refuses gets past it.
   */
  tail(secretValues: readonly string[] = []): string {
    const joined = Buffer.concat(this.chunks);
    let start = Math.max(0, joined.length - this.limit);
    // Skip UTF-8 continuation bytes so the cut never shows a replacement character.
    while (start < joined.length && start > 0 && ((joined[start] ?? 0) & 0xc0) === 0x80) start++;
    return storableText(scrubText(joined.subarray(start).toString('utf8'), secretValues));
  }

  /** Everything, when kept and not overflowed. */
  full(): string | null {
    return this.all === null ? null : Buffer.concat(this.all).toString('utf8');
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what is replaced
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text Postgres stores in `text` and `jsonb` as it is: a NUL becomes `␀` (U+2400) and half a surrogate pair
 * U+FFFD. Anything else is kept, so the tail still reads as the program wrote it.
 */
export function storableText(text: string): string {
  return text.replace(NUL, '\u2400').replace(LONE_SURROGATE, '\ufffd');
}

const MIN_SECRET_LENGTH = 4;

/** `scrubSecrets` plus the exact values a config resolved from the environment. */
export function scrubText(text: string, secretValues: readonly string[] = []): string {
  let out = text;
  for (const secret of secretValues) {
    // A value this short is no secret, and blanking every occurrence of it would make the output unreadable.
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  return scrubSecrets(out);
}
