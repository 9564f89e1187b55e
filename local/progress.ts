import type { CloudHooks } from './cloud';

/** Live progress: each state as it is entered and how long it took, and the build's own output. */
export function reporter(stream: NodeJS.WritableStream): CloudHooks {
  const entered = new Map<string, number>();
  const retries = new Map<string, number>();
  let atLineStart = true;
  return {
    onState(_execution, event) {
      const name = event.state?.name;
      if (!name) return;
      if (event.type === 'StateEntered') {
        entered.set(name, event.timestamp);
        retries.set(name, 0);
        stream.write(`${atLineStart ? '' : '\n'}▶ ${name}\n`);
        atLineStart = true;
      } else if (event.type === 'StateRetried') {
        retries.set(name, (retries.get(name) ?? 0) + 1);
      } else if (event.type === 'StateExited' || event.type === 'StateCaught') {
        const ms = event.timestamp - (entered.get(name) ?? event.timestamp);
        const mark = event.type === 'StateExited' ? '✓' : '✗';
        const n = retries.get(name) ?? 0;
        const extra = [n ? `${n} ${n === 1 ? 'retry' : 'retries'}` : '', event.type === 'StateCaught' ? 'caught' : ''].filter(Boolean).join(', ');
        stream.write(`${atLineStart ? '' : '\n'}  ${mark} ${name} (${ms} ms${extra ? `, ${extra}` : ''})\n`);
        atLineStart = true;
      }
    },
    onOutput(_instanceId, chunk) {
      const text = chunk.replace(/^(?=.)/gm, (m, offset: number) => (offset === 0 && !atLineStart ? m : `  │ ${m}`));
      stream.write(text);
      atLineStart = chunk.endsWith('\n');
    },
  };
}
