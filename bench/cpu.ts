/**
 * CPU time from the kernel's counters, so figures hold on a machine shared with other
 * work: user + system time of one process (/proc/<pid>/stat), and of the PostgreSQL
 * processes serving one database (the server forks one backend per connection).
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const TICK_MS = 10;

/** CPU time of a process in ms: all of it (user + system), and the kernel's part (system). */
export interface ProcessCpu {
  ms: number;
  systemMs: number;
}

/** utime + stime and stime in ms of one process, or undefined once it is gone. */
export function processCpu(pid: number): ProcessCpu | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces: the fields we want come after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS, systemMs: Number(fields[12]) * TICK_MS };
}

/** utime + stime in ms of one process, or undefined once it is gone. */
export const processCpuMs = (pid: number): number | undefined => processCpu(pid)?.ms;

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

  async read(): Promise<Map<number, ProcessCpu>> {
    const { rows } = await this.client.query<{ pid: number }>(`select pid from pg_stat_activity where pid <> pg_backend_pid() and datname = $1`, [this.database]);
    const cpu = new Map<number, ProcessCpu>();
    for (const pid of [...rows.map((row) => row.pid), ...this.shared]) {
      const used = processCpu(pid);
      if (used !== undefined) cpu.set(pid, used);
    }
    return cpu;
  }

  /** CPU ms spent between two readings. */
  static spent(before: Map<number, ProcessCpu>, after: Map<number, ProcessCpu>): number {
    return PostgresCpu.spentWithKernel(before, after).ms;
  }

  /** CPU ms spent between two readings, and the kernel's part of it (sockets, WAL flushes, waking processes). */
  static spentWithKernel(before: Map<number, ProcessCpu>, after: Map<number, ProcessCpu>): ProcessCpu {
    const spent = { ms: 0, systemMs: 0 };
    for (const [pid, used] of after) {
      spent.ms += used.ms - (before.get(pid)?.ms ?? 0);
      spent.systemMs += used.systemMs - (before.get(pid)?.systemMs ?? 0);
    }
    return spent;
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
