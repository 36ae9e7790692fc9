import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';

/**
 * A local stand-in for Slack's Web API, for tests: a plain `node:http` server on a free loopback port that the real
 * `WebClient` reaches through `slackApiUrl`. It answers an allow-list of methods the way Slack does, keeps a
 * per-channel message store so a test can read a thread as a person in the channel would, records every call,
 * fails on request (429 with `retry-after`, `ok:false`, HTTP 5xx, entirely down), and treats any method outside the
 * allow-list as a test failure. It also serves `response_url`s and the file upload URL of `files.uploadV2`.
 *
 * Where Slack's behaviour is lenient in ways that hide bugs, the fake is stricter and says so (a `thread_ts` that is
 * not a top-level message, a reused `trigger_id`, a sixth post to one `response_url`).
 */

export const SUPPORTED_METHODS = [
  'auth.test',
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'views.open',
  'views.update',
  'conversations.replies',
  'files.getUploadURLExternal',
  'files.completeUploadExternal',
  'usergroups.users.list',
] as const;
export type SlackMethod = (typeof SUPPORTED_METHODS)[number];

/** Pseudo-methods for the two non-API endpoints, usable with the `queue*` functions and {@link FakeSlack.calls}. */
export const RESPONSE_URL = 'response_url';
export const FILE_UPLOAD = 'file_upload';
export type Endpoint = SlackMethod | typeof RESPONSE_URL | typeof FILE_UPLOAD;

export interface FakeSlackOptions {
  /**
   * The bot token the fake accepts (as `Authorization: Bearer` or a `token` field).
   * @defaultValue `'xoxb-fake-token'`
   */
  token?: string;
  /** @defaultValue `'T0FAKE'` */
  teamId?: string;
  /** @defaultValue `'U0FAKEBOT'` */
  botUserId?: string;
  /** @defaultValue `'B0FAKEBOT'` */
  botId?: string;
  /** @defaultValue `'A0FAKEAPP'` */
  appId?: string;
}

export interface RecordedCall {
  readonly endpoint: Endpoint;
  /** Parsed body; `blocks`, `metadata`, `view`, `files` and `attachments` are JSON-parsed. */
  readonly params: Record<string, unknown>;
  readonly contentType: string | undefined;
  /** The token the call presented, if any (header or body). */
  readonly token: string | undefined;
  /** The HTTP status the fake answered with. */
  readonly status: number;
  /** Whether the call succeeded (HTTP 200 and `ok: true`). */
  readonly ok: boolean;
  /** The Slack error string when it did not. */
  readonly error: string | undefined;
  /** For response URLs and uploads: the id in the URL. */
  readonly id: string | undefined;
  readonly at: number;
}

export interface UnexpectedCall {
  readonly method: string;
  readonly path: string;
  readonly reason: string;
}

export interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  /** Parent ts for a reply; undefined for a top-level message. */
  readonly thread_ts: string | undefined;
  readonly text: string | undefined;
  readonly blocks: unknown[] | undefined;
  readonly metadata: unknown;
  readonly user: string;
  readonly bot_id: string;
  readonly reply_broadcast: boolean;
  readonly files: ReadonlyArray<{ id: string; title: string | undefined; name: string | undefined }> | undefined;
  /** How many times `chat.update` changed it. */
  readonly updates: number;
  readonly edited: { user: string; ts: string } | undefined;
}

export interface StoredEphemeral {
  readonly channel: string;
  readonly user: string;
  readonly message_ts: string;
  readonly thread_ts: string | undefined;
  readonly text: string | undefined;
  readonly blocks: unknown[] | undefined;
}

export interface StoredView {
  readonly id: string;
  readonly trigger_id: string | undefined;
  readonly external_id: string | undefined;
  readonly hash: string;
  /** The view as last opened or updated. */
  readonly view: Record<string, unknown>;
  readonly updates: number;
}

export interface StoredUpload {
  readonly file_id: string;
  readonly filename: string | undefined;
  readonly length: number | undefined;
  /** The uploaded bytes (from the multipart `file`/`body` part, or the raw body). */
  readonly content: Buffer | undefined;
  readonly completed: boolean;
}

