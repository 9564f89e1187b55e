import * as fs from 'node:fs';
import { parse } from 'yaml';
import { documentContent, documentContentBytes, withoutComments } from '../../lib/document-content';
import { DOCUMENT_FILE } from '../../local/services/ssm-document';

/** The document as deployed: its scripts without comment lines, which would take the room of a command's parameters. */
describe('the deployed build document', () => {
  const text = fs.readFileSync(DOCUMENT_FILE, 'utf8');

  it('drops whole-line comments and keeps the shebang, shellcheck directives and every other line', () => {
    const script = '#!/usr/bin/env bash\n# shellcheck disable=SC2154 # set by the agent\n  # why this is so\nset -euo pipefail\necho "# not a comment"  # trailing\n    # another\nexit 0';
    expect(withoutComments(script)).toBe('#!/usr/bin/env bash\n# shellcheck disable=SC2154 # set by the agent\nset -euo pipefail\necho "# not a comment"  # trailing\nexit 0');
  });

  it('is the file\'s document with only comment lines taken out, and smaller by them', () => {
    const file = parse(text) as { mainSteps: { inputs: { runCommand: string[] } }[]; parameters: unknown };
    const deployed = documentContent(text) as typeof file;
    expect(deployed.parameters).toEqual(file.parameters);
    for (const [i, step] of file.mainSteps.entries()) {
      const kept = deployed.mainSteps[i].inputs.runCommand[0].split('\n');
      const dropped = step.inputs.runCommand[0].split('\n').filter((l) => !kept.includes(l));
      expect(dropped.length).toBeGreaterThan(0);
      for (const line of dropped) expect(line).toMatch(/^\s*#/);
    }
    expect(documentContentBytes(deployed)).toBeLessThan(documentContentBytes(file) - 5000);
  });
});
