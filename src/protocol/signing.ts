// HMAC signing of the four JSON frames of a Jupyter message (header, parent, metadata, content).
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export class MessageSigner {
  private readonly key: Buffer;
  /** Imported once: every message is signed or checked with it. */
  private readonly keyObject?: KeyObject;
  private readonly algorithm: string;

  constructor(key: string | Buffer, scheme = 'hmac-sha256') {
    this.key = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
    if (this.key.length > 0) this.keyObject = createSecretKey(this.key);
    if (!scheme.startsWith('hmac-')) throw new Error(`unsupported signature scheme: ${scheme}`);
    this.algorithm = scheme.slice('hmac-'.length);
  }

  /** Hex digest over the frames; an empty key means signing is off (signature ""). */
  sign(frames: readonly (Buffer | string)[]): string {
    if (!this.keyObject) return '';
    const hmac = createHmac(this.algorithm, this.keyObject);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest('hex');
  }

  verify(signature: Buffer | string, frames: readonly (Buffer | string)[]): boolean {
    if (this.key.length === 0) return true;
    const expected = Buffer.from(this.sign(frames), 'utf8');
    const given = Buffer.isBuffer(signature) ? signature : Buffer.from(signature, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
