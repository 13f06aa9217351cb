/**
 * CPU time from the kernel's counters, so figures hold on a machine shared with other
 * work: user + system time of one process (/proc/<pid>/stat), and of the PostgreSQL
 * processes serving one database (the server forks one backend per connection).
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const TICK_MS = 10;

/** utime + stime in ms of one process, or undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces: the fields we want come after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/**
 * PostgreSQL's CPU for one database: its backends (the servers' pools, autovacuum
 * workers) plus the WAL writer, background writer and checkpointer, which every
 * database of the server shares. Other databases' backends (other people's work on
 * the machine) are left out. The shared processes are found by their process title
 * ("postgres: 15/main: walwriter"): pg_stat_activity hides their type from a role that
 * is not a superuser. Read per process id, so backends that start or end between two
 * readings count only their own share.
 */
export class PostgresCpu {
  private constructor(
    private readonly client: pg.Client,
    private readonly database: string,
    private readonly shared: number[],
  ) {}

  static async open(url: string): Promise<PostgresCpu> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PostgresCpu(client, new URL(url).pathname.slice(1), sharedPostgresProcesses());
  }

  async read(): Promise<Map<number, number>> {
    const { rows } = await this.client.query<{ pid: number }>(`select pid from pg_stat_activity where pid <> pg_backend_pid() and datname = $1`, [this.database]);
    const cpu = new Map<number, number>();
    for (const pid of [...rows.map((row) => row.pid), ...this.shared]) {
      const ms = processCpuMs(pid);
      if (ms !== undefined) cpu.set(pid, ms);
    }
    return cpu;
  }

  static spent(before: Map<number, number>, after: Map<number, number>): number {
    let total = 0;
    for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
    return total;
  }

  /** A count read on this reader's own connection, whose backend the CPU figures leave out. */
  async count(query: string): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(query);
    return Number(rows[0]?.n ?? 0);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

function sharedPostgresProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let title: string;
    try {
      title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (/^postgres: .*(walwriter|background writer|checkpointer)/.test(title)) pids.push(Number(entry));
  }
  return pids;
}
