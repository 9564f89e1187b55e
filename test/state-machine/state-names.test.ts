import { AcknowledgeJobCommand, CodePipelineClient, InvalidNonceException } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { handler as acknowledge } from '../../lambdas/acknowledge/handler';
import { STEP_TITLES } from '../../lambdas/completion/outcome';
import { ACK_STATE } from '../../lambdas/execution-events/release';
import { STATES } from '../../lambdas/shared/renewal';
import { invoke } from '../fixtures/lambda';

/**
 * The state names (and the values) the code shares with state-machines/build-job.asl.json: the
 * functions find states by name in an execution's history, and messages name the step that failed.
 * Renaming a state in the ASL without the code, or the other way round, fails here.
 */
const ROOT = path.join(__dirname, '../..');
interface State {
  readonly Type: string;
  readonly Resource?: string;
  readonly Catch?: { ErrorEquals: string[]; ResultPath?: string }[];
  readonly Choices?: { StringEquals?: string }[];
}
const states = (JSON.parse(fs.readFileSync(path.join(ROOT, 'state-machines/build-job.asl.json'), 'utf8')) as { States: Record<string, State> }).States;
const names = Object.keys(states);
const has = (name: string) => [name, names.includes(name)];

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return rel === path.join('local', 'services') || e.name === 'models' ? [] : sources(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

describe('state names the code shares with the ASL', () => {
  it('has every step title that failure messages name', () => {
    for (const title of Object.values(STEP_TITLES)) expect(has(title)).toEqual([title, true]);
  });

  it('catches each step\'s error into $.errors.<step> in the state of that step\'s title, and into no other key', () => {
    for (const [step, title] of Object.entries(STEP_TITLES)) {
      const paths = (states[title]?.Catch ?? []).map((c) => c.ResultPath);
      expect([title, paths]).toEqual([title, expect.arrayContaining([`$.errors.${step}`])]);
    }
    const caughtInto = Object.values(states).flatMap((s) => (s.Catch ?? []).map((c) => c.ResultPath ?? ''));
    for (const p of caughtInto.filter((r) => r.startsWith('$.errors.'))) expect([p, Object.keys(STEP_TITLES).includes(p.slice('$.errors.'.length))]).toEqual([p, true]);
  });

  it('has the states the functions look for in an execution\'s history', () => {
    for (const name of [ACK_STATE, ...Object.values(STATES)]) expect(has(name)).toEqual([name, true]);
  });

  it('waits on a task token in the states whose token the poller and the command events resume', () => {
    for (const name of [STATES.renewJob, STATES.waitForBuild]) expect([name, states[name]?.Resource]).toEqual([name, expect.stringMatching(/\.waitForTaskToken$/)]);
  });

  it('compares the acknowledge function\'s answer for a job it does not own with the same word', async () => {
    const codepipeline = mockClient(CodePipelineClient);
    codepipeline.on(AcknowledgeJobCommand).rejects(new InvalidNonceException({ message: 'stale', $metadata: {} }));
    const { status } = await invoke(acknowledge, { jobId: 'j', nonce: 'old' }, 'acknowledge');
    codepipeline.restore();
    const compared = Object.values(states).flatMap((s) => (s.Choices ?? []).map((c) => c.StringEquals));
    expect(compared).toContain(status);
  });

  // Code that reads an execution's history by state name without one of the constants above: every
  // Title Case name of two or more words it holds must be a state (local/services, the simulated
  // Step Functions, holds none of this machine's names).
  it('has every state named as a literal by the code that reads execution histories', () => {
    const readsHistory = /stateExitedEventDetails|stateEnteredEventDetails|'StateEntered'|state\?\.name/;
    const files = ['lambdas', 'local', 'scripts'].flatMap(sources).filter((f) => readsHistory.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
    const found = files.flatMap((f) => [...fs.readFileSync(path.join(ROOT, f), 'utf8').matchAll(/'([A-Z][a-z]+(?: [A-Z][A-Za-z]*)+\??)'/g)].map((m) => [f, m[1]]));
    expect(found.length).toBeGreaterThan(0);
    for (const [file, name] of found) expect([file, name, names.includes(name)]).toEqual([file, name, true]);
  });
});
