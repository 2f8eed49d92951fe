import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AuditEventsQuery } from './audit-events.query';

async function errors(query: Record<string, unknown>): Promise<string[]> {
  const dto = plainToInstance(AuditEventsQuery, query);
  return (await validate(dto, { whitelist: true, forbidNonWhitelisted: true })).map((e) => e.property);
}

describe(AuditEventsQuery.name, () => {
  it('accepts every filter in its documented form, query strings included', async () => {
    await expect(
      errors({
        actor: 'alice',
        action: 'document.read',
        targetId: 'b9d3c7e2-1111-4222-8333-944455566677',
        outcome: 'denied',
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-02T00:00:00.000+09:00',
        page: '2',
        pageSize: '500',
        format: 'json',
      }),
    ).resolves.toEqual([]);
    expect(plainToInstance(AuditEventsQuery, { page: '2', pageSize: '10' })).toMatchObject({ page: 2, pageSize: 10 });
    await expect(errors({})).resolves.toEqual([]);
    for (const format of ['json', 'csv', 'jsonl', 'pdf']) await expect(errors({ format })).resolves.toEqual([]);
  });

  it('rejects malformed filters, each by name', async () => {
    await expect(errors({ action: 'Document Read' })).resolves.toEqual(['action']);
    await expect(errors({ outcome: 'maybe' })).resolves.toEqual(['outcome']);
    await expect(errors({ from: 'yesterday' })).resolves.toEqual(['from']);
    await expect(errors({ to: '2026-13-45' })).resolves.toEqual(['to']);
    await expect(errors({ page: '0' })).resolves.toEqual(['page']);
    await expect(errors({ page: 'x' })).resolves.toEqual(['page']);
    await expect(errors({ pageSize: '501' })).resolves.toEqual(['pageSize']);
    await expect(errors({ pageSize: '1.5' })).resolves.toEqual(['pageSize']);
    await expect(errors({ actor: '' })).resolves.toEqual(['actor']);
    await expect(errors({ targetId: 'x'.repeat(201) })).resolves.toEqual(['targetId']);
    await expect(errors({ format: 'xml' })).resolves.toEqual(['format']);
    await expect(errors({ format: 'CSV' })).resolves.toEqual(['format']);
    await expect(errors({ sort: 'seq' })).resolves.toEqual(['sort']);
  });
});
