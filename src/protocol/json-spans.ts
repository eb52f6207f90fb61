import { WireError } from '../errors.js';
// JSON checked in place, byte by byte, without building values: a client's message is
// validated and split into its top-level members as views of the frame it came in, so that a
// large message is never copied into strings and objects on its way to the kernel.

export interface Span {
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

class Scanner {
  i: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.i = start;
  }

  fail(what: string): never {
    throw new WireError(`invalid JSON at byte ${this.i}: ${what}`);
  }

  space(): void {
    while (this.i < this.end && isSpace(this.buf[this.i]!)) this.i++;
  }

  peek(): number {
    if (this.i >= this.end) this.fail('unexpected end');
    return this.buf[this.i]!;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.i++;
  }

  string(): void {
    this.expect(QUOTE, 'a string');
    const { buf, end } = this;
    for (;;) {
      if (this.i >= end) this.fail('unterminated string');
      const c = buf[this.i++]!;
      if (c === QUOTE) return;
      if (c < 0x20) this.fail('control character in a string');
      if (c !== BACKSLASH) continue;
      const e = this.peek();
      this.i++;
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) if (!isHex(this.peek())) this.fail('bad \\u escape');
        else this.i++;
      } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) this.fail('bad escape');
    }
  }

  number(): void {
    const { buf } = this;
    if (buf[this.i] === 0x2d) this.i++;
    if (this.peek() === 0x30) this.i++;
    else if (isDigit(this.peek())) while (this.i < this.end && isDigit(buf[this.i]!)) this.i++;
    else this.fail('bad number');
    if (this.i < this.end && buf[this.i] === 0x2e) {
      this.i++;
      if (!isDigit(this.peek())) this.fail('bad number');
      while (this.i < this.end && isDigit(buf[this.i]!)) this.i++;
    }
    if (this.i < this.end && (buf[this.i] === 0x65 || buf[this.i] === 0x45)) {
      this.i++;
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.i++;
      if (!isDigit(this.peek())) this.fail('bad number');
      while (this.i < this.end && isDigit(buf[this.i]!)) this.i++;
    }
  }

  literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.peek() !== word.charCodeAt(k)) this.fail('bad literal');
      this.i++;
    }
  }

  /** One value of any kind; nesting is followed with a stack, not recursion (no depth limit). */
  value(): void {
    const stack: number[] = [];
    for (;;) {
      this.space();
      const c = this.peek();
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.i++;
        this.space();
        const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
        if (this.peek() === close) {
          this.i++;
        } else {
          stack.push(close);
          if (close === CLOSE_OBJECT) this.memberName();
          continue;
        }
      } else if (c === QUOTE) this.string();
      else if (c === 0x74) this.literal('true');
      else if (c === 0x66) this.literal('false');
      else if (c === 0x6e) this.literal('null');
      else this.number();
      // After a value: the next member or element, or the ends of the containers it closes.
      for (;;) {
        if (stack.length === 0) return;
        this.space();
        const d = this.peek();
        const close = stack[stack.length - 1]!;
        if (d === COMMA) {
          this.i++;
          if (close === CLOSE_OBJECT) {
            this.space();
            this.memberName();
          }
          break;
        }
        if (d !== close) this.fail(close === CLOSE_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
        this.i++;
        stack.pop();
      }
    }
  }

  private memberName(): void {
    this.string();
    this.space();
    this.expect(COLON, "':'");
  }
}

/** Throws WireError unless buf[start, end) is exactly one JSON object. */
export function checkJsonObject(buf: Buffer, what: string, start = 0, end = buf.length): void {
  const s = new Scanner(buf, start, end);
  s.space();
  if (s.i >= end || buf[s.i] !== OPEN_OBJECT) throw new WireError(`${what} is not a JSON object`);
  s.value();
  s.space();
  if (s.i !== end) s.fail('trailing data');
}

/** The top-level members of a JSON object, each as the byte span of its value (the last one
 *  of a repeated name wins, as with JSON.parse). Throws WireError for anything malformed. */
export function topLevelMembers(buf: Buffer): Map<string, Span> {
  const s = new Scanner(buf, 0, buf.length);
  const members = new Map<string, Span>();
  s.space();
  if (s.i >= buf.length || buf[s.i] !== OPEN_OBJECT) throw new WireError('message is not a JSON object');
  s.i++;
  s.space();
  if (s.peek() === CLOSE_OBJECT) {
    s.i++;
  } else {
    for (;;) {
      s.space();
      const nameStart = s.i;
      s.string();
      const name = JSON.parse(buf.toString('utf8', nameStart, s.i)) as string;
      s.space();
      s.expect(COLON, "':'");
      s.space();
      const start = s.i;
      s.value();
      members.set(name, { start, end: s.i });
      s.space();
      const d = s.peek();
      s.i++;
      if (d === CLOSE_OBJECT) break;
      if (d !== COMMA) s.fail("expected ',' or '}'");
    }
  }
  s.space();
  if (s.i !== buf.length) s.fail('trailing data');
  return members;
}
