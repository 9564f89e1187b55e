import { spawnSync } from 'node:child_process';
import { loadDocument, stepFor } from '../../local/services/ssm-document';

/**
 * The Linux step's mask_output, run with bash as the document runs it: the build's output with each secret value
 * replaced by ***, the longest first, each line of a multi-line value, never a short one (test/local/build-environment
 * proves the whole path; this one the masker's cases).
 */
const source = stepFor(loadDocument(), 'Linux').inputs.runCommand.join('\n');
const maskOutput = /^(\s*)mask_output\(\) \{\n[\s\S]*?\n\1\}$/m.exec(source)?.[0] ?? '';

/** The masker's output for `input`, with `values` as the secret values the environment object named. */
function mask(values: string[], input: string): string {
  // As load_environment builds it: each value, then a newline.
  const script = `set -euo pipefail\nmask_values=''\nfor v in "$@"; do mask_values+="$v"$'\\n'; done\n${maskOutput}\nmask_output`;
  const out = spawnSync('bash', ['-c', script, 'bash', ...values], { input, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`mask_output failed (${out.status}): ${out.stderr}`);
  return out.stdout;
}

describe('the build output\'s masking (Linux)', () => {
  it('is found in the document', () => expect(maskOutput).toMatch(/awk/));

  it('replaces every occurrence of each value, literally (no regex, no shell)', () => {
    expect(mask(['s3cr3t.*$(x)'], 'a s3cr3t.*$(x) b s3cr3t.*$(x)\ns3cr3tXX\n')).toBe('a *** b ***\ns3cr3tXX\n');
  });

  it('masks the longest value first, so a value holding another is masked whole', () => {
    expect(mask(['abcd', 'abcdefgh'], 'x abcdefgh y abcd\n')).toBe('x *** y ***\n');
  });

  it('masks each line of a multi-line value (a CR ending a line too), and leaves lines under 4 characters', () => {
    expect(mask(['-----BEGIN KEY-----\r\nMIIEow\r\nab\r\n-----END KEY-----'], '-----BEGIN KEY-----\nMIIEow\nab\n-----END KEY-----\n')).toBe('***\n***\nab\n***\n');
  });

  it('passes output through as it is when there is nothing to mask, a last line without its newline included', () => {
    expect(mask([], 'plain\nlast')).toBe('plain\nlast');
    expect(mask(['secret'], 'a secret')).toBe('a ***\n');
  });
});
