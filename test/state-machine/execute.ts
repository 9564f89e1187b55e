import * as fs from 'node:fs';
import * as path from 'node:path';
import { StateMachine } from '../../local/services/sfn-interpreter';

const FILE = path.join(__dirname, '../../state-machines/build-job.asl.json');
export const raw = fs.readFileSync(FILE, 'utf8');
/** The ASL with its ${Placeholders} filled, as the tests run it. */
export const definition = JSON.parse(raw.replace(/\$\{([A-Za-z]+)\}/g, 'local-$1'));
export const taskStates = Object.entries(definition.States as Record<string, { Type: string }>).filter(([, s]) => s.Type === 'Task').map(([n]) => n);

export type Tasks = Record<string, (input: Record<string, unknown>) => unknown>;
export const named = (name: string, message = name) => Object.assign(new Error(message), { name });
export const ok = { commandId: 'c', status: 'Success', exitCode: 0, outputTail: '', errorTail: '' };
/** A task whose callback never comes: its state's timeout ends it. */
export const never = () => new Promise(() => undefined);

export const defaults: Tasks = {
  'Acknowledge Job': () => ({ Payload: { status: 'InProgress' } }),
  'Store Build Environment': () => ({ Payload: { rejection: null } }),
  'Take Fleet Slot': () => ({ Payload: { granted: true, queued: false, waitedMs: 0, position: 0, line: null } }),
  // A job in line: the poller's handover after "Report Place In Line", and the wait's grant through the task token.
  'Report Place In Line': () => ({ jobId: 'job-q', nonce: 'n-q', renewAfterSeconds: 300 }),
  'Acknowledge Queued Continuation Job': () => ({ Payload: { status: 'InProgress' } }),
  'Wait For Fleet Slot': () => ({ granted: true, queued: true, waitedMs: 4000, position: 0, line: null }),
  'Launch Instance': () => ({ Payload: { instanceId: 'i-1', instanceType: 't3.medium', subnetId: null, launchedAt: 'now', capacitySource: 'launched', market: 'on-demand' } }),
  'Refill The Fleet': () => ({ StatusCode: 202, Payload: '' }),
  'Get Input Artifact URL': () => ({ Payload: { url: 'http://in', expiresAt: '2026-11-22T10:30:00Z', refreshAfter: '2026-11-22T10:05:00Z', secondaryUrls: '', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: '' } }),
  'Is Instance Ready?': () => ({ readyAt: '2026-11-22T10:01:00Z', buildWaitSeconds: 2700 }),
  'Run Build': () => ok,
  // The poller's handover, through the task token, and what follows a renewal.
  'Renew Job': () => ({ jobId: 'job-2', nonce: 'n-2', renewAfterSeconds: 2700 }),
  'Acknowledge Continuation Job': () => ({ Payload: { status: 'InProgress' } }),
  'Wait For Build': () => ok,
  'Get Output Upload URL': () => ({ Payload: { url: 'http://out', expiresAt: '2026-11-22T10:45:00Z', refreshAfter: '2026-11-22T10:20:00Z', secondaryUrls: '', exportsUrl: '', cacheUrl: '' } }),
  'Upload Output Artifact': () => ok,
  'Release Interrupted Instance': () => ({ TerminatingInstances: [{ InstanceId: 'i-1', CurrentState: { Name: 'shutting-down' } }] }),
  'Release Instance': () => ({ TerminatingInstances: [{ CurrentState: { Name: 'shutting-down' } }] }),
  'Free Fleet Slot': () => ({ Payload: { resumed: 0 } }),
  "Leave The Fleet's Line": () => ({ Payload: { resumed: 0 } }),
  // Hold on failure: reported, then held until a time already past (the Wait ends at once).
  'Report Failure And Hold': () => ({ Payload: { status: 'Failed', holdUntil: '2020-01-01T00:00:00.000Z', phases: {} } }),
  'Hold The Instance': () => ({}),
  'Report Result': (input) => ({ Payload: { status: 'reported', phases: {}, logUrl: null, input } }),
};

/**
 * Runs the real ASL (or a changed copy) with every Task state overridden (an un-overridden one would call AWS);
 * returns the calls made, each task's input, and the state Report Result received.
 */
export async function execute(overrides: Partial<Tasks>, input: Record<string, unknown>, asl: Record<string, unknown> = definition) {
  const calls: string[] = [];
  const inputs: { name: string; input: Record<string, unknown> }[] = [];
  expect(Object.keys(defaults).sort()).toEqual([...taskStates].sort());
  let reported: Record<string, unknown> | undefined;
  const handlers = Object.fromEntries(
    taskStates.map((name) => [
      name,
      async (taskInput: Record<string, unknown>) => {
        calls.push(name);
        inputs.push({ name, input: taskInput });
        if (name === 'Report Result') reported = (taskInput.Payload as { state: Record<string, unknown> }).state;
        return (overrides[name] ?? defaults[name])(taskInput);
      },
    ]),
  );
  const retryIntervalOverrides = Object.fromEntries(taskStates.map((n) => [n, 0]));
  const machine = new StateMachine(asl as never, { validationOptions: { checkArn: false } });
  const run = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
    context: { Execution: { Id: 'arn:exec', Name: 'job', StartTime: 'now' }, Task: { Token: 'token' } },
  });
  const output = (await run.result) as Record<string, unknown>;
  return { calls, inputs, reported: reported ?? {}, output };
}
