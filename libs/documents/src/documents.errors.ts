import { DomainError } from '@kura/common';

/** The series foreign key (added by the retention migration) answers 400, not 500. */
export function unknownSeries(err: unknown): never {
  const e = err as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string };
  const driver = e.driverError ?? e;
  if (driver.code === '23503' && driver.constraint === 'fk_documents_series') {
    throw DomainError.validation('seriesId names no series.', [{ field: 'seriesId', messages: ['seriesId names no series'] }]);
  }
  throw err;
}
