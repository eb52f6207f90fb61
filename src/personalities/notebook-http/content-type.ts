// Content-Type headers read the way browsers and HTTP clients send them: case-insensitive media
// types, parameters such as `; charset=utf-8` or `; boundary=...`, and text decoded in the
// charset the sender named (UTF-8 when it named none or one we do not know).
import { parse as parseContentType } from 'content-type';

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  type: string;
  /** Lower-cased parameter names; quoted values unquoted. */
  params: Record<string, string>;
}

/**
 * content-type 2.x parses leniently and never throws (a header such as `foo` or `text/html;` is
 * read as best it can be, as our own parser did), so any header a client sends still gets a
 * body. It differs from the parser it replaced only at the edges: a quoted value may hold `;`
 * (`boundary="a;b"`), and of a repeated parameter the first is kept, not the last.
 */
export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const { type, parameters } = parseContentType(header);
  return { type, params: parameters };
}

const decoders = new Map<string, TextDecoder>();

export function decodeText(bytes: Buffer, charset?: string): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase();
  if (label === 'utf-8' || label === 'utf8') return bytes.toString('utf8');
  let decoder = decoders.get(label);
  if (!decoder) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      return bytes.toString('utf8');
    }
    decoders.set(label, decoder);
  }
  return decoder.decode(bytes);
}
