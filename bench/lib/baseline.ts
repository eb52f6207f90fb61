// `--baseline=REV`: this gateway as it was at a git revision, measured in the same run as the
// working tree, interleaved like every other system. It is how a change's cost is read (metrics
// on the hot path, a refactor): two builds side by side on the same loaded machine, rather than
// two runs an hour apart.
//
// The revision's files are exported with `git archive` into the bench's temporary root and
// compiled there with this checkout's TypeScript; its node_modules is this checkout's, so a
// revision that needs a dependency this one lacks does not build (the report says so).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BaselineBuild {
  /** The revision as given and its short hash, e.g. "86a0b5f~1 (21afad4)". */
  label: string;
  /** Its bin/kernel-gateway.js. */
  bin: string;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-10).join('\n')}`);
  return r.stdout;
}

export function buildBaseline(repo: string, rev: string, root: string, log: (m: string) => void): BaselineBuild {
  // rev-parse refuses anything that is not a commit, so `rev` never reaches a shell as text.
  const hash = run('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], repo).trim();
  const short = hash.slice(0, 7);
  const dir = join(root, `baseline-${short}`);
  mkdirSync(dir, { recursive: true });
  log(`[bench] building the baseline ${rev} (${short}) in ${dir}`);
  const archive = spawnSync('git', ['archive', '--format=tar', hash], { cwd: repo, maxBuffer: 512 * 1024 * 1024 });
  if (archive.status !== 0) throw new Error(`git archive ${short} failed: ${archive.stderr.toString().trim()}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar -x failed: ${untar.stderr.toString().trim()}`);
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // Only src/ is needed to run it; its tests and bench would only slow the build down.
  writeFileSync(join(dir, 'tsconfig.baseline.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src/**/*.ts'] }));
  run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.baseline.json'], dir);
  const bin = join(dir, 'bin', 'kernel-gateway.js');
  if (!existsSync(bin)) throw new Error(`${short} has no bin/kernel-gateway.js`);
  return { label: rev === short || rev === hash ? short : `${rev} (${short})`, bin };
}
