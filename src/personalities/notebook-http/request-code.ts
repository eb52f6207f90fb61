// The code that hands REQUEST to the kernel. It must be injection-proof: nothing a client sends
// may end the string literal early or be interpolated. The REQUEST JSON text is embedded as a
// literal of the kernel's language, escaped for that language's rules.
//
// Python (what ipykernel and xpython run) gets ONE execution per request: the assignment goes on
// the annotation's comment line (`REQUEST = "..."; # GET /x`), so the cell's line numbers in
// tracebacks stay the notebook's. JSON.stringify of a string is a valid Python str literal: it
// escapes `"`, `\` and every control character (newlines included), and Python reads all of
// JSON's escapes (\" \\ \b \f \n \r \t \uXXXX) the same way. Other languages keep the original's
// two executions (assignment, then the cell), with quoting that their strings cannot escape.

/**
 * JSON text as Python's `json.dumps` writes it by default, which is what the original hands the
 * cell as REQUEST: `", "` and `": "` separators, and every non-ASCII character escaped as
 * \uXXXX (so a cell that prints REQUEST answers plain ASCII under `text/plain`).
 */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${asciiOnly(JSON.stringify(k))}: ${pythonJsonDumps(v)}`)
      .join(', ')}}`;
  }
  return asciiOnly(JSON.stringify(value) ?? 'null');
}

function asciiOnly(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface RequestCode {
  /** Executions to run in order; the last one is the cell whose output is the response. */
  executions: string[];
}

/** A double-quoted literal in the syntax JSON, Python, R, Scala and JavaScript share. */
export function jsonStringLiteral(text: string): string {
  return JSON.stringify(text);
}

/** The statement that sets REQUEST in the given kernel language (the original's variable names). */
export function requestAssignment(language: string, requestJson: string): string {
  switch (language.toLowerCase()) {
    case 'bash':
      // Nothing is special inside single quotes; a quote is closed, escaped, and reopened.
      return `REQUEST='${requestJson.replaceAll("'", "'\\''")}'`;
    case 'perl':
      // In a single-quoted Perl string only \\ and \' are escapes: nothing interpolates.
      return `my $REQUEST = '${requestJson.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}';`;
    case 'julia':
      // Julia interpolates $ inside double quotes.
      return `REQUEST = ${jsonStringLiteral(requestJson).replaceAll('$', '\\$')}`;
    case 'ruby':
      // Ruby interpolates #{...}, #@var and #$var inside double quotes.
      return `REQUEST = ${jsonStringLiteral(requestJson).replaceAll('#', '\\#')}`;
    case 'r':
      return `REQUEST <- ${jsonStringLiteral(requestJson)}`;
    default:
      return `REQUEST = ${jsonStringLiteral(requestJson)}`;
  }
}

export function requestCode(language: string, requestJson: string, cellSource: string): RequestCode {
  const lang = language.toLowerCase();
  // `from __future__` must be the first statement of the code it is in: such a cell keeps its own execution.
  if ((lang === 'python' || lang === '') && !/^\s*from\s+__future__\s+import\b/m.test(cellSource)) {
    const assignment = requestAssignment('python', requestJson);
    const joined = cellSource.startsWith('#') ? `${assignment}; ${cellSource}` : `${assignment}\n${cellSource}`;
    return { executions: [joined] };
  }
  return { executions: [requestAssignment(lang || 'python', requestJson), cellSource] };
}
