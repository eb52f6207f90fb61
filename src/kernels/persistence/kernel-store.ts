// Where kernels that outlive a gateway are written down (availability_mode): one JSON record per
// kernel (and per session), enough for another gateway process to find the kernel's process and
// talk to it again. Behind a small interface so that a database can back it later; the file
// store below is enough for one machine (or a filesystem that several gateways share).
// Records hold kernel keys: the directory is 0700, every file 0600, written to a temporary name
// and renamed so that a reader never sees half a record.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The kinds of record a store keeps. */
export type RecordKind = 'kernels' | 'sessions';

/** A record as read back: its id (from its name) and its parsed JSON, or why it could not be read. */
export type StoredRecord = { id: string; value: unknown } | { id: string; problem: string };

export interface KernelStore {
  /** Where the records are, for log lines. */
  readonly location: string;
  save(kind: RecordKind, id: string, record: object): void;
  remove(kind: RecordKind, id: string): void;
  /** The record of one id (undefined: none), or why it is unreadable. */
  load(kind: RecordKind, id: string): StoredRecord | undefined;
  /** Whether there is a record for this id (cheap: no parse). */
  has(kind: RecordKind, id: string): boolean;
  list(kind: RecordKind): StoredRecord[];
  /** The ids of the records there are (cheap: nothing is read). */
  ids(kind: RecordKind): string[];
}

/** Ids are the names of files: nothing but a kernel or session id's characters. */
const RECORD_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether `id` can name a record: also safe in a path, a URL segment or a shell word. */
export const isRecordId = (id: string): boolean => RECORD_ID.test(id);
const SUFFIX = '.json';

export class FileKernelStore implements KernelStore {
  constructor(readonly location: string) {
    for (const kind of ['kernels', 'sessions'] as const) mkdirSync(join(location, kind), { recursive: true, mode: 0o700 });
  }

  private file(kind: RecordKind, id: string): string {
    if (!RECORD_ID.test(id)) throw new TypeError(`not a record id: ${JSON.stringify(id)}`);
    return join(this.location, kind, id + SUFFIX);
  }

  save(kind: RecordKind, id: string, record: object): void {
    const target = this.file(kind, id);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(record));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, target);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  remove(kind: RecordKind, id: string): void {
    rmSync(this.file(kind, id), { force: true });
  }

  has(kind: RecordKind, id: string): boolean {
    if (!RECORD_ID.test(id)) return false;
    try {
      closeSync(openSync(this.file(kind, id), 'r'));
      return true;
    } catch {
      return false;
    }
  }

  load(kind: RecordKind, id: string): StoredRecord | undefined {
    if (!RECORD_ID.test(id)) return undefined;
    let text: string;
    try {
      text = readFileSync(this.file(kind, id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return { id, problem: (err as Error).message };
    }
    try {
      return { id, value: JSON.parse(text) as unknown };
    } catch (err) {
      return { id, problem: `not JSON (${(err as Error).message})` };
    }
  }

  list(kind: RecordKind): StoredRecord[] {
    const records: StoredRecord[] = [];
    for (const id of this.names(kind)) {
      if (!RECORD_ID.test(id)) {
        records.push({ id, problem: 'its name is not a record id' });
        continue;
      }
      const record = this.load(kind, id);
      if (record) records.push(record);
    }
    return records;
  }

  ids(kind: RecordKind): string[] {
    return this.names(kind).filter((id) => RECORD_ID.test(id));
  }

  /** The names of the records' files, less the suffix (temporary files of a write in flight
   *  and strangers without the suffix are not records). */
  private names(kind: RecordKind): string[] {
    try {
      return readdirSync(join(this.location, kind))
        .filter((name) => name.endsWith(SUFFIX))
        .map((name) => name.slice(0, -SUFFIX.length));
    } catch {
      return [];
    }
  }
}
