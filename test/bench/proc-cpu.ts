import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of a PostgreSQL cluster: its postmaster (found by data directory) and every backend. */
export function postgresCpuSeconds(dataDir: string): number {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const parentOf = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
    } catch {
      return '';
    }
  };
  // As root, Kura runs the postmaster in its data directory with `-D /proc/self/cwd` (libs/embedded).
  const real = realpathSync(dataDir);
  const postmaster = procs.find((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.includes(dataDir) || (args[0].endsWith('/postgres') && readlinkSync(`/proc/${pid}/cwd`) === real);
    } catch {
      return false;
    }
  });
  if (!postmaster) return 0;
  let total = 0;
  for (const pid of procs) {
    if (pid !== postmaster && parentOf(pid) !== postmaster) continue;
    try {
      total += cpuSeconds(Number(pid));
    } catch {
      // exited between the listing and the read
    }
  }
  return total;
}
