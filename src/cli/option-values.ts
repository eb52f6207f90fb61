// Turns option text (from the command line, an env var or the config file) into typed values,
// accepting the original's forms: True/False, ['A','B'], {'scala': '//'}, and refusing
// anything else with one line naming the option and what was expected.
import { optionId, type OptionSpec } from './options.js';
import { OptionError } from '../errors.js';

function refuse(spec: OptionSpec, expected: string, given: unknown): OptionError {
  const shown = typeof given === 'string' ? `'${given}'` : JSON.stringify(given);
  return new OptionError(`${optionId(spec)}: expected ${expected}, got ${shown}`);
}

/** Python's strtobool words (the original reads boolean env vars with it), any case. */
export function parseBoolText(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (['true', 't', 'yes', 'y', 'on', '1'].includes(t)) return true;
  if (['false', 'f', 'no', 'n', 'off', '0', ''].includes(t)) return false;
  return undefined;
}

/** Parses a Python literal of strings, numbers, lists and dicts (what traitlets accepts) via JSON. */
export function pythonLiteral(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) {
          s += text[j + 1];
          j += 2;
        } else s += text[j++];
      }
      if (j >= text.length) throw new Error('unterminated string');
      out += JSON.stringify(s);
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < text.length && /\w/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      const literal = ({ None: 'null', True: 'true', False: 'false' } as Record<string, string>)[word];
      if (!literal) throw new Error(`unexpected word ${word}`);
      out += literal;
      i = j - 1;
    } else if (c === '(' || c === ')') {
      out += c === '(' ? '[' : ']'; // a tuple is as good as a list here
    } else out += c;
  }
  return JSON.parse(out.replace(/,\s*([\]}])/g, '$1'));
}

/** A list from `['A','B']`, or from `A,B` (the original's env var form). */
export function parseList(text: string, spec: OptionSpec): string[] {
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('(')) {
    let v: unknown;
    try {
      v = pythonLiteral(t);
    } catch {
      throw refuse(spec, "a list such as ['A','B']", text);
    }
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    throw refuse(spec, "a list of strings such as ['A','B']", text);
  }
  return t === '' ? [] : t.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A dict from `{'scala': '//'}`, or one `key=value` entry (repeatable on the command line). */
export function parseDict(text: string, spec: OptionSpec): Record<string, string> {
  const t = text.trim();
  if (!t.startsWith('{')) {
    const eq = t.indexOf('=');
    if (eq > 0) return { [t.slice(0, eq)]: t.slice(eq + 1) };
    throw refuse(spec, "a dict such as {'scala': '//'} or an entry such as scala=//", text);
  }
  let v: unknown;
  try {
    // `None` as a key (the original's default language entry) becomes the empty key.
    v = pythonLiteral(t.replace(/([{,]\s*)None(\s*:)/g, "$1''$2"));
  } catch {
    throw refuse(spec, "a dict such as {'scala': '//'}", text);
  }
  return checkDict(spec, v, text);
}

/**
 * Names mapped to counts: `{'python3': 2}`, or `python3=2` entries, several separated by commas
 * (`python3=2,xpython=1`, the env var form; kernelspec names hold no commas).
 */
export function parseCountDict(text: string, spec: OptionSpec): Record<string, number> {
  const t = text.trim();
  if (t.startsWith('{')) {
    let v: unknown;
    try {
      v = pythonLiteral(t);
    } catch {
      throw refuse(spec, "a dict such as {'python3': 2}", text);
    }
    return checkCountDict(spec, v, text);
  }
  const out: Record<string, number> = {};
  for (const entry of t.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const count = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (!/^\d+$/.test(count)) throw refuse(spec, 'entries such as python3=2 (a name and a count of 0 or more)', text);
    out[entry.slice(0, eq).trim()] = Number.parseInt(count, 10);
  }
  return out;
}

function checkCountDict(spec: OptionSpec, v: unknown, given: unknown): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw refuse(spec, "a dict such as {'python3': 2}", given);
  const out: Record<string, number> = {};
  for (const [name, count] of Object.entries(v)) {
    const n = typeof count === 'string' && /^\s*\d+\s*$/.test(count) ? Number.parseInt(count, 10) : count;
    if (!Number.isInteger(n) || (n as number) < 0) throw refuse(spec, "a dict of counts (0 or more) such as {'python3': 2}", given);
    out[name] = n as number;
  }
  return out;
}

function checkDict(spec: OptionSpec, v: unknown, given: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw refuse(spec, "a dict of strings such as {'scala': '//'}", given);
  }
  return v as Record<string, string>;
}

function checked(spec: OptionSpec, value: unknown, given: unknown): unknown {
  const problem = spec.check?.(value);
  if (problem) throw refuse(spec, problem, given);
  return value;
}

/** A typed value from text, as given on the command line or in an env var. */
export function parseOptionText(spec: OptionSpec, text: string): unknown {
  switch (spec.type) {
    case 'string': {
      if (!spec.choices) return checked(spec, text, text);
      const choice = spec.choices.find((c) => c.toUpperCase() === text.trim().toUpperCase());
      if (choice === undefined) throw refuse(spec, `one of ${spec.choices.join(', ')}`, text);
      return choice;
    }
    case 'nullable-string':
      return text === '' || text === 'None' ? null : checked(spec, text, text);
    case 'int':
    case 'nullable-int': {
      if (spec.type === 'nullable-int' && (text.trim() === '' || text.trim() === 'None')) return null;
      if (!/^[+-]?\d+$/.test(text.trim())) throw refuse(spec, spec.type === 'nullable-int' ? 'an integer (or None)' : 'an integer', text);
      return checked(spec, Number.parseInt(text, 10), text);
    }
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw refuse(spec, 'a number', text);
      return checked(spec, n, text);
    }
    case 'bool': {
      const b = parseBoolText(text);
      if (b === undefined) throw refuse(spec, 'True or False', text);
      return b;
    }
    case 'list':
      return parseList(text, spec);
    case 'dict':
      return parseDict(text, spec);
    case 'count-dict':
      return parseCountDict(text, spec);
  }
}

/** Checks a value from a JSON config file against the option's type (strings are parsed as text). */
export function checkJsonValue(spec: OptionSpec, value: unknown): unknown {
  if (typeof value === 'string' && spec.type !== 'list' && spec.type !== 'dict' && spec.type !== 'count-dict') return parseOptionText(spec, value);
  switch (spec.type) {
    case 'string':
    case 'nullable-string':
      if (value === null && spec.type === 'nullable-string') return null;
      throw refuse(spec, 'a string', value);
    case 'int':
    case 'nullable-int':
      if (value === null && spec.type === 'nullable-int') return null;
      if (!Number.isInteger(value)) throw refuse(spec, 'an integer', value);
      return checked(spec, value, value);
    case 'number':
      if (typeof value !== 'number') throw refuse(spec, 'a number', value);
      return checked(spec, value, value);
    case 'bool':
      if (typeof value !== 'boolean') throw refuse(spec, 'true or false', value);
      return value;
    case 'list':
      if (typeof value === 'string') return parseList(value, spec);
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) throw refuse(spec, 'a list of strings', value);
      return value;
    case 'dict':
      return checkDict(spec, value, value);
    case 'count-dict':
      if (typeof value === 'string') return parseCountDict(value, spec);
      return checkCountDict(spec, value, value);
  }
}
