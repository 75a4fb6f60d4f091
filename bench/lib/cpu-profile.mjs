/**
 * Preload (`node --import`, plain JS: it loads before tsx) that writes a V8 CPU profile to
 * $BENCH_CPU_PROFILE_DIR (open it in Chrome DevTools or speedscope, or sum it with
 * bench/lib/profile-summary.ts). `--cpu-prof` itself is refused in NODE_OPTIONS, hence this.
 *
 * By default the whole process is profiled, to <pid>.cpuprofile when it exits. With
 * BENCH_CPU_PROFILE_ON_SIGNAL=1 nothing runs until SIGUSR2, and the next SIGUSR2 writes
 * <pid>-<n>.cpuprofile: a bench profiles its measured windows only, not the start-up.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  let running = false;
  let written = 0;
  const start = () => {
    session.post('Profiler.start');
    running = true;
  };
  // The in-thread inspector session answers synchronously, so this works in an exit handler.
  const stop = (name) => {
    if (!running) return;
    running = false;
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  if (process.env.BENCH_CPU_PROFILE_ON_SIGNAL === '1') {
    process.on('SIGUSR2', () => (running ? stop(`${process.pid}-${(written += 1)}`) : start()));
  } else {
    start();
    process.on('exit', () => stop(String(process.pid)));
  }
}
