import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Interpreter from 'aws-local-stepfunctions';

/**
 * aws-local-stepfunctions 3.0.0, with two fixes applied as it is loaded.
 *
 * First, its type tests (IsNull, IsPresent) pass only when their value is true: `"IsNull": false` never matches, where
 * the States language compares the variable's null-ness (presence) with the boolean given ("IsNull", "IsPresent" and
 * the other type tests take a boolean: https://states-language.net/spec.html#choice-state,
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html#amazon-states-language-choice-state-rules).
 *
 * Second, it resolves a Task state's
 * TimeoutSecondsPath against the state's effective parameters (after Parameters), where the
 * States language resolves it against the state's input ("specify the timeout dynamically from the
 * state input using a reference path": TimeoutSecondsPath in
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html; a Reference Path to a
 * positive integer: https://states-language.net/spec.html#task-state). The fix hands the state's
 * raw input to the timeout. Whether InputPath applies first is not spelled out; the build ASL has
 * no InputPath on its Task states, so both readings give the same timeout.
 *
 * Third, it gives no state its part of the Context object: `$$.State.EnteredTime` and `$$.State.Name`, which a
 * JSONPath state may read from Parameters and ResultSelector among others
 * (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html: "State": { "EnteredTime":
 * ISO 8601, "Name", "RetryCount" }), were missing, and a path to them failed the state. The fix sets both as each
 * state is entered; RetryCount is left out (the interpreter does not count a state's retries where the context sees
 * them), so that a definition reading it fails here, loudly, rather than reading a wrong 0.
 *
 * Each patch names the exact text it replaces: an interpreter release that changes it fails here,
 * loudly, instead of running unpatched.
 */
export const PATCHES: readonly { readonly from: string; readonly to: string }[] = [
  { from: 'return isNullTrue && varValue === null;', to: 'return isNullTrue === (varValue === null);' },
  { from: 'return IsPresentTrue && varValue !== void 0;', to: 'return IsPresentTrue === (varValue !== void 0);' },
  {
    from: 'const executionResult = await taskStateAction.execute(input, context, { overrideFn, awsConfig });',
    to: 'const executionResult = await taskStateAction.execute(input, context, { overrideFn, awsConfig, timeoutInput: rawInput });',
  },
  {
    from: 'const timeoutMs = this.getTimeoutMs(input, context);',
    to: 'const timeoutMs = this.getTimeoutMs(options.timeoutInput ?? input, context);',
  },
  {
    from: 'options.eventLogger.dispatchStateEnteredEvent(currStateName, currState.Type, currInput);',
    to: 'options.eventLogger.dispatchStateEnteredEvent(currStateName, currState.Type, currInput); context.State = { EnteredTime: new Date().toISOString(), Name: currStateName };',
  },
];

/**
 * Evaluates the patched CommonJS source in this realm with this module's require, so that it sees
 * the same globals (and polyfills) and the same module registry as an ordinary import would.
 */
function loadPatched(): typeof Interpreter {
  const entry = require.resolve('aws-local-stepfunctions');
  let source = fs.readFileSync(entry, 'utf8');
  for (const { from, to } of PATCHES) {
    if (source.split(from).length !== 2) throw new Error(`aws-local-stepfunctions at ${entry} is not the version this patch was written for: "${from}" is not there exactly once`);
    source = source.replace(from, to);
  }
  const module = { exports: {} as Record<string, unknown> };
  // Resolved from the interpreter's own folder: it has nested dependencies (its own asl-validator).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS require is what the evaluated source expects
  const localRequire = (id: string): unknown => require(require.resolve(id, { paths: [path.dirname(entry)] }));
  // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call -- evaluating the patched source is this function's job (see above)
  new Function('exports', 'require', 'module', '__filename', '__dirname', source)(module.exports, localRequire, module, entry, path.dirname(entry));
  return module.exports as unknown as typeof Interpreter;
}

const interpreter = loadPatched();

export const StateMachine = interpreter.StateMachine;
export type StateMachine = Interpreter.StateMachine;
