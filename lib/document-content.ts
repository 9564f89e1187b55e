import { parse, stringify } from 'yaml';

/**
 * The build document as the stack deploys it: the file's YAML, each script without its comment lines. Systems Manager
 * counts a document's content and a command's parameters together toward 64 KB ("This quota also includes the content
 * specified for input parameters at runtime": https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html#systemsmanager-CreateDocument-request-Content),
 * and a comment runs nowhere: the comments stay in the source for people, and the deployed scripts keep the room for
 * the parameters. Kept: the shebang and shellcheck directives. The local runner runs this same content.
 */

const COMMENT_LINE = /^\s*#(?!!)(?!.*shellcheck)/;

/** A script without its whole-line comments (no line of a script here is a string that starts with #: test/ssm/document.test.ts parses what is left). */
export function withoutComments(script: string): string {
  return script
    .split('\n')
    .filter((line) => !COMMENT_LINE.test(line))
    .join('\n');
}

/** The document's content, parsed from the file's text, its scripts without comments. */
export function documentContent(text: string): object {
  const content = parse(text) as { mainSteps: { inputs: { runCommand: string[] } }[] };
  for (const step of content.mainSteps) step.inputs.runCommand = step.inputs.runCommand.map(withoutComments);
  return content;
}

/** The deployed content's size as YAML text (block scalars indented as in the file): the larger of its likely forms. */
export function documentContentBytes(content: object): number {
  return Buffer.byteLength(stringify(content, { lineWidth: 0 }), 'utf8');
}
