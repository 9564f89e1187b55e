import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { currentTemplate } from '../../local/synthesized';

/** A CloudFormation template as JSON. */
export type TemplateJson = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** A policy statement of the template's, found by its Sid. */
export function statementWithSid(template: TemplateJson, sid: string): Record<string, unknown> {
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const found = (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.find((s) => s.Sid === sid);
    if (found) return found;
  }
  throw new Error(`no statement with Sid ${sid} in the template`);
}

/**
 * The current stack's synthesized template, changed by `mutate`, in a cloud assembly of its own (its
 * assets manifest copied, its asset folders linked): a stack as a user's edit or an old version would
 * deploy it, for the local cloud to run.
 */
export async function doctoredTemplate(mutate: (template: TemplateJson) => void): Promise<string> {
  const original = await currentTemplate();
  const from = path.dirname(original);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctored-'));
  for (const entry of fs.readdirSync(from)) {
    if (entry.startsWith('asset.')) fs.symlinkSync(path.join(from, entry), path.join(dir, entry));
    else if (entry.endsWith('.assets.json')) fs.copyFileSync(path.join(from, entry), path.join(dir, entry));
  }
  const template = JSON.parse(fs.readFileSync(original, 'utf8')) as TemplateJson;
  mutate(template);
  const file = path.join(dir, path.basename(original));
  fs.writeFileSync(file, JSON.stringify(template));
  return file;
}
