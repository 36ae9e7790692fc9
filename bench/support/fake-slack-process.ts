import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeSlack, type StoredMessage } from '../../test/helpers/fake-slack.js';

/*
 * The fake Slack Web API in a process of its own. Slack is remote for a real bot: serving the bot's Web API and
 * response-URL calls must not take turns on the event loop whose latency a benchmark measures.
 */

type Query =
  | { readonly id: number; readonly type: 'responseUrls'; readonly count: number }
  | { readonly id: number; readonly type: 'messages' }
  | { readonly id: number; readonly type: 'callCount' }
  | { readonly id: number; readonly type: 'close' };

/** A query without its id (Omit over each member of the union, not over their common keys). */
type QueryBody = Query extends infer Q ? (Q extends Query ? Omit<Q, 'id'> : never) : never;

type Answer = { readonly id: number; readonly value: unknown } | { readonly id: number; readonly error: string };

interface Ready {
  readonly type: 'ready';
  readonly url: string;
  readonly apiUrl: string;
  readonly token: string;
}

const SELF = fileURLToPath(import.meta.url);

export interface RemoteFakeSlack {
  readonly url: string;
  /** The value for `SLACK_API_URL`. */
  readonly apiUrl: string;
  readonly token: string;
  /** Fresh response URLs the fake accepts posts on. */
  responseUrls(count: number): Promise<string[]>;
  allMessages(): Promise<StoredMessage[]>;
  /** Every request the fake has served so far (Web API and response URLs). */
  callCount(): Promise<number>;
  close(): Promise<void>;
}

export async function startFakeSlackProcess(): Promise<RemoteFakeSlack> {
  const child: ChildProcess = fork(SELF, ['--serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = new Promise<Ready>((resolveReady, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the fake Slack process exited ${code}`)));
    child.on('message', (m: Ready | Answer) => {
      if ('type' in m && m.type === 'ready') return resolveReady(m);
      const answer = m as Answer;
      const waiter = pending.get(answer.id);
      if (!waiter) return;
      pending.delete(answer.id);
      if ('error' in answer) waiter.reject(new Error(answer.error));
      else waiter.resolve(answer.value);
    });
  });
  const ask = <T>(query: QueryBody): Promise<T> =>
    new Promise<T>((res, rej) => {
      const id = nextId++;
      pending.set(id, { resolve: (v) => res(v as T), reject: rej });
      child.send({ ...query, id });
    });
  const info = await ready;
  return {
    url: info.url,
    apiUrl: info.apiUrl,
    token: info.token,
    responseUrls: (count) => ask<string[]>({ type: 'responseUrls', count }),
    allMessages: () => ask<StoredMessage[]>({ type: 'messages' }),
    callCount: () => ask<number>({ type: 'callCount' }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      await ask({ type: 'close' }).catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

async function serve(): Promise<void> {
  const fake = await FakeSlack.start();
  process.on('message', (q: Query) => {
    void (async () => {
      try {
        let value: unknown;
        if (q.type === 'responseUrls') value = Array.from({ length: q.count }, () => fake.responseUrl());
        else if (q.type === 'messages') value = fake.allMessages();
        else if (q.type === 'callCount') value = fake.calls().length;
        else {
          await fake.close();
          process.send?.({ id: q.id, value: null } satisfies Answer);
          process.disconnect();
          return;
        }
        process.send?.({ id: q.id, value } satisfies Answer);
      } catch (err) {
        process.send?.({ id: q.id, error: err instanceof Error ? err.message : String(err) } satisfies Answer);
      }
    })();
  });
  process.send?.({ type: 'ready', url: fake.url, apiUrl: fake.apiUrl, token: fake.token } satisfies Ready);
}

if (process.argv[1] && resolve(process.argv[1]) === SELF && process.argv.includes('--serve')) {
  serve().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
