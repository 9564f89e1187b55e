import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthesizeStack, type CfnTemplate } from './synthesized';

// cfn-lint (https://github.com/aws-cloudformation/cfn-lint) checks the synthesized template against
// CloudFormation's resource schemas and its own rules: what CloudFormation would refuse at deploy time.
// Its exit code is a bit mask: 2 errors, 4 warnings, 8 informational; an unparsable or missing template is
// itself an error match (E0000, E0003). With `--format json` each match carries its Level.

interface Match {
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: (string | number)[] | null };
}

/**
 * Warnings accepted on purpose, each with why. Any other warning fails the suite, like an error: a
 * warning of cfn-lint is often a real problem (an invalid IAM action, an unused parameter, a deprecated runtime).
 */
const acceptedWarnings: Record<string, string> = {
  // CDK makes each function depend on its role's default policy and on the role itself; the GetAtt on the
  // role already orders them, so the extra DependsOn is redundant but harmless.
  W3005: 'CDK adds DependsOn on the role that Properties.Role already references',
};

const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
// A pyenv shim without cfn-lint behind it exits 127: that is "not installed" too.
const installed = !version.error && version.status === 0;
if (!installed) {
  console.warn(`cfn-lint is not installed, so the synthesized template was NOT linted (${version.error?.message ?? version.stderr.trim()}). Install it with \`pip install cfn-lint\`.`);
}

const describe_ = installed ? describe : describe.skip;
const show = (m: Match) => `${m.Rule.Id} ${(m.Location.Path ?? []).join('/')}: ${m.Message}`;

/** Runs cfn-lint on `template` written to a temp file; `failure` says why it could not lint, with its output. */
function lint(template: object): { matches: Match[]; status: number | null; failure?: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  const file = path.join(dir, 'Ec2BuildAction.template.json');
  try {
    fs.writeFileSync(file, JSON.stringify(template, null, 1));
    const run = spawnSync('cfn-lint', ['--format', 'json', file], { encoding: 'utf8', timeout: 120_000 });
    let matches: Match[] = [];
    let failure: string | undefined;
    try {
      matches = JSON.parse(run.stdout) as Match[];
    } catch {
      failure = 'unreadable output';
    }
    // exit 1 (Python's exit on an uncaught exception) or a signal means cfn-lint itself failed, whatever it printed
    if (run.error || run.status === null || run.status === 1) failure = `exit ${run.status} ${run.error?.message ?? ''}`;
    return { matches, status: run.status, failure: failure && `${failure}\n${run.stdout}\n${run.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const errorsOf = (result: ReturnType<typeof lint>) => ({
  errors: result.matches.filter((m) => m.Level === 'Error').map(show),
  // bit 2 of the exit code is set exactly when there are errors; both must agree with the JSON
  errorBit: ((result.status ?? 0) & 2) !== 0,
});

describe_(`cfn-lint${installed ? ` (${version.stdout.trim()})` : ': skipped, not installed'}`, () => {
  let template: CfnTemplate;
  let result: ReturnType<typeof lint>;

  beforeAll(() => {
    template = synthesizeStack();
    result = lint(template);
    const accepted = result.matches.filter((m) => m.Level === 'Warning' && m.Rule.Id in acceptedWarnings);
    const counts = [...new Set(accepted.map((m) => m.Rule.Id))].map((id) => `${id} x${accepted.filter((m) => m.Rule.Id === id).length} (${acceptedWarnings[id]})`);
    if (counts.length) console.warn(`cfn-lint: accepted warnings: ${counts.join('; ')}`);
  });

  it('lints the template (cfn-lint ran to the end and printed its findings)', () => {
    expect(result.failure).toBeUndefined();
  });

  it('finds no error in the synthesized template', () => {
    expect(errorsOf(result)).toEqual({ errors: [], errorBit: false });
  });

  it('finds no warning other than those accepted above, with their reasons', () => {
    const unexpected = result.matches.filter((m) => m.Level !== 'Error' && !(m.Rule.Id in acceptedWarnings));
    expect(unexpected.map(show)).toEqual([]);
  });

  it('would catch an error: a doctored copy with a property CloudFormation does not know fails', () => {
    // GIVEN the same template with a misspelt property on the state machine
    const doctored = structuredClone(template);
    const machine = Object.values(doctored.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine')!;
    machine.Properties = { ...machine.Properties, RoleArnn: 'arn:aws:iam::123456789012:role/x' };
    // THEN cfn-lint reports it as an error, with the exit code's error bit
    expect(errorsOf(lint(doctored))).toEqual({ errors: [expect.stringContaining('RoleArnn')], errorBit: true });
  });
});