export interface ResponseUrlPost {
  readonly id: string;
  readonly body: Record<string, unknown>;
}

type Queued =
  | { readonly kind: 'rate_limit'; readonly retryAfter: number }
  | { readonly kind: 'error'; readonly error: string; readonly extra: Record<string, unknown> }
  | { readonly kind: 'http'; readonly status: number };

/** How the fake is down: refusing connections, or answering every request with HTTP 503. */
export type DownMode = 'refuse' | '503';

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const JSON_FIELDS = ['blocks', 'metadata', 'view', 'files', 'attachments'];
const RESPONSE_URL_MAX_POSTS = 5;

let idCounter = 0;
function slackId(prefix: string): string {
  idCounter += 1;
  return `${prefix}${randomBytes(4).toString('hex').toUpperCase()}${idCounter.toString(36).toUpperCase()}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

export class FakeSlack extends EventEmitter {
  readonly token: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;

  #server: Server;
  #port = 0;
  #down: DownMode | undefined;
  #calls: RecordedCall[] = [];
  #unexpected: UnexpectedCall[] = [];
  #queues = new Map<string, Queued[]>();
  #messages = new Map<string, Map<string, StoredMessage>>();
  #ephemerals: StoredEphemeral[] = [];
  #views = new Map<string, StoredView>();
  #usedTriggers = new Set<string>();
  #uploads = new Map<string, StoredUpload>();
  #responseUrls = new Map<string, ResponseUrlPost[]>();
  #userGroups = new Map<string, string[]>();
  #lastTsMicros = 0;

  private constructor(options: FakeSlackOptions) {
    super();
    this.token = options.token ?? 'xoxb-fake-token';
    this.teamId = options.teamId ?? 'T0FAKE';
    this.botUserId = options.botUserId ?? 'U0FAKEBOT';
    this.botId = options.botId ?? 'B0FAKEBOT';
    this.appId = options.appId ?? 'A0FAKEAPP';
    this.#server = this.#createServer();
  }

  /** Starts a fake on a free port of 127.0.0.1. */
  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    await fake.#listen(0);
    return fake;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The value for `clientOptions.slackApiUrl` / `SLACK_API_URL`. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  // ---- inspection ---------------------------------------------------------------------------------------------

  /** Every request to an endpoint (or all of them), in arrival order, including failed ones (see `ok`). */
  calls(endpoint?: Endpoint): RecordedCall[] {
    return this.#calls.filter((c) => endpoint === undefined || c.endpoint === endpoint).map(clone);
  }

  /** Requests the fake does not serve (unknown methods or paths, misuse it refuses): a test asserts this is empty. */
  unexpectedCalls(): UnexpectedCall[] {
    return this.#unexpected.map(clone);
  }

  /** Resolves with the first call to `endpoint` matching `predicate`, already recorded or yet to come. */
  waitForCall(
    endpoint: Endpoint,
    predicate: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<RecordedCall> {
    const existing = this.#calls.find((c) => c.endpoint === endpoint && predicate(c));
    if (existing) return Promise.resolve(clone(existing));
    return new Promise((resolve, reject) => {
      const onCall = (call: RecordedCall) => {
        if (call.endpoint !== endpoint || !predicate(call)) return;
        clearTimeout(timer);
        this.off('call', onCall);
        resolve(clone(call));
      };
      const timer = setTimeout(() => {
        this.off('call', onCall);
        reject(new Error(`no ${endpoint} call matched within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('call', onCall);
    });
  }

  /** A message as it stands now (latest text and blocks). */
  message(channel: string, ts: string): StoredMessage | undefined {
    return clone(this.#messages.get(channel)?.get(ts));
  }

  /** A thread as a person would read it: the parent, then its replies in order, each in its latest version. */
  thread(channel: string, ts: string): StoredMessage[] {
    const all = [...(this.#messages.get(channel)?.values() ?? [])];
    const parent = all.find((m) => m.ts === ts && m.thread_ts === undefined);
    if (!parent) return [];
    const replies = all.filter((m) => m.thread_ts === ts).sort((a, b) => compareTs(a.ts, b.ts));
    return [parent, ...replies].map(clone);
  }

  /** What the channel itself shows: top-level messages and replies broadcast to the channel, in order. */
  channelMessages(channel: string): StoredMessage[] {
    return [...(this.#messages.get(channel)?.values() ?? [])]
      .filter((m) => m.thread_ts === undefined || m.reply_broadcast)
      .sort((a, b) => compareTs(a.ts, b.ts))
      .map(clone);
  }

  /** Every stored message of every channel, in posting order. */
  allMessages(): StoredMessage[] {
    return [...this.#messages.values()]
      .flatMap((m) => [...m.values()])
      .sort((a, b) => compareTs(a.ts, b.ts))
      .map(clone);
  }

  ephemerals(channel?: string): StoredEphemeral[] {
    return this.#ephemerals.filter((e) => channel === undefined || e.channel === channel).map(clone);
  }

  views(): StoredView[] {
    return [...this.#views.values()].map(clone);
  }

  uploads(): StoredUpload[] {
    // structuredClone would turn the Buffer into a plain Uint8Array.
    return [...this.#uploads.values()].map((u) => ({
      ...u,
      content: u.content === undefined ? undefined : Buffer.from(u.content),
    }));
  }

  /** A fresh `response_url` on this fake; POSTs to it are recorded and readable with {@link responses}. */
  responseUrl(id: string = slackId('R')): string {
    if (!this.#responseUrls.has(id)) this.#responseUrls.set(id, []);
    return `${this.url}/response/${encodeURIComponent(id)}`;
  }

  /** The bodies POSTed to one `response_url` (by id) or to all of them. */
  responses(id?: string): ResponseUrlPost[] {
    const lists = id === undefined ? [...this.#responseUrls.values()] : [this.#responseUrls.get(id) ?? []];
    return lists.flat().map(clone);
  }

  /** Sets the members of a user group (`S…`), as `usergroups.users.list` returns them; unknown groups are refused. */
  setUserGroup(groupId: string, members: readonly string[]): void {
    this.#userGroups.set(groupId, [...members]);
  }

  // ---- failure injection --------------------------------------------------------------------------------------

  /** The next `times` calls to `endpoint` get HTTP 429 with `retry-after: <seconds>`. */
  queueRateLimit(endpoint: Endpoint, retryAfterSeconds: number, times = 1): void {
    this.#enqueue(endpoint, { kind: 'rate_limit', retryAfter: retryAfterSeconds }, times);
  }

  /** The next `times` calls to `endpoint` get HTTP 200 `{ok:false, error}` (plus `extra` fields). */
  queueError(endpoint: Endpoint, error: string, times = 1, extra: Record<string, unknown> = {}): void {
    this.#enqueue(endpoint, { kind: 'error', error, extra }, times);
  }

  /** The next `times` calls to `endpoint` get a bare HTTP `status` (for example 500 or 503). */
  queueHttpError(endpoint: Endpoint, status: number, times = 1): void {
    this.#enqueue(endpoint, { kind: 'http', status }, times);
  }

  /** Drops failures still queued. */
  clearQueued(): void {
    this.#queues.clear();
  }

  /**
   * Takes Slack down: `'refuse'` stops listening (connections are refused), `'503'` answers everything with 503.
   * {@link goUp} brings it back on the same port with its store intact.
   */
  async goDown(mode: DownMode = 'refuse'): Promise<void> {
    this.#down = mode;
    if (mode === 'refuse' && this.#server.listening) {
      const closed = once(this.#server, 'close');
      this.#server.close();
      this.#server.closeAllConnections();
      await closed;
    }
  }

  async goUp(): Promise<void> {
    const wasRefusing = this.#down === 'refuse';
    this.#down = undefined;
    if (wasRefusing && !this.#server.listening) {
      this.#server = this.#createServer();
      await this.#listen(this.#port);
    }
  }

  get isDown(): DownMode | false {
    return this.#down ?? false;
  }

  // ---- server ---------------------------------------------------------------------------------------------------

  #createServer(): Server {
    return createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#unexpected.push({ method: req.method ?? '?', path: req.url ?? '?', reason: `fake crashed: ${error}` });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  #enqueue(endpoint: Endpoint, item: Queued, times: number): void {
    const queue = this.#queues.get(endpoint) ?? [];
    for (let i = 0; i < times; i++) queue.push(item);
    this.#queues.set(endpoint, queue);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', this.url).pathname;
    const contentType = req.headers['content-type'];

    let endpoint: Endpoint | undefined;
    let id: string | undefined;
    if (path.startsWith('/api/')) {
      const method = path.slice('/api/'.length);
      if (!(SUPPORTED_METHODS as readonly string[]).includes(method)) {
        this.#unexpected.push({ method: req.method ?? '?', path, reason: `method ${method} is not supported` });
        return send(res, { status: 404, body: { ok: false, error: 'unknown_method' } });
      }
      endpoint = method as SlackMethod;
    } else if (path.startsWith('/response/')) {
      endpoint = RESPONSE_URL;
      id = decodeURIComponent(path.slice('/response/'.length));
    } else if (path.startsWith('/upload/')) {
      endpoint = FILE_UPLOAD;
      id = decodeURIComponent(path.slice('/upload/'.length));
    } else {
      this.#unexpected.push({ method: req.method ?? '?', path, reason: 'no such endpoint' });
      return send(res, { status: 404, body: 'not found' });
    }
    if (req.method !== 'POST') {
      this.#unexpected.push({ method: req.method ?? '?', path, reason: 'only POST is served' });
      return send(res, { status: 405, body: 'method not allowed' });
    }

    const params = endpoint === FILE_UPLOAD ? {} : parseParams(raw, contentType);
    const token = bearer(req.headers.authorization) ?? str(params.token);
    const reply = await this.#reply(endpoint, id, params, token, raw, contentType);
    const body = reply.body;
    const ok = reply.status === 200 && (!isRecord(body) || body.ok !== false);
    const error = isRecord(body) && typeof body.error === 'string' ? body.error : undefined;
    const call: RecordedCall = {
      endpoint,
      params,
      contentType,
      token,
      status: reply.status,
      ok,
      error,
      id,
      at: Date.now(),
    };
    this.#calls.push(call);
    this.emit('call', call);
    send(res, reply);
  }

  async #reply(
    endpoint: Endpoint,
    id: string | undefined,
    params: Record<string, unknown>,
    token: string | undefined,
    raw: Buffer,
    contentType: string | undefined,
  ): Promise<Reply> {
    if (this.#down === '503') return { status: 503, body: 'service unavailable' };
    const queued = this.#queues.get(endpoint)?.shift();
    if (queued?.kind === 'rate_limit') {
      return {
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(queued.retryAfter) },
      };
    }
    if (queued?.kind === 'http') return { status: queued.status, body: `HTTP ${queued.status}` };
    if (queued?.kind === 'error') return okFalse(queued.error, queued.extra);

    if (endpoint === RESPONSE_URL) return this.#responseUrlPost(id ?? '', params);
    if (endpoint === FILE_UPLOAD) return this.#upload(id ?? '', raw, contentType);

    if (token === undefined) return okFalse('not_authed');
    if (token !== this.token) return okFalse('invalid_auth');

    switch (endpoint) {
      case 'auth.test':
        return ok({
          url: 'https://fake.slack.test/',
          team: 'Fake Workspace',
          user: 'dg-bot',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        });
      case 'chat.postMessage':
        return this.#postMessage(params);
      case 'chat.update':
        return this.#update(params);
      case 'chat.postEphemeral':
        return this.#postEphemeral(params);
      case 'views.open':
        return this.#viewsOpen(params);
      case 'views.update':
        return this.#viewsUpdate(params);
      case 'conversations.replies':
        return this.#replies(params);
      case 'files.getUploadURLExternal':
        return this.#getUploadUrl(params);
      case 'files.completeUploadExternal':
        return this.#completeUpload(params);
      case 'usergroups.users.list': {
        const members = this.#userGroups.get(str(params.usergroup) ?? '');
        return members ? ok({ users: [...members] }) : okFalse('no_such_subteam');
      }
    }
  }

  #nextTs(): string {
    const now = Date.now() * 1000;
    this.#lastTsMicros = Math.max(now, this.#lastTsMicros + 1);
    const seconds = Math.floor(this.#lastTsMicros / 1_000_000);
    const micros = this.#lastTsMicros % 1_000_000;
    return `${seconds}.${String(micros).padStart(6, '0')}`;
  }

  #store(message: StoredMessage): void {
    const channel = this.#messages.get(message.channel) ?? new Map<string, StoredMessage>();
    channel.set(message.ts, message);
    this.#messages.set(message.channel, channel);
  }

  #asSlackMessage(m: StoredMessage): Record<string, unknown> {
    return {
      type: 'message',
      ts: m.ts,
      user: m.user,
      bot_id: m.bot_id,
      app_id: this.appId,
      team: this.teamId,
      text: m.text ?? '',
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
      ...(m.edited !== undefined ? { edited: m.edited } : {}),
      ...(m.files !== undefined ? { files: m.files } : {}),
    };
  }

  #postMessage(params: Record<string, unknown>): Reply {
    const channel = str(params.channel);
    if (channel === undefined) return okFalse('channel_not_found');
    const text = typeof params.text === 'string' ? params.text : undefined;
    const blocks = Array.isArray(params.blocks) ? params.blocks : undefined;
    if (text === undefined && (blocks === undefined || blocks.length === 0)) return okFalse('no_text');
    const threadTs = str(params.thread_ts);
    if (threadTs !== undefined) {
      // Slack re-parents a reply to a reply silently; the fake refuses it, since our code must pass the parent's ts.
      const parent = this.#messages.get(channel)?.get(threadTs);
      if (!parent || parent.thread_ts !== undefined) return okFalse('thread_not_found');
    }
    const message: StoredMessage = {
      channel,
      ts: this.#nextTs(),
      thread_ts: threadTs,
      text,
      blocks: clone(blocks),
      metadata: clone(params.metadata),
      user: this.botUserId,
      bot_id: this.botId,
      reply_broadcast: threadTs !== undefined && truthy(params.reply_broadcast),
      files: undefined,
      updates: 0,
      edited: undefined,
    };
    this.#store(message);
    return ok({ channel, ts: message.ts, message: this.#asSlackMessage(message) });
  }

  #update(params: Record<string, unknown>): Reply {
    const channel = str(params.channel);
    const ts = str(params.ts);
    if (channel === undefined) return okFalse('channel_not_found');
    const existing = ts === undefined ? undefined : this.#messages.get(channel)?.get(ts);
    if (!existing) return okFalse('message_not_found');
    const text = typeof params.text === 'string' ? params.text : existing.text;
    const blocks = Array.isArray(params.blocks) ? params.blocks : existing.blocks;
    if ((text === undefined || text === '') && (blocks === undefined || blocks.length === 0)) return okFalse('no_text');
    const updated: StoredMessage = {
      ...existing,
      text,
      blocks: clone(blocks),
      metadata: params.metadata !== undefined ? clone(params.metadata) : existing.metadata,
      updates: existing.updates + 1,
      edited: { user: this.botUserId, ts: this.#nextTs() },
    };
    this.#store(updated);
    return ok({ channel, ts: updated.ts, text: updated.text ?? '', message: this.#asSlackMessage(updated) });
  }

  #postEphemeral(params: Record<string, unknown>): Reply {
    const channel = str(params.channel);
    const user = str(params.user);
    if (channel === undefined) return okFalse('channel_not_found');
    if (user === undefined) return okFalse('user_not_found');
    const text = typeof params.text === 'string' ? params.text : undefined;
    const blocks = Array.isArray(params.blocks) ? params.blocks : undefined;
    if (text === undefined && blocks === undefined) return okFalse('no_text');
    const ephemeral: StoredEphemeral = {
      channel,
      user,
      message_ts: this.#nextTs(),
      thread_ts: str(params.thread_ts),
      text,
      blocks: clone(blocks),
    };
    this.#ephemerals.push(ephemeral);
    return ok({ message_ts: ephemeral.message_ts });
  }

  #viewsOpen(params: Record<string, unknown>): Reply {
    const trigger = str(params.trigger_id);
    if (trigger === undefined) return okFalse('invalid_arguments');
    // A trigger_id opens one view; Slack rejects a second use.
    if (this.#usedTriggers.has(trigger)) return okFalse('expired_trigger_id');
    if (!isRecord(params.view)) return okFalse('invalid_arguments');
    this.#usedTriggers.add(trigger);
    const stored: StoredView = {
      id: slackId('V'),
      trigger_id: trigger,
      external_id: str(params.view.external_id),
      hash: slackId('h'),
      view: clone(params.view),
      updates: 0,
    };
    this.#views.set(stored.id, stored);
    return ok({ view: this.#asSlackView(stored) });
  }

  #viewsUpdate(params: Record<string, unknown>): Reply {
    if (!isRecord(params.view)) return okFalse('invalid_arguments');
    const viewId = str(params.view_id);
    const externalId = str(params.external_id);
    const existing =
      viewId !== undefined
        ? this.#views.get(viewId)
        : [...this.#views.values()].find((v) => externalId !== undefined && v.external_id === externalId);
    if (!existing) return okFalse('not_found');
    const hash = str(params.hash);
    if (hash !== undefined && hash !== existing.hash) return okFalse('hash_conflict');
    const updated: StoredView = {
      ...existing,
      hash: slackId('h'),
      view: clone(params.view),
      updates: existing.updates + 1,
    };
    this.#views.set(updated.id, updated);
    return ok({ view: this.#asSlackView(updated) });
  }

  #asSlackView(v: StoredView): Record<string, unknown> {
    return {
      id: v.id,
      team_id: this.teamId,
      app_id: this.appId,
      bot_id: this.botId,
      hash: v.hash,
      state: { values: {} },
      private_metadata: '',
      callback_id: '',
      external_id: v.external_id ?? '',
      ...v.view,
    };
  }

  #replies(params: Record<string, unknown>): Reply {
    const channel = str(params.channel);
    const ts = str(params.ts);
    if (channel === undefined || !this.#messages.has(channel)) return okFalse('channel_not_found');
    if (ts === undefined) return okFalse('thread_not_found');
    const withMetadata = truthy(params.include_all_metadata);
    const messages = this.thread(channel, ts).map((m) => ({
      ...this.#asSlackMessage(m),
      ...(m.thread_ts === undefined ? { thread_ts: m.ts } : {}),
      ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
    }));
    if (messages.length === 0) return okFalse('thread_not_found');
    return ok({ messages, has_more: false, response_metadata: { next_cursor: '' } });
  }

  #getUploadUrl(params: Record<string, unknown>): Reply {
    const filename = str(params.filename);
    const length = Number(params.length);
    if (filename === undefined || !Number.isInteger(length) || length <= 0) return okFalse('invalid_arguments');
    const fileId = slackId('F');
    this.#uploads.set(fileId, { file_id: fileId, filename, length, content: undefined, completed: false });
    return ok({ upload_url: `${this.url}/upload/${fileId}`, file_id: fileId });
  }

  async #upload(fileId: string, raw: Buffer, contentType: string | undefined): Promise<Reply> {
    const upload = this.#uploads.get(fileId);
    if (!upload) {
      this.#unexpected.push({ method: 'POST', path: `/upload/${fileId}`, reason: 'upload to an URL never issued' });
      return { status: 404, body: 'not found' };
    }
    this.#uploads.set(fileId, { ...upload, content: await uploadedBytes(raw, contentType) });
    return { status: 200, body: `OK - ${raw.length}` };
  }

  #completeUpload(params: Record<string, unknown>): Reply {
    const files = Array.isArray(params.files) ? params.files : undefined;
    if (!files || files.length === 0) return okFalse('invalid_arguments');
    const completed: Array<{ id: string; title: string | undefined; name: string | undefined }> = [];
    for (const f of files) {
      const fileId = isRecord(f) ? str(f.id) : undefined;
      const upload = fileId === undefined ? undefined : this.#uploads.get(fileId);
      if (!upload || upload.content === undefined) return okFalse('file_not_found');
      this.#uploads.set(upload.file_id, { ...upload, completed: true });
      completed.push({ id: upload.file_id, title: isRecord(f) ? str(f.title) : undefined, name: upload.filename });
    }
    const channel = str(params.channel_id);
    if (channel !== undefined) {
      const threadTs = str(params.thread_ts);
      if (threadTs !== undefined) {
        const parent = this.#messages.get(channel)?.get(threadTs);
        if (!parent || parent.thread_ts !== undefined) return okFalse('thread_not_found');
      }
      // Sharing a file shows up as a message (with the initial comment) where it was shared.
      this.#store({
        channel,
        ts: this.#nextTs(),
        thread_ts: threadTs,
        text: typeof params.initial_comment === 'string' ? params.initial_comment : '',
        blocks: undefined,
        metadata: undefined,
        user: this.botUserId,
        bot_id: this.botId,
        reply_broadcast: false,
        files: completed,
        updates: 0,
        edited: undefined,
      });
    }
    return ok({ files: completed.map((f) => ({ id: f.id, title: f.title ?? f.name ?? '' })) });
  }

  #responseUrlPost(id: string, body: Record<string, unknown>): Reply {
    const posts = this.#responseUrls.get(id);
    if (!posts) {
      this.#unexpected.push({ method: 'POST', path: `/response/${id}`, reason: 'response_url never issued' });
      return { status: 404, body: 'no_such_url' };
    }
    if (posts.length >= RESPONSE_URL_MAX_POSTS) {
      this.#unexpected.push({
        method: 'POST',
        path: `/response/${id}`,
        reason: `more than ${RESPONSE_URL_MAX_POSTS} posts to one response_url`,
      });
      return { status: 404, body: 'used_url' };
    }
    posts.push({ id, body: clone(body) });
    return { status: 200, body: { ok: true } };
  }
}

