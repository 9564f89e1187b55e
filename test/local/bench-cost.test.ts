import { codeBuildJobUsd, ec2JobUsd, orchestrationUsd, PRICES } from '../../local/bench/prices';
import { median } from '../../local/bench/stats';

describe('the benchmark\'s cost model', () => {
  it('prices orchestration as transitions, Lambda requests and duration, and the instance watch', () => {
    // 16 transitions at $0.025 per 1,000; 11 invocations of 0.2 s at 256 MB; 50 s of watching at 256 MB
    const gbSecond = 0.25 * 0.0000133334;
    expect(orchestrationUsd(16, 11, 50)).toBeCloseTo(16 * 0.000025 + 11 * (0.0000002 + 0.2 * gbSecond) + 50 * gbSecond, 12);
    expect(orchestrationUsd(16, 11, 50)).toBeCloseTo(0.000576, 6);
    expect(orchestrationUsd(17, 11, 50) - orchestrationUsd(16, 11, 50)).toBeCloseTo(PRICES.stepFunctionsPerTransition, 12);
  });

  it('bills EC2 per second from 90 s of overhead on, with gp3 storage, and CodeBuild in whole minutes', () => {
    // 1-minute build: 150 s of c7i.xlarge and of 30 GB gp3
    expect(ec2JobUsd(1, 0)).toBeCloseTo((150 / 3600) * 0.1785 + (150 / (730 * 3600)) * 30 * 0.08, 10);
    expect(ec2JobUsd(10, 0.001) - ec2JobUsd(10, 0)).toBeCloseTo(0.001, 12);
    expect(codeBuildJobUsd(1)).toBeCloseTo(0.01, 10);
    expect(codeBuildJobUsd(1.01)).toBeCloseTo(0.02, 10);
    expect(codeBuildJobUsd(60)).toBeCloseTo(0.6, 10);
  });

  it('takes the median of odd and even samples', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
