import * as fs from 'node:fs';
import * as path from 'node:path';
import { decideOutcome } from '../../lambdas/completion/outcome';
import * as errors from '../../lambdas/shared/errors';
import { BuildActionError, CapacityError, FAILURE_TYPES, ReadinessRegistrationFailedError, ThrottledError } from '../../lambdas/shared/errors';
import type { CompletionInput } from '../../lambdas/shared/types';
import { buildJob, JOB_ID } from '../fixtures/job';

/**
 * One mapping from error to CodePipeline failure type (shared/errors.ts), and the names in it are the
 * ones the state machine retries and catches: renaming an error in the code or in the ASL fails here.
 */
type ErrorClass = new (message: never, options?: ErrorOptions) => Error;

/** Every error class errors.ts exports, with the `name` its instances carry at run time. */
const classes = Object.entries(errors)
  .filter(([, value]) => typeof value === 'function' && value.prototype instanceof BuildActionError)
  .map(([exported, value]) => ({ exported, Class: value as unknown as ErrorClass, name: new (value as unknown as ErrorClass)('probe' as never).name }));
const nameOf = (Class: ErrorClass) => new Class('probe' as never).name;

const asl = JSON.parse(fs.readFileSync(path.join(__dirname, '../../state-machines/build-job.asl.json'), 'utf8'));
interface Handler {
  readonly ErrorEquals: string[];
}
interface AslState {
  readonly Retry?: Handler[];
  readonly Catch?: Handler[];
  readonly Branches?: { States: Record<string, AslState> }[];
  readonly ItemProcessor?: { States: Record<string, AslState> };
  readonly Iterator?: { States: Record<string, AslState> };
}

/** Every Retry and Catch of every state, nested ones included. */
function handlers(states: Record<string, AslState>): { state: string; kind: 'Retry' | 'Catch'; names: string[] }[] {
  return Object.entries(states).flatMap(([state, s]) => [
    ...(s.Retry ?? []).map((r) => ({ state, kind: 'Retry' as const, names: r.ErrorEquals })),
    ...(s.Catch ?? []).map((c) => ({ state, kind: 'Catch' as const, names: c.ErrorEquals })),
    ...[...(s.Branches ?? []), ...(s.ItemProcessor ? [s.ItemProcessor] : []), ...(s.Iterator ? [s.Iterator] : [])].flatMap((b) => handlers(b.States)),
  ]);
}
const all = handlers(asl.States);
/** Step Functions' own names (States.*) and the service integrations' (Lambda.*, Ssm.*) have a prefix; ours do not. */
const ours = (name: string) => !name.includes('.');

describe('error names and failure types', () => {
  it('finds the error classes and the ASL handlers it checks (the checks below are not vacuous)', () => {
    expect(classes.length).toBeGreaterThanOrEqual(6);
    expect(all.flatMap((h) => h.names).filter(ours).length).toBeGreaterThan(0);
  });

  it('gives every error class a failure type, and the table names no error the code cannot throw', () => {
    expect(classes.map((c) => c.name).sort()).toEqual(Object.keys(FAILURE_TYPES).sort());
  });

  it('names each error with a literal of its own, not the class name the bundler may minify', () => {
    for (const { exported, name } of classes) {
      // The class name, or the state machine's shorter name for it (InstanceNotReadyError -> InstanceNotReady).
      expect([exported, exported.startsWith(name)]).toEqual([exported, true]);
      // Subclassed under another name (as minifying renames it), the name stays.
      const Class = classes.find((c) => c.exported === exported)!.Class;
      const Renamed = class extends (Class as unknown as new (m: string) => Error) {};
      expect(new Renamed('probe').name).toBe(name);
    }
  });

  it('passes a cause on through ErrorOptions, for every error class', () => {
    const cause = new Error('the SDK said no');
    for (const { exported, Class } of classes) expect([exported, new Class('probe' as never, { cause }).cause]).toEqual([exported, cause]);
  });

  it('retries or catches in the ASL, by name, only errors the code throws (besides States.* and the services\' own)', () => {
    const names = new Set(classes.map((c) => c.name));
    for (const h of all) for (const n of h.names.filter(ours)) expect([h.state, h.kind, n, names.has(n)]).toEqual([h.state, h.kind, n, true]);
  });

  it.each([
    ['Launch Instance', [CapacityError, ThrottledError]],
    // Its function registers the build and returns; the watcher settles the task (InstanceNotReady, AgentNotOnline after
    // its bound: not retried). Only a failed registration is the function's own, retried.
    ['Is Instance Ready?', [ReadinessRegistrationFailedError]],
  ] as [string, ErrorClass[]][])('retries, in "%s", the errors its function throws for the state machine to retry', (state, thrown) => {
    const retried = all.filter((h) => h.state === state && h.kind === 'Retry').flatMap((h) => h.names);
    for (const Class of thrown) expect(retried).toContain(nameOf(Class));
  });

  it('reports each typed error a step caught with the failure type of the one table', () => {
    for (const [name, type] of Object.entries(FAILURE_TYPES)) {
      const input: CompletionInput = {
        state: { jobId: JOB_ID, pipeline: { name: 'app', executionId: 'pe-1', stage: 'Build', action: 'Ec2' }, nonce: 'n', job: buildJob(), rejection: null, errors: { waitForInstance: { Error: name, Cause: JSON.stringify({ errorType: name, errorMessage: 'what happened' }) } } },
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Build:job',
        executionStartTime: '2026-01-01T00:00:00Z',
      };
      expect([name, decideOutcome(input)]).toEqual([name, expect.objectContaining({ status: 'Failed', failureType: type })]);
    }
  });
});
