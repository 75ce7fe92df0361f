// A suite-wide stand-in for TestContext in before() hooks: helpers that take `{ after, skip }` register
// their cleanups here, and the suite's after() hook runs them in reverse order (errors ignored, so one
// failing cleanup does not keep the others from running).
export interface SuiteScope {
  after(fn: () => unknown): void;
  skip(): void;
  /** runs every cleanup, the last registered first */
  runCleanups(): Promise<void>;
}

export function suiteScope(onSkip: () => void): SuiteScope {
  const cleanups: (() => Promise<void>)[] = [];
  return {
    after: (fn) => void cleanups.push(async () => void (await fn())),
    skip: onSkip,
    async runCleanups() {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    },
  };
}
