import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SSM_PATTERNS } from '../../lambdas/shared/properties';
import { loadDocument, resolveParameters, stepFor } from '../../local/services/ssm-document';

const doc = loadDocument();
const linux = stepFor(doc, 'Linux').inputs.runCommand.join('\n');
const windows = stepFor(doc, 'Windows').inputs.runCommand.join('\n');

describe('SSM document', () => {
  it('is a schema 2.2 Command document whose every step has a platformType precondition', () => {
    expect((doc as unknown as { schemaVersion: string }).schemaVersion).toBe('2.2');
    expect(doc.mainSteps.map((s) => [s.action, s.precondition?.StringEquals])).toEqual([
      ['aws:runShellScript', ['platformType', 'Linux']],
      ['aws:runPowerShellScript', ['platformType', 'Windows']],
    ]);
  });

  it('passes every value to the scripts as an environment variable, never as {{ }} text', () => {
    for (const [name, spec] of Object.entries(doc.parameters)) {
      if (name === 'TaskToken' || name === 'ExecutionTimeout') expect(spec.interpolationType).toBeUndefined();
      else expect([name, spec.interpolationType]).toEqual([name, 'ENV_VAR']);
    }
    expect(linux).not.toMatch(/\{\{/);
    expect(windows).not.toMatch(/\{\{/);
  });

  it('guards every data parameter with the same pattern the poller enforces', () => {
    const expected: Record<string, string> = {
      JobId: SSM_PATTERNS.jobId,
      WorkingDirectory: SSM_PATTERNS.path,
      OutputArtifactPath: SSM_PATTERNS.path,
      InputUrl: SSM_PATTERNS.url,
      OutputUrl: SSM_PATTERNS.url,
      KmsKeyId: SSM_PATTERNS.kmsKeyId,
      ExecutionTimeout: SSM_PATTERNS.timeout,
      TaskToken: SSM_PATTERNS.taskToken,
      ExecutionName: SSM_PATTERNS.executionName,
      PipelineName: SSM_PATTERNS.pipelineName,
      PipelineExecutionId: SSM_PATTERNS.pipelineExecutionId,
      StageName: SSM_PATTERNS.pipelineName,
      ActionName: SSM_PATTERNS.pipelineName,
      SourceRevision: SSM_PATTERNS.revision,
      EnvironmentUrl: SSM_PATTERNS.url,
      EnvironmentDeleteUrl: SSM_PATTERNS.url,
      ExportsUrl: SSM_PATTERNS.url,
      ExportedVariables: SSM_PATTERNS.exportedVariables,
      CachePaths: SSM_PATTERNS.cachePaths,
      CacheUrl: SSM_PATTERNS.url,
    };
    for (const [name, pattern] of Object.entries(expected)) expect([name, doc.parameters[name].allowedPattern]).toEqual([name, pattern]);
  });

  it('gives every parameter added after the first version a default, so commands of executions on an older state machine stay valid', () => {
    const required = Object.entries(doc.parameters).filter(([, p]) => (p as { default?: unknown }).default === undefined).map(([name]) => name);
    expect(required).toEqual(['Phase', 'JobId']);
  });

  it('gives the build the pipeline context on Linux and Windows, each from its own parameter', () => {
    const context = { PIPELINE_NAME: 'PipelineName', PIPELINE_EXECUTION_ID: 'PipelineExecutionId', STAGE_NAME: 'StageName', ACTION_NAME: 'ActionName', JOB_ID: 'JobId', SOURCE_REVISION: 'SourceRevision' };
    for (const [name, parameter] of Object.entries(context)) {
      expect(linux).toContain(`CODEPIPELINE_${name}="$SSM_${parameter}"`);
      expect(windows).toContain(`$env:CODEPIPELINE_${name} = $env:SSM_${parameter}`);
    }
  });

  it('refuses values that would inject shell, as SSM does', () => {
    expect(() => resolveParameters(doc, { Phase: ['build'], JobId: ['j'], WorkingDirectory: ['/tmp/$(reboot)'] })).toThrow(/WorkingDirectory.*allowed pattern/);
    expect(() => resolveParameters(doc, { Phase: ['deploy'], JobId: ['j'] })).toThrow(/Phase.*must be one of build, upload/);
    const { env } = resolveParameters(doc, { Phase: ['build'], JobId: ['j'], Command: ['make "all"'], TaskToken: ['abc'] });
    expect(env).toMatchObject({ SSM_Phase: 'build', SSM_Command: 'make "all"' });
    expect(env).not.toHaveProperty('SSM_TaskToken');
  });

  it('starts the Linux step with set -euo pipefail and the Windows step with ErrorActionPreference Stop', () => {
    expect(linux).toMatch(/^#!\/usr\/bin\/env bash\n(#.*\n)*set -euo pipefail\n/);
    expect(windows).toMatch(/^(#.*\n)*\$ErrorActionPreference = 'Stop'\n/);
    expect(windows).toMatch(/\$code = \$LASTEXITCODE/);
  });

  it('parses as bash', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'doc-')), 'linux.sh');
    fs.writeFileSync(file, linux);
    expect(() => execFileSync('bash', ['-n', file])).not.toThrow();
  });

  it('is shellcheck-clean (skipped, and said so, where shellcheck is not installed)', () => {
    const probe = spawnSync('shellcheck', ['--version']);
    if (probe.error) {
      console.warn('SKIPPED: shellcheck is not installed; .ci/run installs it (apt-get install shellcheck)');
      return;
    }
    const result = spawnSync('shellcheck', ['--shell=bash', '-'], { input: linux, encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  describe('Windows step', () => {
    const parse = (source: string): unknown[] =>
      JSON.parse(execFileSync('node', [path.join(__dirname, '../../scripts/parse-powershell.cjs')], { input: source, encoding: 'utf8' }));

    it('parses as PowerShell with no syntax error', () => {
      expect(parse(windows)).toEqual([]);
    });

    it('would catch a syntax error (the check can fail)', () => {
      const broken = windows.replace('switch ($env:SSM_Phase) {', 'switch ($env:SSM_Phase) { {');
      expect(broken).not.toBe(windows);
      expect(parse(broken).length).toBeGreaterThan(0);
    });
  });
});
