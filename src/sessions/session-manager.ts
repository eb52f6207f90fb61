// Sessions: a name for a kernel (a notebook path, a console...), kept in memory, with
// Jupyter Server's model. Creating a session for a path that has one returns that session.
import { randomUUID } from 'node:crypto';
import type { KernelManager } from '../kernels/kernel-manager.js';
import type { SessionModel } from './session-model.js';
import type { SessionStore } from './session-store.js';
import { UnknownKernelError, SessionNotFoundError } from '../errors.js';

export interface SessionRecord {
  id: string;
  path: string;
  name: string;
  type: string;
  kernelId: string;
}

export type { SessionModel } from './session-model.js';

export interface KernelChoice {
  id?: string;
  name?: string;
  env?: Record<string, string>;
}

export interface SessionChanges {
  path?: string;
  name?: string;
  type?: string;
  kernel?: KernelChoice;
}

export class SessionManager {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly creating = new Map<string, Promise<SessionRecord>>();
  /** Per session, the end of its chain of updates (never rejects). */
  private readonly updating = new Map<string, Promise<void>>();

  constructor(
    private readonly kernels: KernelManager,
    /** Request env variables (besides KERNEL_*) the sessions' new kernels may get. */
    private readonly envWhitelist: string[] = [],
    /** availability_mode: sessions are kept in the kernel store beside their kernels. */
    private readonly persisted?: SessionStore,
  ) {
    // A session whose kernel is gone is gone too (its record stays while the kernel's does:
    // a kernel another gateway serves is only let go of here).
    kernels.on('removed', (kernel) => {
      for (const [id, s] of this.sessions) {
        if (s.kernelId !== kernel.id) continue;
        this.sessions.delete(id);
        if (this.persisted && !this.persisted.kernelRecorded(kernel.id)) this.persisted.remove(id);
      }
    });
    if (persisted) this.loadStored();
  }

  /** At start-up: the sessions of the kernels the store still has; the others' records go. */
  private loadStored(): void {
    const replicated = this.kernels.availabilityMode === 'replication';
    for (const stored of this.persisted!.list()) {
      const kernelThere = this.kernels.get(stored.kernelId) !== undefined || (replicated && this.persisted!.kernelRecorded(stored.kernelId));
      if (kernelThere) this.sessions.set(stored.id, { ...stored });
      else this.persisted!.remove(stored.id);
    }
  }

  /**
   * Replication: the sessions other gateways created, changed or deleted since, and their
   * kernels attached here; a no-op otherwise. Session routes call it first.
   */
  async refresh(): Promise<void> {
    if (!this.persisted || this.kernels.availabilityMode !== 'replication') return;
    const stored = new Map(this.persisted.list().map((s) => [s.id, s]));
    for (const id of this.sessions.keys()) if (!stored.has(id)) this.sessions.delete(id);
    for (const s of stored.values()) {
      const here = this.sessions.get(s.id);
      if (here) Object.assign(here, s);
      else this.sessions.set(s.id, { ...s });
    }
    await Promise.all([...this.sessions.values()].map((s) => this.kernels.hydrate(s.kernelId)));
    // A kernel that was not there to attach (shut down through a gateway that did not know the
    // session): the session is stale, here and in the store.
    for (const [id, s] of this.sessions) {
      if (this.kernels.get(s.kernelId) || this.persisted.kernelRecorded(s.kernelId)) continue;
      this.sessions.delete(id);
      this.persisted.remove(id);
    }
  }

  model(record: SessionRecord): SessionModel {
    const kernel = this.kernels.get(record.kernelId);
    return {
      id: record.id,
      path: record.path,
      name: record.name,
      type: record.type,
      kernel: kernel ? kernel.model() : null,
      notebook: { path: record.path, name: record.name },
    };
  }

  get(id: string): SessionRecord | undefined {
    return this.sessions.get(id);
  }

  list(): SessionRecord[] {
    return [...this.sessions.values()];
  }

