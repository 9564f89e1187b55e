import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The programs a simulated instance has: this machine's, less those a fault takes away (an AMI without zip and unzip,
 * as Ubuntu's cloud images are). The build step then runs with a PATH of one folder holding links to every other
 * program on this machine's PATH.
 */
export function pathWithout(dir: string, missing: readonly string[]): string {
  const bin = path.join(dir, 'bin');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(bin, { recursive: true });
  for (const folder of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const link = path.join(bin, name);
      if (missing.includes(name) || fs.existsSync(link)) continue;
      fs.symlinkSync(path.join(folder, name), link);
    }
  }
  // A version manager's python3 is a shim that finds its interpreter through $HOME, which the step changes: link the interpreter.
  const python = path.join(bin, 'python3');
  if (!missing.includes('python3') && fs.existsSync(python)) {
    fs.rmSync(python);
    fs.symlinkSync(execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim(), python);
  }
  return bin;
}
