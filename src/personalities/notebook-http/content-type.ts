// Content-Type headers read the way browsers and HTTP clients send them: case-insensitive media
// types, parameters such as `; charset=utf-8` or `; boundary=...`, and text decoded in the
// charset the sender named (UTF-8 when it named none or one we do not know).

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  type: string;
  params: Record<string, string>;
}

export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const [first, ...rest] = header.split(';');
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const piece of rest) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    let value = piece.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    params[piece.slice(0, eq).trim().toLowerCase()] = value;
  }
  return { type: first!.trim().toLowerCase(), params };
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