function ok(body: Record<string, unknown>): Reply {
  return { status: 200, body: { ok: true, ...body } };
}

function okFalse(error: string, extra: Record<string, unknown> = {}): Reply {
  return { status: 200, body: { ok: false, error, ...extra } };
}

function send(res: ServerResponse, reply: Reply): void {
  const isText = typeof reply.body === 'string';
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...reply.headers,
  });
  res.end(payload);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Form-urlencoded (with or without a charset) or JSON; nested Block Kit fields arrive JSON-encoded in forms. */
function parseParams(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  let params: Record<string, unknown> = {};
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) params = parsed;
    } catch {
      params = {};
    }
  } else if (type === 'application/x-www-form-urlencoded' || text.length > 0) {
    for (const [k, v] of Object.entries(parseQuery(text))) params[k] = Array.isArray(v) ? v[0] : v;
  }
  for (const key of JSON_FIELDS) {
    const value = params[key];
    if (typeof value === 'string') {
      try {
        params[key] = JSON.parse(value);
      } catch {
        // Left as the string it was; Slack would answer invalid_blocks / invalid_arguments, the test sees the raw value.
      }
    }
  }
  return params;
}

async function uploadedBytes(raw: Buffer, contentType: string | undefined): Promise<Buffer> {
  if (!contentType?.toLowerCase().startsWith('multipart/form-data')) return raw;
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  const first = [...form.values()][0];
  return Buffer.from(typeof first === 'string' ? first : '');
}

function compareTs(a: string, b: string): number {
  const [as = '0', au = '0'] = a.split('.');
  const [bs = '0', bu = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(au) - Number(bu);
}
