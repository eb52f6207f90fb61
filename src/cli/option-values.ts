// Turns option text (from the command line, an env var or the config file) into typed values,
// accepting the original's forms: True/False, ['A','B'], {'scala': '//'}.
import type { OptionSpec } from './options.js';

export class OptionError extends Error {}

function optionName(spec: OptionSpec): string {
  return `${spec.section}.${spec.name}`;
}

export function parseBool(text: string, spec: OptionSpec): boolean {
  const t = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'off', ''].includes(t)) return false;
  throw new OptionError(`${optionName(spec)}: expected True or False, got '${text}'`);
}

/** Parses a Python literal of strings, lists and dicts (as traitlets accepts) via JSON. */
function pythonLiteral(text: string): unknown {
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
      out += word === 'None' ? 'null' : word === 'True' ? 'true' : word === 'False' ? 'false' : word;
      i = j - 1;
    } else out += c;
  }
  return JSON.parse(out.replace(/,\s*([\]}])/g, '$1'));
}

export function parseList(text: string, spec: OptionSpec): string[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    try {
      const v = pythonLiteral(t);
      if (Array.isArray(v)) return v.map(String);
    } catch {
      /* fall through to the error below */
    }
    throw new OptionError(`${optionName(spec)}: expected a list such as ['A','B'], got '${text}'`);
  }
  return t === '' ? [] : t.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseDict(text: string, spec: OptionSpec): Record<string, string> {
  try {
    const v = pythonLiteral(text.trim());
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const out: Record<string, string> = {};
      for (const [k, val] of Object.entries(v)) out[k === 'null' ? '' : k] = String(val);
      return out;
    }
  } catch {
    /* fall through */
  }
  throw new OptionError(`${optionName(spec)}: expected a dict such as {'scala': '//'}, got '${text}'`);
}

/** A value from text; `append` merges list items into what the command line gave before. */
export function parseOptionText(spec: OptionSpec, text: string): unknown {
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(text.toUpperCase())) {
        throw new OptionError(`${optionName(spec)}: expected one of ${spec.choices.join(', ')}, got '${text}'`);
      }
      return text;
    case 'nullable-string':
      return text === '' || text === 'None' ? null : text;
    case 'int':
    case 'nullable-int': {
      if (spec.type === 'nullable-int' && (text === '' || text === 'None')) return null;
      if (!/^[+-]?\d+$/.test(text.trim())) throw new OptionError(`${optionName(spec)}: expected an integer, got '${text}'`);
      return Number.parseInt(text, 10);
    }
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new OptionError(`${optionName(spec)}: expected a number, got '${text}'`);
      return n;
    }
    case 'bool':
      return parseBool(text, spec);
    case 'list':
      return parseList(text, spec);
    case 'dict':
      return parseDict(text, spec);
  }
}

/** Checks a value from a JSON config file against the option's type. */
export function checkJsonValue(spec: OptionSpec, value: unknown): unknown {
  if (typeof value === 'string') return parseOptionText(spec, value);
  const ok = (() => {
    switch (spec.type) {
      case 'nullable-string':
      case 'nullable-int':
        return value === null || (spec.type === 'nullable-int' ? Number.isInteger(value) : false);
      case 'int':
        return Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      case 'bool':
        return typeof value === 'boolean';
      case 'list':
        return Array.isArray(value);
      case 'dict':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      default:
        return false;
    }
  })();
  if (!ok) throw new OptionError(`${optionName(spec)}: the config file gives ${JSON.stringify(value)}, expected a ${spec.type}`);
  if (spec.type === 'list') return (value as unknown[]).map(String);
  return value;
}
