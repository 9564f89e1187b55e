import * as unpatched from 'aws-local-stepfunctions';
import { StateMachine } from '../../local/services/sfn-interpreter';

/**
 * The interpreter's type tests as the States language defines them: the boolean given is compared with the
 * variable's null-ness or presence (https://states-language.net/spec.html#choice-state). The build ASL routes fleet
 * jobs with `"IsNull": false`.
 */
const choice = (rule: Record<string, unknown>) => ({
  StartAt: 'C',
  States: { C: { Type: 'Choice', Choices: [{ ...rule, Next: 'Y' }], Default: 'N' }, Y: { Type: 'Pass', Result: 'matched', End: true }, N: { Type: 'Pass', Result: 'default', End: true } },
});

async function outcome(Machine: typeof StateMachine, rule: Record<string, unknown>, input: unknown): Promise<unknown> {
  return new Machine(choice(rule) as never, { validationOptions: { checkArn: false } }).run(input as never).result;
}

describe('the local ASL interpreter (patched)', () => {
  it.each([
    [{ Variable: '$.a', IsNull: false }, { a: { b: 1 } }, 'matched'],
    [{ Variable: '$.a', IsNull: false }, { a: null }, 'default'],
    [{ Variable: '$.a', IsNull: true }, { a: null }, 'matched'],
    [{ Variable: '$.a', IsNull: true }, { a: 1 }, 'default'],
    [{ Variable: '$.a', IsPresent: false }, {}, 'matched'],
    [{ Variable: '$.a', IsPresent: false }, { a: 1 }, 'default'],
    [{ Variable: '$.a', IsPresent: true }, { a: null }, 'matched'],
  ])('%j on %j goes to %s', async (rule, input, expected) => {
    expect(await outcome(StateMachine, rule, input)).toBe(expected);
  });

  it('fixes what the unpatched interpreter gets wrong (IsNull false never matches)', async () => {
    expect(await outcome(unpatched.StateMachine as never, { Variable: '$.a', IsNull: false }, { a: 1 })).toBe('default');
    expect(await outcome(StateMachine, { Variable: '$.a', IsNull: false }, { a: 1 })).toBe('matched');
  });

  it('gives each state its entered time and name in the Context object ($$.State), which a ResultSelector reads', async () => {
    const definition = {
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Parameters: { 'name.$': '$$.State.Name', 'enteredAt.$': '$$.State.EnteredTime' }, ResultPath: '$.first', Next: 'Second' },
        Second: { Type: 'Pass', Parameters: { 'name.$': '$$.State.Name', 'enteredAt.$': '$$.State.EnteredTime' }, ResultPath: '$.second', End: true },
      },
    };
    const before = Date.now();
    const run = (Machine: typeof StateMachine) => new Machine(definition as never, { validationOptions: { checkArn: false } }).run({}).result as Promise<Record<string, { name: string; enteredAt: string }>>;
    const out = await run(StateMachine);
    expect([out.first.name, out.second.name]).toEqual(['First', 'Second']);
    for (const s of [out.first, out.second]) expect(Date.parse(s.enteredAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(out.second.enteredAt)).toBeGreaterThanOrEqual(Date.parse(out.first.enteredAt));
    await expect(run(unpatched.StateMachine as never)).rejects.toThrow();
  });
});
