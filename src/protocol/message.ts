// The Jupyter message model, and helpers to make new messages (requests the gateway itself sends).
import { randomUUID } from 'node:crypto';

export const PROTOCOL_VERSION = '5.3';

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';
export const CLIENT_CHANNELS: ReadonlySet<string> = new Set(['shell', 'control', 'stdin']);

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  [key: string]: unknown;
}

/** A fully parsed message, as the gateway builds its own requests. */
export interface JupyterMessage {
  header: MessageHeader;
  parent_header: Partial<MessageHeader> | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers?: Buffer[];
  channel?: Channel;
}

/** ISO 8601 UTC with microsecond-looking precision and a trailing Z, as Jupyter writes dates. */
export function isoNow(date: Date = new Date()): string {
  return date.toISOString().replace('Z', '000Z');
}

export function makeMessage(
  msgType: string,
  content: Record<string, unknown>,
  session: string,
  parent: Partial<MessageHeader> | Record<string, never> = {},
): JupyterMessage {
  return {
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session,
      username: 'kernel-gateway',
      date: isoNow(),
      version: PROTOCOL_VERSION,
    },
    parent_header: parent,
    metadata: {},
    content,
  };
}
