import './polyfills';
import { LocalCloud } from './cloud';
import { runJob } from './job';
import { REAL_TIME } from './bench/jobs';
(async () => {
  const cloud = await LocalCloud.start(REAL_TIME);
  for (let i = 0; i < 6; i++) {
    const s = await runJob(cloud, { source: '/work/main/examples/hello', command: 'true' });
    const ex = [...cloud.sfn.executions.values()].find((e) => e.name.startsWith(s.jobId))!;
    const t0 = s.timeline.startedEvent;
    console.log('exec start', ex.startDate.getTime() - t0);
    for (const e of ex.events) if (e.type.startsWith('State') || e.type.startsWith('Exec')) console.log(e.type, e.state?.name, e.timestamp - t0);
    const b = s.timeline.commands.find((c) => c.phase === 'build')!;
    console.log('build start', b.startedAt! - t0, 'dispatch', b.startedAt! - t0 - 5000);
  }
  await cloud.stop(); process.exit(0);
})();
