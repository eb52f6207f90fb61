// Sessions kept in the kernel store beside their kernels (availability_mode), so that a
// restarted gateway, or another one sharing the store, serves them under the same ids.
import type { KernelStore } from '../kernels/persistence/kernel-store.js';
import type { Logger } from '../kernels/logger.js';

export const SESSION_RECORD_VERSION = 1;

export interface StoredSession {
  id: string;
  path: string;
  name: string;
  type: string;
  kernelId: string;
}

/** The session, checked field by field, or what is wrong with the record. */
export function parseSessionRecord(id: string, value: unknown): StoredSession | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  if (v.version !== SESSION_RECORD_VERSION) return `unknown record version ${JSON.stringify(v.version)}`;
  if (v.id !== id) return 'its id does not match its name';
  for (const f of ['path', 'name', 'type', 'kernelId'] as const) if (typeof v[f] !== 'string') return `${f} is not a string`;
  return { id, path: v.path as string, name: v.name as string, type: v.type as string, kernelId: v.kernelId as string };
}

/** Reads, writes and removes session records; a store that fails is logged, never thrown. */
export class SessionStore {
  constructor(
    private readonly store: KernelStore,
    private readonly log: Logger,
  ) {}

  save(session: StoredSession): void {
    try {
      this.store.save('sessions', session.id, { version: SESSION_RECORD_VERSION, ...session });
    } catch (err) {
      this.log.error(`Session ${session.id}: could not write its record to ${this.store.location}: ${(err as Error).message}`);
    }
  }

  remove(id: string): void {
    try {
      this.store.remove('sessions', id);
    } catch (err) {
      this.log.error(`Session ${id}: could not remove its record: ${(err as Error).message}`);
    }
  }

  /** Whether the kernel a session names is still in the store (served here or elsewhere). */
  kernelRecorded(kernelId: string): boolean {
    return this.store.has('kernels', kernelId);
  }

  /** Every readable session record (unreadable ones are skipped with a warning, once each). */
  list(): StoredSession[] {
    const sessions: StoredSession[] = [];
    for (const stored of this.store.list('sessions')) {
      const session = 'problem' in stored ? stored.problem : parseSessionRecord(stored.id, stored.value);
      if (typeof session !== 'string') {
        sessions.push(session);
        continue;
      }
      if (!this.warned.has(stored.id)) this.log.warn(`Kernel store ${this.store.location}: skipping the session record ${stored.id}: ${session}`);
      this.warned.add(stored.id);
    }
    return sessions;
  }

  private readonly warned = new Set<string>();
}