  findByPath(path: string): SessionRecord | undefined {
    for (const s of this.sessions.values()) if (s.path === path) return s;
    return undefined;
  }

  /** A kernel for a session: an existing one by id, or a new one by name. */
  private async kernelFor(choice: KernelChoice): Promise<string> {
    if (choice.id) {
      // Replication: a kernel another gateway started is attached first.
      if (!(await this.kernels.hydrate(choice.id))) throw new UnknownKernelError(`Kernel does not exist: ${choice.id}`);
      return choice.id;
    }
    const kernel = await this.kernels.start({ name: choice.name, env: choice.env, envWhitelist: this.envWhitelist });
    return kernel.id;
  }

  /** The session for `path`: the existing one, the one being created, or a new one. Two
   *  simultaneous creates for one path share one session (and one kernel). */
  findOrCreate(path: string, name: string, type: string, kernel: KernelChoice): Promise<SessionRecord> {
    const existing = this.findByPath(path);
    if (existing) return Promise.resolve(existing);
    let creating = this.creating.get(path);
    if (!creating) {
      creating = this.create(path, name, type, kernel).finally(() => this.creating.delete(path));
      this.creating.set(path, creating);
    }
    return creating;
  }

  private async create(path: string, name: string, type: string, kernel: KernelChoice): Promise<SessionRecord> {
    const record: SessionRecord = { id: randomUUID(), path, name, type, kernelId: await this.kernelFor(kernel) };
    this.sessions.set(record.id, record);
    this.persisted?.save(record);
    return record;
  }

  /**
   * Changes a session. Updates of one session run one after another (a per-session promise
   * chain): two PATCHes that both start a kernel would otherwise each record their own, and the
   * kernel the first one started would never be shut down.
   */
  update(id: string, changes: SessionChanges): Promise<SessionRecord> {
    const prior = this.updating.get(id) ?? Promise.resolve();
    const result = prior.then(() => this.applyUpdate(id, changes));
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.updating.set(id, tail);
    void tail.then(() => {
      if (this.updating.get(id) === tail) this.updating.delete(id);
    });
    return result;
  }

  private async applyUpdate(id: string, changes: SessionChanges): Promise<SessionRecord> {
    const record = this.sessions.get(id);
    if (!record) throw new SessionNotFoundError(`Session not found: ${id}`);
    if (changes.kernel && (changes.kernel.id ? changes.kernel.id !== record.kernelId : true)) {
      const previous = record.kernelId;
      const startsOne = !changes.kernel.id;
      const next = await this.kernelFor(changes.kernel);
      if (this.sessions.get(id) !== record) {
        // Deleted (or its kernel died) while the new kernel started: nothing owns that kernel.
        if (startsOne) await this.kernels.shutdown(next);
        throw new SessionNotFoundError(`Session not found: ${id}`);
      }
      record.kernelId = next;
      // Jupyter Server ends the old kernel whenever a session moves to another one (started for
      // it or named by id); we spare it only while another session still uses it.
      if (previous !== next && !this.isShared(previous, id)) await this.kernels.shutdown(previous);
    }
    if (changes.path !== undefined) record.path = changes.path;
    if (changes.name !== undefined) record.name = changes.name;
    if (changes.type !== undefined) record.type = changes.type;
    this.persisted?.save(record);
    return record;
  }

  private isShared(kernelId: string, exceptSession: string): boolean {
    for (const s of this.sessions.values()) if (s.id !== exceptSession && s.kernelId === kernelId) return true;
    return false;
  }

  /** Deletes the session and shuts its kernel down, as Jupyter Server does. */
  async delete(id: string): Promise<boolean> {
    const record = this.sessions.get(id);
    if (!record) return false;
    this.sessions.delete(id);
    this.persisted?.remove(id);
    if (!this.isShared(record.kernelId, id)) await this.kernels.shutdown(record.kernelId);
    return true;
  }
}
