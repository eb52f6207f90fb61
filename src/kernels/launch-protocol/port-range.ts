// The `{port_range}` handed to launchers (`lower..upper`, `0..0` for any port), with the rules
// Enterprise Gateway and its launchers apply: ports 1024-65535, and a range of at least 1000
// ports (launch_ipykernel.py refuses smaller ones unless MIN_PORT_RANGE_SIZE says otherwise).
export interface PortRange {
  lower: number;
  upper: number;
}

export const ANY_PORT: PortRange = { lower: 0, upper: 0 };
const MIN_RANGE_SIZE = 1000;

/** What is wrong with a port range text, or undefined when it is usable. */
export function portRangeProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'a port range lower..upper';
  const m = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  if (!m) return "a port range 'lower..upper' (0..0: any port)";
  const lower = Number(m[1]);
  const upper = Number(m[2]);
  if (lower === 0 && upper === 0) return undefined;
  if (lower < 1024 || upper > 65535) return 'a port range within 1024..65535 (or 0..0)';
  if (upper - lower < MIN_RANGE_SIZE) return `a port range of at least ${MIN_RANGE_SIZE} ports, lower < upper (the launchers refuse smaller ones)`;
  return undefined;
}

/** Parses a range portRangeProblem accepted. */
export function parsePortRange(text: string): PortRange {
  const [lower, upper] = text.trim().split('..').map(Number) as [number, number];
  return { lower, upper };
}

export function formatPortRange(range: PortRange): string {
  return `${range.lower}..${range.upper}`;
}
