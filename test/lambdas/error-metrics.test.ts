import { countingErrors, isExpectedError } from '../../lambdas/shared/error-metrics';
import { FAILURE_TYPES, NoFreeFleetSlotError } from '../../lambdas/shared/errors';
import { METRICS_STACK_VARIABLE } from '../../lambdas/shared/metric-names';
import { createMetrics } from '../../lambdas/shared/metrics';
import { lambdaEntries } from '../../lib/bundling';
import { STACK_ENV } from '../../local/bench/lambdas';
import { invoke } from '../fixtures/lambda';
import { dimensionsOf, printed, type Emf } from '../fixtures/metric-lines';

// Metric lines on for this file (test/setup/quiet-logs.ts turns them off).
const disabledBefore = process.env.POWERTOOLS_METRICS_DISABLED;
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
afterAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = disabledBefore;
});

const unexpectedIn = (lines: Emf[]) => Object.fromEntries(lines.filter((l) => 'UnexpectedErrors' in l).map((l) => [dimensionsOf(l), l]));

describe('a function\'s unexpected errors', () => {
  it('are the errors that are not the typed ones the state machine retries or catches', () => {
    for (const name of Object.keys(FAILURE_TYPES)) expect(isExpectedError(Object.assign(new Error('x'), { name }))).toBe(true);
    expect(isExpectedError(new NoFreeFleetSlotError('all slots taken'))).toBe(true);
    for (const err of [new Error('bug'), new TypeError('x is undefined'), Object.assign(new Error('slow down'), { name: 'ThrottlingException' }), 'a string', null, { name: 42 }]) {
      expect(isExpectedError(err)).toBe(false);
    }
  });

  it('count one UnexpectedErrors by stack and by function, flush what the function recorded, and rethrow', async () => {
    const m = createMetrics('launcher', { [METRICS_STACK_VARIABLE]: 'Builds' });
    const failing = countingErrors(m, async () => {
      m.add('coldLaunches', 1);
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    });
    let thrown: unknown;
    const lines = await printed(() => invoke(failing, {}, 'Builds-TasksLaunch-1A2B3C').catch((err: unknown) => (thrown = err)));
    expect((thrown as Error).name).toBe('ThrottlingException');
    const unexpected = unexpectedIn(lines);
    expect(Object.keys(unexpected).sort()).toEqual(['[["Stack","FunctionName"]]', '[["Stack"]]']);
    expect(unexpected['[["Stack"]]']).toMatchObject({ Stack: 'Builds', UnexpectedErrors: 1, ColdLaunches: 1 });
    expect(unexpected['[["Stack","FunctionName"]]']).toMatchObject({ Stack: 'Builds', FunctionName: 'Builds-TasksLaunch-1A2B3C', UnexpectedErrors: 1 });
  });

  it('leave out an expected error (a job joining its fleet\'s line) and a result', async () => {
    const m = createMetrics('launcher', { [METRICS_STACK_VARIABLE]: 'Builds' });
    const queued = countingErrors(m, async () => {
      throw new NoFreeFleetSlotError('every slot of fleet linux is taken');
    });
    expect(await printed(() => invoke(queued, {}).catch(() => undefined))).toEqual([]);
    const fine = countingErrors(m, async () => m.add('coldLaunches', 1) && 'ok');
    const lines = await printed(() => invoke(fine, {}));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ ColdLaunches: 1 });
    expect(lines[0]).not.toHaveProperty('UnexpectedErrors');
  });
});

describe('every function of the stack', () => {
  // Each handler as the stack configures it, with a logger that fails its first call: every handler starts with
  // logger.addContext(context), so each one throws an error of its own before it does anything else.
  const envBefore = { ...process.env };
  afterAll(() => {
    process.env = envBefore;
  });

  it.each(lambdaEntries())('%s counts an unexpected error by its name', async (entry) => {
    Object.assign(process.env, STACK_ENV, { POWERTOOLS_METRICS_DISABLED: 'false', [METRICS_STACK_VARIABLE]: 'Builds' });
    let handler: Parameters<typeof invoke>[0] | undefined;
    jest.isolateModules(() => {
      jest.doMock('../../lambdas/shared/logger', () => ({
        createLogger: () => ({
          addContext: () => {
            throw new Error('the logger failed');
          },
        }),
      }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require(`../../lambdas/${entry}/handler`) as { handler: Parameters<typeof invoke>[0] }).handler;
    });
    const lines = await printed(() => expect(invoke(handler!, {}, `Builds-${entry}`)).rejects.toThrow('the logger failed'));
    expect(unexpectedIn(lines)['[["Stack","FunctionName"]]']).toMatchObject({ Stack: 'Builds', FunctionName: `Builds-${entry}`, UnexpectedErrors: 1 });
  });
});
