// Which SSH host the next kernel goes to (Enterprise Gateway's load_balancing_algorithm):
// round-robin takes the hosts in turn; least-connection the host running the fewest of this
// gateway's kernels, ties in list order. Both give an order to try: a host that is down is
// skipped for the next one.
export type BalancingAlgorithm = 'round-robin' | 'least-connection';

export class HostBalancer {
  private next = 0;
  private readonly running = new Map<string, number>();

  constructor(
    readonly hosts: string[],
    private readonly algorithm: BalancingAlgorithm,
  ) {}

  /** The hosts in the order a new kernel should try them. */
  order(): string[] {
    if (this.algorithm === 'least-connection') {
      return this.hosts.map((h, i) => ({ h, i, n: this.running.get(h) ?? 0 })).sort((a, b) => a.n - b.n || a.i - b.i).map((x) => x.h);
    }
    const start = this.next % this.hosts.length;
    this.next = (this.next + 1) % this.hosts.length;
    return [...this.hosts.slice(start), ...this.hosts.slice(0, start)];
  }

  /** Whether a host is one of remote_hosts (a stored record may name no other). */
  knows(host: string): boolean {
    return this.hosts.includes(host);
  }

  acquire(host: string): void {
    this.running.set(host, (this.running.get(host) ?? 0) + 1);
  }

  release(host: string): void {
    const n = (this.running.get(host) ?? 1) - 1;
    if (n > 0) this.running.set(host, n);
    else this.running.delete(host);
  }
}
