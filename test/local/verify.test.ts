import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalCloud } from '../../local/cloud';
import { credentialsFor } from '../../local/iam/identity';
import { LOCAL_USER } from '../../local/iam/gate';
import { DEFAULT_IMAGE_ID, isReleased } from '../../local/services/ec2';
import { ARTIFACT_BUCKET } from '../../local/s3';
import { main } from '../../scripts/verify/main';

let cloud: LocalCloud;
let tmp: string;
let config: string;
/** The local cloud's own buckets, before verify runs. */
let ownBuckets: string[];

beforeAll(async () => {
  cloud = await LocalCloud.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-'));
  config = path.join(tmp, 'endpoints.json');
  const env = (service: string) => process.env[`AWS_ENDPOINT_URL_${service}`];
  // What a user's SDK configuration gives on an account: here, the local cloud's endpoints and the person at the keyboard.
  fs.writeFileSync(
    config,
    JSON.stringify({
      endpoints: { cloudformation: env('CLOUDFORMATION'), iam: env('IAM'), s3: env('S3'), codepipeline: env('CODEPIPELINE'), sfn: env('SFN') },
      credentials: credentialsFor(LOCAL_USER),
      region: 'us-east-1',
      pollMs: 100,
    }),
  );
  ownBuckets = await bucketNames();
  expect(ownBuckets).toContain(ARTIFACT_BUCKET);
});
afterAll(async () => {
  await cloud.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs verify as `npm run verify -- ARGS` would, collecting what it prints. */
async function verify(args: string[], signal?: AbortSignal): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(['--image-id', DEFAULT_IMAGE_ID, '--endpoint-config', config, ...args], { log: (l) => out.push(l), signal });
  return { code, out };
}

/** Lets the builds it set going come to rest (an abandoned build's execution, its events). */
async function settle(): Promise<void> {
  for (let settled = false; !settled; ) {
    await Promise.all([...cloud.sfn.executions.values()].map((e) => e.done));
    await cloud.bus.drain();
    settled = [...cloud.sfn.executions.values()].every((e) => e.status !== 'RUNNING');
  }
}

/** The buckets S3 holds, as the person at the keyboard lists them. */
async function bucketNames(): Promise<string[]> {
  const s3 = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, region: 'us-east-1', forcePathStyle: true, credentials: credentialsFor(LOCAL_USER) });
  const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name ?? '') ?? [];
  s3.destroy();
  return buckets.sort();
}

/**
 * Nothing verify created is left: no pipeline, no role, no bucket but the local cloud's own (its artifact store and the
 * stack's buckets, there before verify ran), no instance running.
 */
async function expectNothingLeft(): Promise<void> {
  expect([...cloud.ec2.instances.values()].filter((i) => !isReleased(i)).map((i) => i.instanceId)).toEqual([]);
  expect(cloud.user.pipelines.names()).toEqual([]);
  expect([...cloud.user.iam.roles.keys()]).toEqual([]);
  expect(await bucketNames()).toEqual(ownBuckets);
}

const PHASES = ['queued', 'instance ready', 'build', 'upload', 'result'];

describe('npm run verify against the local cloud', () => {
  it('runs examples/hello through a throwaway pipeline, prints every phase and deletes what it created', async () => {
    const listeners = process.listenerCount('SIGINT');
    const { code, out } = await verify([]);
    expect(out).toContain('pipeline execution: Succeeded');
    expect(code).toBe(0);
    for (const phase of PHASES) expect(out).toContainEqual(expect.stringMatching(new RegExp(`^  ${phase}: +\\d+\\.\\d s$`)));
    expect(out).toContainEqual(expect.stringMatching(/^Step Functions execution: arn:aws:states:us-east-1:000000000000:execution:/));
    expect(out.filter((l) => l.startsWith('deleted '))).toHaveLength(5);
    // Ctrl-C and SIGTERM are handled while it runs, and only then.
    expect(process.listenerCount('SIGINT')).toBe(listeners);
    await settle();
    await expectNothingLeft();
  });

  it('reports a failed build with exit status 1 and still deletes everything', async () => {
    const { code, out } = await verify(['--command', 'echo broken; exit 3']);
    expect(code).toBe(1);
    expect(out).toContain('pipeline execution: Failed');
    expect(out).toContainEqual(expect.stringMatching(/^build failed: JobFailed: /));
    expect(out).toContainEqual(expect.stringMatching(/^ {2}queued: +\d+\.\d s$/));
    await settle();
    await expectNothingLeft();
  });

  it('deletes everything when interrupted while the build runs, stopping and abandoning the execution', async () => {
    const interrupt = new AbortController();
    cloud.hooks.onState = (_execution, event) => {
      if (event.type === 'StateEntered' && event.state?.name === 'Launch Instance') interrupt.abort();
    };
    try {
      const { code, out } = await verify([], interrupt.signal);
      expect(code).toBe(1);
      expect(out).toContain('verify: interrupted; deleting what was created');
      expect(out).toContainEqual(expect.stringMatching(/^deleted execution .* \(stopped and abandoned if still running\)$/));
    } finally {
      delete cloud.hooks.onState;
    }
    await settle();
    await expectNothingLeft();
  });

  it('refuses a bad command line with exit status 2, creating nothing', async () => {
    const out: string[] = [];
    expect(await main(['--instance-type', 'c7i.large'], { log: (l) => out.push(l) })).toBe(2);
    expect(out[0]).toMatch(/--image-id is required/);
    await expectNothingLeft();
  });
});
