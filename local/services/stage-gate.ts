/**
 * SUPERSEDED execution mode, the default
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts-how-it-works.html#concepts-superseded):
 * one execution at a time in a stage; a newer execution that reaches an occupied stage waits at its
 * entrance, and a waiting execution overtaken by an even newer one is Superseded. An execution
 * running in a stage is never interrupted by a newer one.
 */
interface Waiter {
  readonly executionId: string;
  readonly admit: (entered: boolean) => void;
}

export class StageGate {
  /** Per pipeline and stage: who is in it, and who waits at its entrance (at most one). */
  private readonly occupant = new Map<string, string>();
  private readonly waiting = new Map<string, Waiter>();

  /** Resolves true when the execution may enter the stage, false when a newer one superseded it while it waited. */
  enter(pipeline: string, stage: string, executionId: string): Promise<boolean> {
    const key = `${pipeline}\0${stage}`;
    if (!this.occupant.has(key)) {
      this.occupant.set(key, executionId);
      return Promise.resolve(true);
    }
    this.waiting.get(key)?.admit(false);
    return new Promise((resolve) => this.waiting.set(key, { executionId, admit: resolve }));
  }

  /** The execution left the stage: the one waiting, if any, goes in. */
  leave(pipeline: string, stage: string, executionId: string): void {
    const key = `${pipeline}\0${stage}`;
    if (this.occupant.get(key) !== executionId) return;
    this.occupant.delete(key);
    const next = this.waiting.get(key);
    if (!next) return;
    this.waiting.delete(key);
    this.occupant.set(key, next.executionId);
    next.admit(true);
  }

  /** An execution stopped while it waited leaves the queue (resolved false). */
  cancel(pipeline: string, executionId: string): void {
    for (const [key, w] of [...this.waiting]) {
      if (!key.startsWith(`${pipeline}\0`) || w.executionId !== executionId) continue;
      this.waiting.delete(key);
      w.admit(false);
    }
  }

  /** Forgets a deleted pipeline (its waiting executions end as superseded). */
  forget(pipeline: string): void {
    for (const key of [...this.occupant.keys()]) if (key.startsWith(`${pipeline}\0`)) this.occupant.delete(key);
    for (const [key, w] of [...this.waiting]) {
      if (!key.startsWith(`${pipeline}\0`)) continue;
      this.waiting.delete(key);
      w.admit(false);
    }
  }
}
