import type { LocalCloud } from '../../local/cloud';
import { whenNeverPickedUp, type NotPickedUp } from '../../local/job-pickup';

/**
 * The runner's bound on a job nobody starts: 10 s while no poll took it, and while polls keep taking it (each offer of
 * a job whose start failed), six times that from the last take, up to 15 failed takes. Driven by a fake cloud and
 * jest's clock, so that a loaded machine's spacing of offers is played out exactly.
 */
const JOB = 'job-1';
const BOUND_MS = 10_000;

interface FakeCloud {
  takes: number;
  status: string;
  executions: Map<string, { name: string }>;
}

function fakeCloud(): { fake: FakeCloud; cloud: LocalCloud } {
  const fake: FakeCloud = { takes: 0, status: 'Queued', executions: new Map() };
  const cloud = {
    sfn: { executions: fake.executions },
    codepipeline: { takesOf: () => fake.takes, statusOf: () => fake.status },
    authorizer: { denials: [] },
    functionErrors: [],
  } as unknown as LocalCloud;
  return { fake, cloud };
}

/** Whether the bound resolved, and with what. */
function watch(cloud: LocalCloud) {
  const seen: { result?: NotPickedUp } = {};
  const { promise, cancel } = whenNeverPickedUp(cloud, JOB, BOUND_MS);
  void promise.then((r) => (seen.result = r));
  return { seen, cancel };
}

/** Advances the clock and lets the bound's promise settle. */
async function advance(ms: number) {
  await jest.advanceTimersByTimeAsync(ms);
}

/** One offer taken by a poll whose start failed: CodePipeline offers the job again after its dispatch timeout. */
async function failedTake(fake: FakeCloud, gapMs: number) {
  fake.takes += 1;
  fake.status = 'Dispatched';
  await advance(gapMs);
  fake.status = 'Queued';
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('gives up on a job no poll took after the bound, and says no poll took it', async () => {
  const { cloud } = fakeCloud();
  const { seen } = watch(cloud);
  await advance(BOUND_MS - 200);
  expect(seen.result).toBeUndefined();
  await advance(400);
  expect(seen.result?.message).toMatch(/no build execution started for it within 10 s and no poll ever took it/);
});

it('waits for a job whose offers keep being taken, however far apart a loaded machine spaces them', async () => {
  const { fake, cloud } = fakeCloud();
  const { seen, cancel } = watch(cloud);
  // GIVEN four failed takes 40 s apart (160 s, well past the old fixed 60 s)
  for (let i = 0; i < 4; i++) await failedTake(fake, 40_000);
  expect(seen.result).toBeUndefined();
  // WHEN the fifth take starts the execution
  fake.takes += 1;
  fake.executions.set('x', { name: `${JOB}-nonce` });
  await advance(10 * BOUND_MS);
  // THEN the runner never gave up on it
  expect(seen.result).toBeUndefined();
  cancel();
});

it('gives up six bounds after the last take when no poll takes the job again', async () => {
  const { fake, cloud } = fakeCloud();
  const { seen } = watch(cloud);
  // GIVEN a first take at 5 s, and a second at 25 s whose start fails too
  await advance(5_000);
  await failedTake(fake, 20_000);
  await failedTake(fake, 5_000);
  // THEN the runner waits past six bounds from the first take (65 s), and gives up six bounds after the last (85 s)
  await advance(6 * BOUND_MS - 5_000 - 300);
  expect(seen.result).toBeUndefined();
  await advance(500);
  expect(seen.result?.message).toMatch(/, though polls took it 2 times\./);
});

it('gives up on a poller that fails every time after 15 failed takes, however quickly they come', async () => {
  const { fake, cloud } = fakeCloud();
  const { seen } = watch(cloud);
  for (let i = 0; i < 14; i++) await failedTake(fake, 5_000);
  expect(seen.result).toBeUndefined();
  await failedTake(fake, 5_000);
  await advance(200);
  expect(seen.result?.message).toMatch(/though polls took it 15 times/);
});

it('gives up when a 16th take comes before a look saw the 15th offered again', async () => {
  const { fake, cloud } = fakeCloud();
  const { seen } = watch(cloud);
  for (let i = 0; i < 15; i++) await failedTake(fake, 5_000);
  // a poll that takes the job again within the same look's interval: the runner never sees it Queued
  fake.takes += 1;
  fake.status = 'Dispatched';
  await advance(200);
  expect(seen.result?.message).toMatch(/though polls took it 16 times/);
});

it('does not give up while the 15th take is still starting its execution', async () => {
  const { fake, cloud } = fakeCloud();
  const { seen, cancel } = watch(cloud);
  for (let i = 0; i < 14; i++) await failedTake(fake, 5_000);
  fake.takes += 1;
  fake.status = 'Dispatched';
  await advance(4_000);
  expect(seen.result).toBeUndefined();
  cancel();
});
