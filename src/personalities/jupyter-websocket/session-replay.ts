// Messages kept for a websocket session_id whose connection dropped, replayed in order when a
// connection with the same session_id comes back. Unlike Jupyter Server's unbounded list, the
// buffer is bounded by bytes (the oldest messages go first) and by age (the whole buffer goes);
// what was dropped is counted so the client can be told on reconnect.
import type { RawMessage } from '../../protocol/wire.js';

export interface ReplayLimits {
  maxBytes: number;
  maxAgeMs: number;
}

export interface BufferedMessage {
  channel: string;
  msg: RawMessage;
  size: number;
}

/** The iopub message a reconnecting client gets when its buffer overflowed. */
export const REPLAY_DROPPED_MSG_TYPE = 'gateway_replay_dropped';

export class SessionReplayBuffer {
  private items: BufferedMessage[] = [];
  private head = 0;
  bytes = 0;
  droppedMessages = 0;
  droppedBytes = 0;
  private readonly timer?: NodeJS.Timeout;

  /** `onExpire` runs once maxAgeMs has passed (never when it is Infinity). */
  constructor(
    readonly sessionId: string,
    private readonly limits: ReplayLimits,
    onExpire?: (buffer: SessionReplayBuffer) => void,
  ) {
    if (onExpire && Number.isFinite(limits.maxAgeMs)) {
      this.timer = setTimeout(() => onExpire(this), limits.maxAgeMs);
      this.timer.unref();
    }
  }

  push(channel: string, msg: RawMessage): void {
    const size = msg.byteLength();
    this.items.push({ channel, msg, size });
    this.bytes += size;
    while (this.bytes > this.limits.maxBytes && this.head < this.items.length) {
      const old = this.items[this.head++]!;
      this.bytes -= old.size;
      this.droppedMessages++;
      this.droppedBytes += old.size;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** The kept messages, oldest first; the buffer is finished after this. */
  drain(): BufferedMessage[] {
    clearTimeout(this.timer);
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return out;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.items = [];
  }

  get length(): number {
    return this.items.length - this.head;
  }
}
