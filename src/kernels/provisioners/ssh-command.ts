// Building the command an SSH host runs, so that nothing a client sends can become shell: every
// word is single-quoted for the remote shell (the one place ' must be written '\''), variable
// names are checked, and the command is `exec env NAME=value ... argv`, one quoted word each.
// Enterprise Gateway once pasted KERNEL_* values into the remote command line unquoted.
import { ProvisionerConfigError } from '../../errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One word for a POSIX shell, taken literally whatever it holds. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `exec env 'A=1' ... 'argv0' 'argv1' ...` for the remote login shell. */
export function remoteCommand(env: Record<string, string>, argv: string[]): string {
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!NAME.test(name)) throw new ProvisionerConfigError(`${JSON.stringify(name)} cannot be an environment variable name on a remote host`);
    return shellQuote(`${name}=${value}`);
  });
  return ['exec', 'env', ...assignments, ...argv.map(shellQuote)].join(' ');
}
