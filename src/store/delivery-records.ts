import type { SlackMessageRecord } from '../slack/outbox/types.js';
import type { Journal } from './journal.js';

/**
 * The journal's copy of what the bot delivered to Slack: each message's ts per (run, key), and each run's summary
 * file record. Redis holds the same state for the delivery in progress; this copy outlives a Redis loss.
 */
export class DeliveryRecords {
  constructor(private readonly journal: Journal) {}

  async slackMessages(runId: string): Promise<Map<string, SlackMessageRecord>> {
    const res = await this.journal.query<{
      key: string;
      ts: string;
      channel: string;
      thread_ts: string | null;
      content_hash: string;
    }>(
      `SELECT key, ts, channel, thread_ts, content_hash FROM ${this.journal.quotedSchema}.slack_messages
        WHERE run_id = $1`,
      [runId],
    );
    return new Map(
      res.rows.map((r) => [
        r.key,
        {
          ts: r.ts,
          channel: r.channel,
          ...(r.thread_ts !== null ? { threadTs: r.thread_ts } : {}),
          hash: r.content_hash,
        },
      ]),
    );
  }

  async saveSlackMessage(runId: string, key: string, record: SlackMessageRecord): Promise<void> {
    await this.journal.query(
      `INSERT INTO ${this.journal.quotedSchema}.slack_messages (run_id, key, ts, channel, thread_ts, content_hash)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id, key) DO UPDATE SET ts = EXCLUDED.ts, channel = EXCLUDED.channel,
         thread_ts = EXCLUDED.thread_ts, content_hash = EXCLUDED.content_hash, updated_at = now()`,
      [runId, key, record.ts, record.channel, record.threadTs ?? null, record.hash],
    );
  }

  /** The run's summary file record as last saved, opaque to the journal. */
  async summaryFile<T>(runId: string): Promise<T | undefined> {
    const res = await this.journal.query<{ record: T }>(
      `SELECT record FROM ${this.journal.quotedSchema}.summary_files WHERE run_id = $1`,
      [runId],
    );
    return res.rows[0]?.record;
  }

  async saveSummaryFile(runId: string, record: object): Promise<void> {
    await this.journal.query(
      `INSERT INTO ${this.journal.quotedSchema}.summary_files (run_id, record) VALUES ($1, $2)
       ON CONFLICT (run_id) DO UPDATE SET record = EXCLUDED.record, updated_at = now()`,
      [runId, JSON.stringify(record)],
    );
  }
}
