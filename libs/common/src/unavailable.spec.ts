import { DependencyTimeoutError, unavailableDependency, withDeadline } from './unavailable';

describe(unavailableDependency.name, () => {
  it('names the database for connection-class SQLSTATEs, shutdowns, statement timeouts and pg client failures', () => {
    for (const code of ['08006', '08001', '57P01', '57P03', '57014', '53300']) expect(unavailableDependency(Object.assign(new Error('x'), { code }))).toBe('database');
    expect(unavailableDependency(new Error('Connection terminated unexpectedly'))).toBe('database');
    expect(unavailableDependency(new Error('timeout exceeded when trying to connect'))).toBe('database');
    // TypeORM wraps the driver's error.
    expect(unavailableDependency(Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('x'), { code: '57P01' }) }))).toBe('database');
  });

  it('names the object store for its timeouts and "later" answers, and a dependency for network errors', () => {
    expect(unavailableDependency(new DependencyTimeoutError('object store', 'get', 10))).toBe('object store');
    expect(unavailableDependency(Object.assign(new Error('x'), { code: 'SlowDown' }))).toBe('object store');
    expect(unavailableDependency(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe('dependency');
    expect(unavailableDependency(Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), {}))).toBe('dependency');
  });

  it('leaves everything else alone: bugs, bad input, integrity failures, missing objects', () => {
    expect(unavailableDependency(new TypeError("Cannot read properties of undefined (reading 'slice')"))).toBeNull();
    expect(unavailableDependency(Object.assign(new Error('dup'), { code: '23505' }))).toBeNull();
    expect(unavailableDependency(Object.assign(new Error('bytes'), { driverError: Object.assign(new Error('x'), { code: '22021' }) }))).toBeNull();
    expect(unavailableDependency(Object.assign(new Error('gone'), { code: 'NoSuchKey' }))).toBeNull();
    expect(unavailableDependency(null)).toBeNull();
    expect(unavailableDependency('ECONNREFUSED')).toBeNull();
  });
});

describe(withDeadline.name, () => {
  it('passes a prompt answer through and turns a hung one into a DependencyTimeoutError', async () => {
    await expect(withDeadline('database', 'ping', 1000, Promise.resolve(7))).resolves.toBe(7);
    const hung = new Promise<never>(() => undefined);
    await expect(withDeadline('object store', 'ping', 20, hung)).rejects.toBeInstanceOf(DependencyTimeoutError);
  });
});
