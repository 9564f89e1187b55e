import type { FaultRun } from '../../local/fault-run';
import type { Fault } from '../../local/faults';

/** What every fleet fault's test asserts of its run: the promises every job keeps, the fault's own checks, and its expectation. */
export function expectFaultKept(run: FaultRun, fault: Fault): void {
  // THEN every job the fault ran ended with exactly one result and released every instance it launched
  for (const s of run.summaries) {
    expect(s.jobResults).toBe(1);
    expect(s.instancesReleased).toBe(s.instancesLaunched);
    expect(s.instancesSwept).toBe(0);
  }
  // AND no instance built twice, and what the fault itself checks (where the builds ran, what the refill did after) held
  expect(run.violations).toEqual([]);
  // AND the user is told what happened
  const p = run.primary;
  expect(p.status).toBe(fault.expect.status);
  if (fault.expect.failureType) expect(p.failureType).toBe(fault.expect.failureType);
  if (fault.expect.message) expect(p.failureMessage).toMatch(fault.expect.message);
  if (fault.expect.summary) expect(p.successSummary).toMatch(fault.expect.summary);
  if (fault.expect.capacitySource) expect(p.capacitySource).toBe(fault.expect.capacitySource);
  if (fault.expect.launched !== undefined) expect(p.instancesLaunched).toBe(fault.expect.launched);
}
