import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCloud } from './cloud';
import { FAULTS, faultNamed, type Fault } from './faults';
import { runFault } from './fault-run';
import { outputPathOf, type JobOptions, type JobSummary } from './job';
import { ARTIFACT_NAME, checkDeclared, outputNamesOf, SOURCE_ARTIFACT } from './job-artifacts';
import { reporter } from './progress';
import { registeredActionTypes } from './services/pipeline-structure';
import { FleetValueError, parseFleets, type Fleet } from '../lambdas/shared/fleets';
import { formatPhases } from '../lambdas/shared/phases';

const USAGE = `usage: npm run local -- [options]
  --source DIR               directory zipped as the input artifact (default: examples/hello, unless --input)
  --input NAME=DIR           an input artifact named NAME, zipped from DIR (repeatable): beside --source, each
                             in its own directory (CODEPIPELINE_SRC_DIR_NAME); without --source, the first
                             is the primary one, unzipped into the working directory
  --command CMD              the action's Command (default: the example's build command)
  --working-directory DIR    the action's WorkingDirectory (default: a fresh temporary directory)
  --output-path PATH         the action's OutputArtifactPath (default: none): a path, or NAME=PATH,NAME=PATH
                             for several output artifacts, which the action then declares by those names
  --image-id ID              the action's ImageId (default: a simulated Amazon Linux AMI)
  --instance-type TYPE       the action's InstanceType (default: t3.medium)
  --timeout-minutes N        the action's TimeoutMinutes (default: 60)
  --property NAME=VALUE      any action property (repeatable); overrides the shorthand above for the same property
  --parameter NAME=VALUE     a SecureString parameter the local Parameter Store holds (repeatable), for
                             EnvironmentVariables of type PARAMETER_STORE; the stack lets builds read its path
  --secret NAME=VALUE        a secret the local Secrets Manager holds (repeatable), for SECRETS_MANAGER variables;
                             the stack lets builds read secrets named NAME
  --fleets FILE              deploy the stack with these fleets (JSON, as the context key ec2-build-action:fleets);
                             their pools are filled before the job; a job names one with --property Fleet=NAME
  --out FILE                 where to write the output artifact zip (several outputs: a directory, NAME.zip each)
  --runs N                   run the same job N times, one after another, in the same local cloud; the
                             summary and the exit status are the last run's (default: 1)
  --template FILE            the synthesized template whose functions, state machine, rules and IAM
                             policies the local cloud runs (its cloud assembly beside it; default:
                             the current stack, synthesized once per change)
  --fault NAME               inject a named fault (--list-faults lists them)
  --list-faults              list the faults and exit
  --json                     print a JSON summary as the last line of standard output
  --metrics FILE             write the metric lines the functions emit (CloudWatch embedded metric format,
                             one JSON object a line) to FILE
  --quiet                    no progress on standard error`;

const EXAMPLE = path.join(__dirname, '..', 'examples', 'hello');

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

