/**
 * CloudWatch Logs, as far as build output needs it: log groups (the stack's, created at deploy),
 * streams and their events. Written to by the simulated SSM agent, read by tests and the runner.
 */
export class LocalLogs {
  private readonly groups = new Map<string, Map<string, string[]>>();

  /** Creates a group; false when it exists (ResourceAlreadyExistsException on AWS). */
  createLogGroup(name: string): boolean {
    if (this.groups.has(name)) return false;
    this.groups.set(name, new Map());
    return true;
  }

  hasLogGroup(name: string): boolean {
    return this.groups.has(name);
  }

  createLogStream(group: string, stream: string): void {
    const g = this.groups.get(group);
    if (!g) throw new Error(`ResourceNotFoundException: The specified log group does not exist: ${group}`);
    if (!g.has(stream)) g.set(stream, []);
  }

  putLogEvents(group: string, stream: string, messages: string[]): void {
    const s = this.groups.get(group)?.get(stream);
    if (!s) throw new Error(`ResourceNotFoundException: The specified log stream does not exist: ${group}/${stream}`);
    s.push(...messages);
  }

  /** The events of a stream, or null when it does not exist. */
  events(group: string, stream: string): string[] | null {
    return this.groups.get(group)?.get(stream) ?? null;
  }

  streams(group: string): string[] {
    return [...(this.groups.get(group)?.keys() ?? [])];
  }
}
