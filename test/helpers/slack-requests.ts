import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { StoredMessage } from './fake-slack.js';

/**
 * Requests as Slack sends them to the bot: form-encoded, signed with the app's signing secret. Slash commands are
 * plain form fields; interactivity (`block_actions`, `view_submission`) is one `payload` field holding JSON.
 */

export interface SignedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`, as Slack computes `X-Slack-Signature`. */
export function slackSignature(signingSecret: string, timestampSec: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex')}`;
}

/** Form-encodes fields the way Slack does (`application/x-www-form-urlencoded`, spaces as `+`). */
export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export interface PostSignedOptions {
  /** Send this signature instead of the computed one (to test rejection). */
  readonly signature?: string;
  readonly headers?: Record<string, string>;
}

/**
 * POSTs `fields` signed exactly as Slack signs: the body is sent as the very string that was signed, with the
 * content type `application/x-www-form-urlencoded` and nothing after it (Bolt matches it exactly).
 */
export async function postSignedForm(
  url: string,
  signingSecret: string,
  fields: Record<string, string>,
  nowSec: number = Math.floor(Date.now() / 1000),
  options: PostSignedOptions = {},
): Promise<SignedResponse> {
  const body = formBody(fields);
  const res = await request(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(nowSec),
      'x-slack-signature': options.signature ?? slackSignature(signingSecret, nowSec, body),
      ...options.headers,
    },
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** A fresh trigger id in Slack's shape (`<digits>.<digits>.<hex>`); each interaction has its own. */
export function newTriggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e10)}.${randomBytes(16).toString('hex')}`;
}

export interface SlashCommandInput {
  readonly text: string;
  /** Where `respond()` posts: use `fake.responseUrl()`. */
  readonly responseUrl: string;
  readonly userId?: string;
  readonly userName?: string;
  readonly channelId?: string;
  readonly channelName?: string;
  readonly teamId?: string;
  readonly command?: string;
  readonly triggerId?: string;
  readonly apiAppId?: string;
}

/** The form fields of a slash command invocation. */
export function slashCommandFields(input: SlashCommandInput): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: input.teamId ?? 'T0FAKE',
    team_domain: 'fake',
    channel_id: input.channelId ?? 'C0INCIDENT',
    channel_name: input.channelName ?? 'incident',
    user_id: input.userId ?? 'U0OPERATOR',
    user_name: input.userName ?? 'operator',
    command: input.command ?? '/dg',
    text: input.text,
    api_app_id: input.apiAppId ?? 'A0FAKEAPP',
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? newTriggerId(),
  };
}

export interface ButtonClick {
  readonly actionId: string;
  readonly blockId: string;
  readonly value?: string;
  readonly text?: string;
}

export interface BlockActionsInput {
  readonly action: ButtonClick;
  readonly channelId: string;
  /** The message holding the button. */
  readonly messageTs: string;
  /** The parent's ts when the message is a thread reply. */
  readonly threadTs?: string;
  readonly responseUrl: string;
  readonly userId?: string;
  readonly userName?: string;
  readonly teamId?: string;
  readonly triggerId?: string;
  /** The message as the user saw it (text and blocks), echoed back by Slack. */
  readonly message?: { text?: string; blocks?: unknown[] };
}

/** A `block_actions` payload for a button click in a message. */
export function blockActionsPayload(input: BlockActionsInput): Record<string, unknown> {
  const teamId = input.teamId ?? 'T0FAKE';
  const userId = input.userId ?? 'U0APPROVER';
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'block_actions',
    user: { id: userId, username: input.userName ?? 'approver', name: input.userName ?? 'approver', team_id: teamId },
    api_app_id: 'A0FAKEAPP',
    token: 'deprecated-verification-token',
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: input.channelId,
      is_ephemeral: false,
      ...(input.threadTs !== undefined ? { thread_ts: input.threadTs } : {}),
    },
    trigger_id: input.triggerId ?? newTriggerId(),
    team: { id: teamId, domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: 'incident' },
    message: {
      type: 'message',
      ts: input.messageTs,
      ...(input.threadTs !== undefined ? { thread_ts: input.threadTs } : {}),
      text: input.message?.text ?? '',
      blocks: input.message?.blocks ?? [],
    },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: input.action.actionId,
        block_id: input.action.blockId,
        text: { type: 'plain_text', text: input.action.text ?? input.action.actionId, emoji: true },
        ...(input.action.value !== undefined ? { value: input.action.value } : {}),
        action_ts: actionTs,
      },
    ],
  };
}

/**
 * Finds the button with `actionId` (and, if given, `value`) in a message the bot posted, as the fake stored it.
 * Throws when there is none, since a test that clicks a button nobody can see is wrong.
 */
export function findButton(message: StoredMessage, actionId: string, value?: string): ButtonClick {
  for (const block of message.blocks ?? []) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as { block_id?: string; elements?: unknown[]; accessory?: unknown };
    const candidates = [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])];
    for (const el of candidates) {
      const e = el as { type?: string; action_id?: string; value?: string; text?: { text?: string } };
      if (e.type === 'button' && e.action_id === actionId && (value === undefined || e.value === value)) {
        if (b.block_id === undefined) throw new Error(`button ${actionId} is in a block without block_id`);
        return {
          actionId,
          blockId: b.block_id,
          ...(e.value !== undefined ? { value: e.value } : {}),
          ...(e.text?.text !== undefined ? { text: e.text.text } : {}),
        };
      }
    }
  }
  throw new Error(`no button ${actionId}${value !== undefined ? ` (${value})` : ''} in message ${message.ts}`);
}

/** The click Slack would send for a button in a stored message. */
export function clickButtonPayload(
  message: StoredMessage,
  actionId: string,
  options: { responseUrl: string; userId?: string; value?: string; triggerId?: string },
): Record<string, unknown> {
  return blockActionsPayload({
    action: findButton(message, actionId, options.value),
    channelId: message.channel,
    messageTs: message.ts,
    ...(message.thread_ts !== undefined ? { threadTs: message.thread_ts } : {}),
    responseUrl: options.responseUrl,
    ...(options.userId !== undefined ? { userId: options.userId } : {}),
    ...(options.triggerId !== undefined ? { triggerId: options.triggerId } : {}),
    message: { ...(message.text !== undefined ? { text: message.text } : {}), blocks: message.blocks ?? [] },
  });
}

export interface ViewSubmissionInput {
  readonly viewId: string;
  readonly callbackId: string;
  readonly privateMetadata?: string;
  /** Input values as `block_id → action_id → text`, for plain-text inputs. */
  readonly values: Record<string, Record<string, string>>;
  readonly userId?: string;
  readonly teamId?: string;
  readonly triggerId?: string;
  /** Present when the modal asked for a response URL (`response_url_enabled`). */
  readonly responseUrls?: ReadonlyArray<{
    block_id: string;
    action_id: string;
    channel_id: string;
    response_url: string;
  }>;
  /** The view as it was opened, so `blocks`, `title` etc. match. */
  readonly view?: Record<string, unknown>;
}

/** A `view_submission` payload for a modal with plain-text inputs. */
export function viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
  const teamId = input.teamId ?? 'T0FAKE';
  const userId = input.userId ?? 'U0APPROVER';
  const values: Record<string, Record<string, { type: string; value: string }>> = {};
  for (const [blockId, actions] of Object.entries(input.values)) {
    values[blockId] = {};
    for (const [actionId, value] of Object.entries(actions)) {
      (values[blockId] as Record<string, { type: string; value: string }>)[actionId] = {
        type: 'plain_text_input',
        value,
      };
    }
  }
  return {
    type: 'view_submission',
    team: { id: teamId, domain: 'fake' },
    user: { id: userId, username: 'approver', name: 'approver', team_id: teamId },
    api_app_id: 'A0FAKEAPP',
    token: 'deprecated-verification-token',
    trigger_id: input.triggerId ?? newTriggerId(),
    view: {
      type: 'modal',
      blocks: [],
      ...input.view,
      id: input.viewId,
      team_id: teamId,
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata ?? '',
      state: { values },
      hash: `${Date.now()}.${randomBytes(4).toString('hex')}`,
      app_id: 'A0FAKEAPP',
      bot_id: 'B0FAKEBOT',
    },
    response_urls: input.responseUrls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** The form fields of an interaction request: one `payload` field with the JSON. */
export function interactionFields(payload: Record<string, unknown>): Record<string, string> {
  return { payload: JSON.stringify(payload) };
}