/** A --fleets file, checked as the stack checks the context key: an error names the file and the setting. */
function readFleets(file: string): Record<string, Fleet> {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    usage(`--fleets must be a readable JSON file, got ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
  try {
    return parseFleets(value, path.basename(file));
  } catch (err) {
    if (err instanceof FleetValueError) usage(`--fleets: ${err.message}`);
    throw err;
  }
}

/** NAME=VALUE pairs of a repeatable option; a pair without a name is a usage error. */
function pairs(option: string, given: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of (given ?? []) as string[]) {
    const at = p.indexOf('=');
    if (at < 1) usage(`--${option} must be NAME=VALUE, got ${JSON.stringify(p)}`);
    out[p.slice(0, at)] = p.slice(at + 1);
  }
  return out;
}

/** The parent path of a parameter (/builds/token: /builds/); none for a name outside any path. */
const parentPath = (name: string) => (/^\/.+\//.test(name) ? name.slice(0, name.lastIndexOf('/') + 1) : null);

interface Values {
  readonly parameters: Record<string, string>;
  readonly secrets: Record<string, string>;
}

function parse(argv: string[]): { job: JobOptions; json: boolean; quiet: boolean; fault?: Fault; template?: string; runs: number; fleets?: Record<string, Fleet>; metrics?: string; values: Values } {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        source: { type: 'string' },
        command: { type: 'string' },
        'working-directory': { type: 'string' },
        'output-path': { type: 'string' },
        'image-id': { type: 'string' },
        'instance-type': { type: 'string' },
        'timeout-minutes': { type: 'string' },
        input: { type: 'string', multiple: true },
        property: { type: 'string', multiple: true },
        parameter: { type: 'string', multiple: true },
        secret: { type: 'string', multiple: true },
        runs: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        fault: { type: 'string' },
        template: { type: 'string' },
        fleets: { type: 'string' },
        metrics: { type: 'string' },
        'list-faults': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values['list-faults']) {
    for (const f of FAULTS) process.stdout.write(`${f.name.padEnd(26)} ${f.description}\n`);
    process.exit(0);
  }
  const fault = values.fault === undefined ? undefined : faultNamed(String(values.fault));
  if (values.fault !== undefined && !fault) usage(`--fault must be one of: ${FAULTS.map((f) => f.name).join(', ')}; got ${JSON.stringify(values.fault)}`);
  const inputs = Object.entries(pairs('input', values.input)).map(([name, dir]) => {
    if (!ARTIFACT_NAME.test(name)) usage(`--input ${name}: an artifact name is 1 to 100 letters, digits, '_' or '-'`);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) usage(`--input ${name} must name a directory, got ${JSON.stringify(dir)}`);
    return { name, dir: path.resolve(dir) };
  });
  if (inputs.length !== ((values.input ?? []) as unknown as string[]).length) usage('--input names each artifact once');
  // Without --source, the first --input is the primary input.
  const primary = values.source === undefined && inputs.length > 0 ? inputs.shift()! : { name: SOURCE_ARTIFACT, dir: path.resolve(String(values.source ?? EXAMPLE)) };
  const source = primary.dir;
  if (!fs.existsSync(source) || !fs.statSync(source).isDirectory()) usage(`--source must be a directory, got ${JSON.stringify(values.source)}`);
  let command = values.command as string | undefined;
  if (command === undefined) {
    const buildFile = path.join(source, 'build.sh');
    if (!fs.existsSync(buildFile)) usage('--command is required when the source has no build.sh');
    command = 'bash build.sh';
  }
  const template = values.template === undefined ? undefined : path.resolve(String(values.template));
  if (template !== undefined && !(fs.existsSync(template) && fs.statSync(template).isFile())) usage(`--template must be a synthesized template file, got ${JSON.stringify(values.template)}`);
  const fleets = values.fleets === undefined ? undefined : readFleets(path.resolve(String(values.fleets)));
  if (fleets && template) usage('--fleets and --template: a template holds its own fleets; give one of them');
  const runs = values.runs === undefined ? 1 : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) usage(`--runs must be a whole number from 1 to 100, got ${JSON.stringify(values.runs)}`);
  const properties: Record<string, string> = {};
  for (const p of (values.property ?? []) as unknown as string[]) {
    const at = p.indexOf('=');
    if (at < 1) usage(`--property must be NAME=VALUE, got ${JSON.stringify(p)}`);
    properties[p.slice(0, at)] = p.slice(at + 1);
  }
  if (values.out !== undefined && !outputPathOf({ properties, outputPath: values['output-path'] as string | undefined })) usage('--out needs --output-path (what to put in the output artifact)');
  const metrics = values.metrics === undefined ? undefined : path.resolve(String(values.metrics));
  if (metrics !== undefined && !fs.existsSync(path.dirname(metrics))) usage(`--metrics must be a file in an existing directory, got ${JSON.stringify(values.metrics)}`);
  const stored = { parameters: pairs('parameter', values.parameter), secrets: pairs('secret', values.secret) };
  if (template && (Object.keys(stored.parameters).length || Object.keys(stored.secrets).length)) {
    usage('--parameter and --secret deploy the stack allowing their paths and names; --template holds its own settings: give one of them');
  }
  return {
    values: stored,
    fault,
    template,
    fleets,
    runs,
    metrics,
    json: Boolean(values.json),
    quiet: Boolean(values.quiet),
    job: {
      source,
      sourceName: primary.name,
      inputs,
      command,
      workingDirectory: values['working-directory'] as string | undefined,
      outputPath: values['output-path'] as string | undefined,
      imageId: values['image-id'] as string | undefined,
      instanceType: values['instance-type'] as string | undefined,
      timeoutMinutes: values['timeout-minutes'] as string | undefined,
      out: values.out as string | undefined,
      properties,
    },
  };
}

/** The metric lines the functions printed, one a line; a line CloudWatch would drop is said, never written. */
function writeMetrics(cloud: LocalCloud, file: string): void {
  for (const r of cloud.metrics.rejected) process.stderr.write(`✘ ${r.functionName} printed a metric line CloudWatch would drop: ${r.problems.join('; ')}\n`);
  fs.writeFileSync(file, cloud.metrics.lines.map((l) => `${l.text}\n`).join(''));
}

async function main(): Promise<void> {
  const { job, json, quiet, fault, template, runs, fleets, metrics, values } = parse(process.argv.slice(2));
  // A fault may shorten the jobs' renewals and timeouts: the cloud starts with them.
  // A fleet fault runs on fleets of its own, deployed beside the file's.
  const deployed = fault?.fleets ? { ...(fleets ?? {}), ...fault.fleets } : fleets;
  // The stack deployed as a user would deploy it for these values: builds may read the parameters' paths and the
  // secrets' names (-c ec2-build-action:parameterPrefixes=… secretPrefixes=…), and nothing else.
  const environmentScope = {
    parameterPrefixes: [...new Set(Object.keys(values.parameters).map(parentPath).filter((p): p is string => p !== null))],
    secretPrefixes: Object.keys(values.secrets),
  };
  const cloud = await LocalCloud.start(undefined, { template, fleets: deployed, jobs: fault?.jobs, environmentScope, log: (line) => process.stderr.write(`⚙ ${line}\n`) });
  for (const [name, value] of Object.entries(values.parameters)) cloud.ssm.parameters.set(name, value, 'SecureString');
  for (const [name, value] of Object.entries(values.secrets)) cloud.secrets.put(name, value);
  // CodePipeline refuses a configuration key the action type does not declare: so does the runner, before any job.
  const declared = registeredActionTypes(cloud.stack).find((t) => t.id.version === cloud.actionType.version)?.properties.map((p) => p.name) ?? [];
  const unknown = Object.keys(job.properties ?? {}).find((name) => !declared.includes(name));
  if (unknown !== undefined) {
    await cloud.stop();
    usage(`--property ${unknown}: the action type declares no such property; it has ${declared.join(', ')}`);
  }
  // And the artifacts, as CreatePipeline checks an action's.
  try {
    checkDeclared(cloud, cloud.actionType, [job.sourceName ?? SOURCE_ARTIFACT, ...(job.inputs ?? []).map((i) => i.name)], outputNamesOf(outputPathOf(job)));
  } catch (err) {
    await cloud.stop();
    usage(`--input / --output-path: ${(err as Error).message}`);
  }
  if (!quiet) Object.assign(cloud.hooks, reporter(process.stderr));
  // Said even with --quiet: on AWS this error would only be in the function's logs.
  cloud.hooks.onFunctionError = (e) => process.stderr.write(`⚠ ${e.functionName} (rule ${e.source}) failed every attempt: ${e.errorType}: ${e.errorMessage}\n`);
  let code: number;
  try {
    const fleetNames = Object.keys(cloud.fleets);
    if (fleetNames.length > 0) {
      // As a deployed stack's pools would be by the time a pipeline runs: filled by the refill, which runs now.
      for (const [name, f] of Object.entries(await cloud.fillPools())) {
        if (!quiet) process.stderr.write(`🏊 fleet ${name}: ${f.hot} hot, ${f.stopped} stopped (wanted ${f.wanted.hotPool} and ${f.wanted.stoppedPool})\n`);
      }
    }
    if (fault) process.stderr.write(`⚡ fault: ${fault.name}: ${fault.description}\n`);
    // A fault's scenario may run several jobs: the summary is the one its expectation describes; a broken promise is said.
    const once = async (): Promise<JobSummary> => {
      const run = await runFault(cloud, job, fault ?? null);
      for (const v of run.violations) process.stderr.write(`✘ broken promise: ${v}\n`);
      const tally = (of: (x: JobSummary) => string) => Object.entries(run.summaries.reduce<Record<string, number>>((n, x) => ({ ...n, [of(x)]: (n[of(x)] ?? 0) + 1 }), {})).map(([k, v]) => `${v} ${k}`).join(', ');
      if (run.summaries.length > 1) process.stderr.write(`  ${run.summaries.length} jobs: ${tally((x) => x.status)}; built on: ${tally((x) => x.capacitySource ?? 'nothing')}\n`);
      return run.primary;
    };
    let summary = await once();
    for (let run = 2; run <= runs; run++) {
      process.stderr.write(`${summary.status === 'Succeeded' ? '✔' : '✘'} run ${run - 1} of ${runs}: ${summary.status} in ${(summary.durationMs / 1000).toFixed(1)}s\n`);
      summary = await once();
    }
    if (summary.instancesSwept) process.stderr.write(`🧹 the sweeper terminated ${summary.instancesSwept} instance(s) the job left running\n`);
    const line =
      summary.status === 'Succeeded'
        ? `✔ Job ${summary.jobId} succeeded in ${(summary.durationMs / 1000).toFixed(1)}s${summary.outputArtifact ? `; output artifact: ${summary.outputArtifact}` : ''}`
        : `✘ Job ${summary.jobId} failed (${summary.failureType}): ${summary.failureMessage}`;
    process.stderr.write(`${line}\n`);
    if (summary.outputArtifacts.length > 1) for (const o of summary.outputArtifacts) process.stderr.write(`  output artifact ${o.name}: ${o.bytes} bytes${o.file ? `, ${o.file}` : ''}\n`);
    const phases = formatPhases(summary.phases);
    if (phases) process.stderr.write(`⏱ phases: ${phases}\n`);
    if (summary.logUrl) process.stderr.write(`📜 the build's whole output: ${summary.logUrl}\n`);
    // CONTRACTS.md: --json's phases are numbers; a phase the job never reached (a failed build's output) is 0 there.
    if (json) process.stdout.write(`${JSON.stringify({ ...summary, phases: Object.fromEntries(Object.entries(summary.phases).map(([k, v]) => [k, v ?? 0])) })}\n`);
    code = summary.status === 'Succeeded' ? 0 : 1;
  } finally {
    await cloud.stop();
    // After the stop, which waits for every function's output: a line printed last (the result's) is in.
    if (metrics) writeMetrics(cloud, metrics);
  }
  process.exit(code);
}

main().catch((err: unknown) => {
  process.stderr.write(`local runner error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
