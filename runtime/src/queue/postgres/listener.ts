import pg from 'pg';
import type { Logger } from '../../logger.js';
import { errorMessage } from './errors.js';

/** Options of `NotificationListener`. */
export interface ListenerOptions {
  /** How to connect (the queue's connection settings). */
  client: pg.ClientConfig;
  /** The `LISTEN "channel"` statement. */
  listenSql: string;
  /**
   * Called with each notification's payload, and with `undefined` once the connection (re)starts
   * listening, since jobs may have been added while nobody listened.
   */
  onNotify: (payload: string | undefined) => void;
  /** Where the listener reports a dropped connection and its return. */
  logger: Logger;
  /** The queue URI without password, for messages. */
  display: string;
}

/** First and longest wait before reconnecting, in ms. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * A dedicated connection that LISTENs on the queue's channel and reconnects when it drops.
 * While it is down, idle workers fall back to polling; once it is back it reports a wake-up,
 * since jobs may have been added while nobody listened.
 */
export class NotificationListener {
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private failures = 0;

  constructor(private readonly options: ListenerOptions) {}

  /** Starts listening in the background; later calls do nothing. Failures are logged and retried. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    void this.connect();
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.options.client);
    let gone = false;
    const lost = (err?: unknown) => {
      if (gone) return;
      gone = true;
      this.lost(client, err);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => this.options.onNotify(message.payload));
    try {
      await client.connect();
      await client.query(this.options.listenSql);
    } catch (err) {
      lost(err);
      client.end().catch(() => undefined);
      return;
    }
    if (this.closed) {
      gone = true;
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.failures > 0)
      this.options.logger.info(`Postgres queue ${this.options.display}: listening for new jobs again.`);
    this.failures = 0;
    this.options.onNotify(undefined);
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client === client) this.client = undefined;
    if (this.closed) return;
    const wait = Math.min(RECONNECT_MIN_MS * 2 ** this.failures, RECONNECT_MAX_MS);
    if (this.failures === 0) {
      this.options.logger.error(
        `Postgres queue ${this.options.display}: the LISTEN connection closed` +
          `${err ? ` (${errorMessage(err)})` : ''}; reconnecting. Idle workers poll until it is back.`,
      );
    }
    this.failures += 1;
    this.retryTimer = setTimeout(() => void this.connect(), wait);
    this.retryTimer.unref();
  }
}
