/**
 * Preload (`node --import`, plain JS: it loads before tsx) that writes a V8 CPU profile of the whole process when it exits,
 * to $BENCH_CPU_PROFILE_DIR/<pid>.cpuprofile (open it in Chrome DevTools or speedscope).
 * `--cpu-prof` itself is refused in NODE_OPTIONS, hence this.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  // The in-thread inspector session answers synchronously, so this works in an exit handler.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
