import { approveWait } from './disposition.controller';

describe(approveWait.name, () => {
  it('waits the configured time without a preference', () => {
    expect(approveWait(undefined, 10_000)).toEqual({ waitMs: 10_000, respondAsync: false });
    expect(approveWait('', 10_000)).toEqual({ waitMs: 10_000, respondAsync: false });
  });

  it('answers at once for respond-async (RFC 7240 §4.1), whatever else is preferred', () => {
    expect(approveWait('respond-async', 10_000)).toEqual({ waitMs: 0, respondAsync: true });
    expect(approveWait('return=minimal, Respond-Async; foo=bar, wait=5', 10_000)).toEqual({ waitMs: 0, respondAsync: true });
  });

  it('caps the wait at wait=N seconds (§4.3), never beyond the configured maximum', () => {
    expect(approveWait('wait=3', 10_000)).toEqual({ waitMs: 3_000, respondAsync: false });
    expect(approveWait('wait=0', 10_000)).toEqual({ waitMs: 0, respondAsync: false });
    expect(approveWait('wait=600', 10_000)).toEqual({ waitMs: 10_000, respondAsync: false });
  });

  it('ignores malformed or unknown preferences', () => {
    expect(approveWait('wait=soon, handling=lenient', 10_000)).toEqual({ waitMs: 10_000, respondAsync: false });
    expect(approveWait('wait=-1', 10_000)).toEqual({ waitMs: 10_000, respondAsync: false });
  });
});
