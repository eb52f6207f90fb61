// The code that sets REQUEST must be injection-proof. Hostile payloads are embedded as the
// gateway embeds them and handed to a real Python parser (python3, no kernel): each program must
// be one assignment plus the cell, and REQUEST must come back as exactly the text sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pythonJsonDumps, requestAssignment, requestCode } from '../../../src/personalities/notebook-http/request-code.js';

export const HOSTILE_TEXTS = [
  'plain',
  '"; PWNED = 1; "',
  "'; PWNED = 1; '",
  "'''; PWNED = 1; '''",
  '"""; PWNED = 1; """',
  '\\"; PWNED = 1; #',
  '\\',
  'ends with a backslash \\',
  'new\nline\r\nand\ttab\u000b\f\b',
  '\n"\nPWNED = 1\n"',
  'nul \u0000 byte',
  'unicode: héllo wörld — 𝄞 😀 עברית \u2028 \u2029 \ufeff',
  '\\u0022; PWNED = 1; \\u0022',
  '\\N{QUOTATION MARK}; PWNED = 1',
  '{__import__("os").system("echo PWNED")}',
  '$(echo PWNED) `echo PWNED` ${PWNED} #{PWNED} #@x #$y @{[ die ]}',
];

const CELL = '# POST /echo\nprint(len(REQUEST))';

function runPython(script: string, input: string): string {
  const r = spawnSync('python3', ['-c', script], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('Python: one execution whose only statements are the assignment and the cell; REQUEST round-trips', () => {
  const programs = HOSTILE_TEXTS.map((text) => {
    const json = JSON.stringify({ body: text, args: { [text]: [text] }, path: {}, headers: { 'X-H': text } });
    const { executions } = requestCode('python', json, CELL);
    assert.equal(executions.length, 1, 'one execution per request');
    assert.equal(executions[0]!.split('\n').length, CELL.split('\n').length, 'the cell keeps its line numbers');
    return { json, code: executions[0]! };
  });
  const checker = `
import ast, json, sys
out = []
for case in json.load(sys.stdin):
    tree = ast.parse(case['code'])
    first = tree.body[0]
    ok = (len(tree.body) == 2 and isinstance(first, ast.Assign) and len(first.targets) == 1
          and first.targets[0].id == 'REQUEST' and isinstance(first.value, ast.Constant))
    ns = {'print': lambda *a, **k: None}
    exec(compile(tree, '<cell>', 'exec'), ns)
    out.append({'shape_ok': ok, 'same': ns['REQUEST'] == case['json'], 'pwned': 'PWNED' in ns})
print(json.dumps(out))
`;
  const results = JSON.parse(runPython(checker, JSON.stringify(programs))) as { shape_ok: boolean; same: boolean; pwned: boolean }[];
  results.forEach((r, i) => assert.deepEqual(r, { shape_ok: true, same: true, pwned: false }, `payload ${JSON.stringify(HOSTILE_TEXTS[i])}`));
});

test('Python: a cell with a __future__ import keeps its own execution after the assignment', () => {
  const { executions } = requestCode('python', '{}', '# GET /x\nfrom __future__ import annotations\nprint(1)');
  assert.equal(executions.length, 2);
  assert.equal(executions[0], 'REQUEST = "{}"');
});

// The gateway embeds REQUEST's JSON text, which has no raw control characters.
const asJson = (text: string): string => JSON.stringify({ body: text, headers: { 'X-H': text } });

test('Bash: single-quoted, so $(...) and backticks stay text', () => {
  for (const text of HOSTILE_TEXTS.map(asJson)) {
    const stmt = requestAssignment('bash', text);
    const r = spawnSync('bash', ['-c', `${stmt}\nprintf '%s' "$REQUEST"`], { encoding: 'utf8' });
    assert.equal(r.stdout, text, `payload ${JSON.stringify(text)}`);
  }
});

test('Perl: single-quoted with only \\\\ and \\\' escaped', () => {
  const have = spawnSync('perl', ['-e', '1']);
  if (have.error) return;
  for (const text of HOSTILE_TEXTS.map(asJson)) {
    const r = spawnSync('perl', ['-e', `${requestAssignment('perl', text)} binmode(STDOUT); print $REQUEST;`], { encoding: 'utf8' });
    assert.equal(r.stdout, text, `payload ${JSON.stringify(text)}`);
  }
});

test('other languages: the interpolation characters of Julia and Ruby are escaped; non-Python kernels run the assignment on its own', () => {
  assert.equal(requestAssignment('julia', '$(x)'), 'REQUEST = "\\$(x)"');
  assert.equal(requestAssignment('ruby', '#{x}'), 'REQUEST = "\\#{x}"');
  assert.equal(requestAssignment('r', 'a"b'), 'REQUEST <- "a\\"b"');
  assert.deepEqual(requestCode('scala', '{}', '// GET /x').executions, ['REQUEST = "{}"', '// GET /x']);
});

test("REQUEST's JSON is Python json.dumps' default: spaced separators, non-ASCII as \\uXXXX", () => {
  const request = { body: { text: 'téxt ☃ 𝄞', n: [1, 2.5, null, true] }, args: {}, path: {}, headers: { 'Content-Type': 'application/json' } };
  const text = pythonJsonDumps(request);
  assert.equal(text, '{"body": {"text": "t\\u00e9xt \\u2603 \\ud834\\udd1e", "n": [1, 2.5, null, true]}, "args": {}, "path": {}, "headers": {"Content-Type": "application/json"}}');
  assert.match(text, /^[\x20-\x7e]*$/, 'ASCII only');
  assert.deepEqual(JSON.parse(text), request);
});
