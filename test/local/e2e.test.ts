import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runJob, type JobOptions, type JobSummary } from '../../local/job';

const EXAMPLES = path.join(__dirname, '../../examples');
let cloud: LocalCloud;
let tmp: string;

beforeAll(async () => {
  cloud = await LocalCloud.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-'));
});
afterAll(async () => {
  await cloud.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every run keeps the promises: one result, every launched instance released. */
async function job(options: Partial<JobOptions>): Promise<JobSummary> {
  const summary = await runJob(cloud, { source: path.join(EXAMPLES, 'hello'), command: 'bash build.sh', ...options });
  expect(summary.jobResults).toBe(1);
  expect(summary.instancesReleased).toBe(summary.instancesLaunched);
  return summary;
}

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${String(condition)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function unzipList(zip: string): string[] {
  return execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
}

describe('local runner, end to end', () => {
  it('compiles the hello example and uploads the program as the output artifact', async () => {
    const out = path.join(tmp, 'hello.zip');
    const summary = await job({ outputPath: 'dist', out });
    expect(summary).toMatchObject({ status: 'Succeeded', instancesLaunched: 1, outputArtifact: out });
    expect(unzipList(out)).toEqual(['greeting.txt', 'hello']);
    const greeting = execFileSync('unzip', ['-p', out, 'greeting.txt'], { encoding: 'utf8' });
    expect(greeting).toBe('Hello, CodePipeline!\n');
  });

  it('times every phase of a job, in the summary, the execution\'s output and the runner\'s phases', async () => {
    const summary = await job({ command: 'sleep 1; bash build.sh', outputPath: 'dist' });
    const { phases } = summary;
    for (const [name, ms] of Object.entries(phases)) expect([name, typeof ms]).toEqual([name, 'number']);
    expect(phases.buildMs).toBeGreaterThanOrEqual(1000);
    // Phases follow each other: together they fit in the job's run.
    expect(Object.values(phases).reduce((a, b) => a! + b!, 0)).toBeLessThanOrEqual(summary.durationMs);
    expect(summary.successSummary).toMatch(/ Phases: queued \d+s, instance ready \d+s, input staged \d+s, build \d+s, output staged \d+s, released \d+s\./);
    // The summary links to the build's whole output too.
    expect(summary.successSummary).toContain(` Log: ${summary.logUrl!}`);
  });

  it('gives the build the pipeline\'s context in CODEPIPELINE_* variables, as CodeBuild does', async () => {
    // GIVEN a build that records its environment as its output
    const out = path.join(tmp, 'context.zip');
    // WHEN it runs
    const summary = await job({ command: 'env | grep ^CODEPIPELINE_ | sort > context.txt', outputPath: 'context.txt', out });
    // THEN it saw where it runs: the pipeline, its execution, the stage, the action, the job and the source's revision
    const seen = Object.fromEntries(
      execFileSync('unzip', ['-p', out, 'context.txt'], { encoding: 'utf8' }).trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    expect(seen).toEqual({
      CODEPIPELINE_ACTION_NAME: 'BuildOnEc2',
      CODEPIPELINE_JOB_ID: summary.jobId,
      CODEPIPELINE_PIPELINE_EXECUTION_ID: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      CODEPIPELINE_PIPELINE_NAME: expect.stringMatching(/^[A-Za-z0-9.@_-]{1,100}$/),
      CODEPIPELINE_SOURCE_REVISION: expect.stringMatching(/^[0-9a-f]{40}$/),
      CODEPIPELINE_STAGE_NAME: 'Build',
    });
  });

  it('streams the build\'s output to the stack\'s build log group, as the instance role allows the SSM agent', async () => {
    const summary = await job({ command: 'echo "built on $(uname -s)"' });
    const instanceId = summary.timeline.instances[0].instanceId;
    const groups = cloud.stack.resources('AWS::Logs::LogGroup').map(([id]) => cloud.stack.ref(id)).filter((g) => cloud.logs.streams(g).length);
    const streams = groups.flatMap((group) => cloud.logs.streams(group).map((stream) => ({ group, stream })));
    const stdout = streams.find((s) => s.stream.includes(`/${instanceId}/`) && s.stream.endsWith('/stdout'));
    expect(stdout?.group).toMatch(/BuilderBuildLogs/);
    expect(cloud.logs.events(stdout!.group, stdout!.stream)!.join('')).toContain('built on Linux');
  });

  it('leaves nothing of the build once its instance is terminated: the volume goes with it', async () => {
    const summary = await job({ outputPath: 'dist' });
    const instanceId = summary.timeline.instances[0].instanceId;
    const disk = cloud.ssm.diskOf(instanceId);
    // (the build ran there: its commands wrote the input, the build and output.zip to that disk)
    expect(summary.timeline.commands.filter((c) => c.instanceId === instanceId).map((c) => c.phase)).toEqual(['build', 'upload']);
    // THEN, terminated, its disk is gone
    await waitFor(() => cloud.ec2.instances.get(instanceId)?.state === 'terminated' && !fs.existsSync(disk));
  });

  it('reports a failing build as JobFailed with its exit code and last lines', async () => {
    const summary = await job({ command: 'echo compiling; echo "error: missing semicolon" >&2; exit 3' });
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'JobFailed' });
    expect(summary.failureMessage).toContain('exited with code 3');
    expect(summary.failureMessage).toContain('error: missing semicolon');
  });

  it('links a failed build\'s message to its whole output in the stack\'s log group, and ends the message with the end of the log', async () => {
    const summary = await job({ command: 'for i in $(seq 1 300); do echo "step $i"; done; echo "error: the last words" >&2; exit 4' });
    expect(summary.failureMessage).toMatch(/ Full log: https:\/\/[a-z0-9-]+\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=[a-z0-9-]+#logsV2:log-groups\/log-group\//);
    expect(summary.failureMessage!.endsWith('error: the last words')).toBe(true);
    // The link names the log group and the build command's streams, which hold the whole output (all 300 steps).
    const [, group, prefix] = summary.logUrl!.match(/log-group\/(.*)\$3FlogStreamNameFilter\$3D(.*)$/)!.map((p) => decodeURIComponent(p.replace(/\$25/g, '%')));
    expect(summary.failureMessage).toContain(summary.logUrl!);
    const stdout = cloud.logs.streams(group).find((s) => s.startsWith(prefix) && s.endsWith('/stdout'));
    const output = cloud.logs.events(group, stdout!)!.join('');
    expect(output).toContain('step 1\n');
    expect(output).toContain('step 300\n');
  });

  it('fails a multi-line command at its first failing line, not its last', async () => {
    const summary = await job({ command: 'false\necho "this line would succeed"' });
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'JobFailed' });
    expect(summary.failureMessage).not.toContain('this line would succeed');
  });

  it('runs commands with quotes, $, && and pipes as written', async () => {
    const command = `name="a b"; echo "it's \${name}" | tr a-z A-Z > shout.txt && test "$(cat shout.txt)" = "IT'S A B" && echo '$HOME stays literal' > lit.txt`;
    const out = path.join(tmp, 'quotes.zip');
    const summary = await job({ command, outputPath: 'lit.txt', out });
    expect(summary.status).toBe('Succeeded');
    expect(execFileSync('unzip', ['-p', out, 'lit.txt'], { encoding: 'utf8' })).toBe('$HOME stays literal\n');
  });

  it('handles source and working directories with spaces and non-ASCII names, and a single-file output', async () => {
    const source = path.join(tmp, 'my project — été');
    fs.mkdirSync(path.join(source, 'sub dir'), { recursive: true });
    fs.writeFileSync(path.join(source, 'sub dir', 'données.txt'), 'ça marche\n');
    const workdir = path.join(tmp, 'work dir ü');
    const out = path.join(tmp, 'single.zip');
    const summary = await job({ source, command: 'cat "sub dir/données.txt" > "résultat final.txt"', workingDirectory: workdir, outputPath: 'résultat final.txt', out });
    expect(summary.status).toBe('Succeeded');
    expect(unzipList(out)).toEqual(['résultat final.txt']);
    expect(fs.readFileSync(path.join(workdir, 'résultat final.txt'), 'utf8')).toBe('ça marche\n');
  });
});
