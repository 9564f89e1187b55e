import { MARKER_TYPES } from '../../lambdas/completion/outcome';
import { documentMarks, PHASE_MARKER } from '../../lambdas/shared/phases';
import { ERROR_MARKER } from '../../lambdas/shared/types';
import { loadDocument, stepFor } from '../../local/services/ssm-document';

/**
 * The SSM document reports its own failures as `<ERROR_MARKER> Kind: text` on standard error, through
 * one helper per platform (bash `fail Kind "text"`, PowerShell `Stop-Phase 'Kind' "text"`); the
 * completion function maps each Kind to a failure type (MARKER_TYPES). A Kind written but not mapped
 * would reach the user as a bare JobFailed; a mapped Kind nobody writes is a rule that checks nothing.
 */
const doc = loadDocument();
const scripts = {
  Linux: { source: stepFor(doc, 'Linux').inputs.runCommand.join('\n'), helper: /^\s*fail\(\) \{\n\s*printf '(.*?) %s: %s\\n' "\$1" "\$2" >&2$/m, calls: /\bfail ([A-Za-z]+) /g },
  Windows: {
    source: stepFor(doc, 'Windows').inputs.runCommand.join('\n'),
    helper: /^\s*function Stop-Phase\(\[string\]\$Kind, \[string\]\$Message\) \{\n\s*\[Console\]::Error\.WriteLine\("(.*?) \$\{Kind\}: \$Message"\)$/m,
    calls: /\bStop-Phase '([A-Za-z]+)'/g,
  },
};

describe('the SSM document\'s error markers', () => {
  it.each(Object.entries(scripts))('are written on %s only by its one helper, with the marker the completion function looks for', (_platform, s) => {
    expect(s.source.match(s.helper)?.[1]).toBe(ERROR_MARKER);
    // Any other line writing the marker would bypass the kinds checked below.
    expect(s.source.split(ERROR_MARKER).length - 1).toBe(1);
  });

  it.each(Object.entries(scripts))('are all mapped to a failure type, for every kind the %s step writes', (_platform, s) => {
    const kinds = [...new Set([...s.source.matchAll(s.calls)].map((m) => m[1]))];
    expect(kinds.length).toBeGreaterThan(0);
    for (const kind of kinds) expect([kind, Object.hasOwn(MARKER_TYPES, kind)]).toEqual([kind, true]);
  });

  it('map no kind that neither step writes', () => {
    const written = new Set(Object.values(scripts).flatMap((s) => [...s.source.matchAll(s.calls)].map((m) => m[1])));
    for (const kind of Object.keys(MARKER_TYPES)) expect([kind, written.has(kind)]).toEqual([kind, true]);
  });
});

/**
 * The document's phase timings: `<PHASE_MARKER> name ms` on standard error, through one helper per platform
 * (bash `phase_took name "$started"`, PowerShell `Write-PhaseTook 'name' $watch`); the job's result reads each name
 * (shared/phases.ts). A name written but not read, or read but written by neither platform, is a phase nobody sees.
 */
const phaseScripts = {
  Linux: { source: scripts.Linux.source, helper: /^\s*phase_took\(\) \{\n\s*printf '(.*?) %s %s\\n' "\$1" /m, calls: /^\s*phase_took ([A-Za-z]+) /gm },
  Windows: {
    source: scripts.Windows.source,
    helper: /^\s*function Write-PhaseTook\(\[string\]\$Phase, \[System\.Diagnostics\.Stopwatch\]\$Watch\) \{\n\s*\[Console\]::Error\.WriteLine\("(.*?) \$\{Phase\} /m,
    calls: /^\s*Write-PhaseTook '([A-Za-z]+)' /gm,
  },
};

describe('the SSM document\'s phase markers', () => {
  it.each(Object.entries(phaseScripts))('are written on %s only by its one helper, with the marker the job\'s result reads', (_platform, s) => {
    expect(s.source.match(s.helper)?.[1]).toBe(PHASE_MARKER);
    expect(s.source.split(PHASE_MARKER).length - 1).toBe(1);
  });

  it.each(Object.entries(phaseScripts))('on %s, measure staging in, the build and staging out, each once', (_platform, s) => {
    const names = [...s.source.matchAll(s.calls)].map((m) => m[1]);
    expect(names).toEqual(['stagingIn', 'build', 'stagingOut']);
    const stderr = names.map((n, i) => `${PHASE_MARKER} ${n} ${i + 1}`).join('\n');
    expect(documentMarks(stderr)).toEqual({ stagingIn: 1, build: 2, stagingOut: 3 });
  });
});
