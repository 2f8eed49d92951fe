import { createMongoAbility } from '@casl/ability';
import { abilityToSql, UntranslatableRuleError } from './casl-sql';
import { DOCUMENT_SQL_FIELDS } from './access-policy';

const sqlFor = (rules: Parameters<typeof createMongoAbility>[0], offset = 0) => abilityToSql(createMongoAbility(rules), 'read', 'Document', DOCUMENT_SQL_FIELDS, offset);

describe('abilityToSql', () => {
  it('denies everything when no rule grants the action', () => {
    expect(sqlFor([])).toEqual({ sql: 'FALSE', params: [] });
    expect(sqlFor([{ action: 'read', subject: 'Document', inverted: true }])).toEqual({ sql: 'FALSE', params: [] });
  });

  it('allows everything for an unconditional rule', () => {
    expect(sqlFor([{ action: 'read', subject: 'Document' }])).toEqual({ sql: 'TRUE', params: [] });
  });

  it('translates conditions into parameterised, two-valued SQL', () => {
    const out = sqlFor(
      [
        { action: 'read', subject: 'Document', conditions: { department: { $in: ['hr'] }, classification: { $lte: 2 } } },
        { action: 'read', subject: 'Document', conditions: { classification: 0 } },
        { action: 'read', subject: 'Document', inverted: true, conditions: { personalData: 'specific' } },
      ],
      3,
    );
    expect(out.sql).not.toMatch(/'hr'|specific/);
    expect(out.params).toEqual(expect.arrayContaining([['hr'], 2, 0, 'specific']));
    expect(out.sql).toMatch(/\$4/);
    expect(out.sql).not.toMatch(/\$1\b|\$2\b|\$3\b/);
    expect(out.sql).toContain('NOT');
    expect(out.sql).toContain('d.personal_data = $');
  });

  it('uses NULL-safe forms on nullable columns and for null values', () => {
    expect(sqlFor([{ action: 'read', subject: 'Document', conditions: { seriesId: { $ne: 'x' } } }]).sql).toBe('d.series_id IS DISTINCT FROM $1');
    expect(sqlFor([{ action: 'read', subject: 'Document', conditions: { seriesId: null } }]).sql).toBe('d.series_id IS NULL');
    expect(sqlFor([{ action: 'read', subject: 'Document', conditions: { classification: { $lte: 2 } } }]).sql).toBe('d.classification <= $1');
  });

  it('uses array semantics for tags', () => {
    expect(sqlFor([{ action: 'read', subject: 'Document', conditions: { tags: 'x' } }]).sql).toBe('COALESCE($1 = ANY(d.tags), FALSE)');
  });

  it('fails closed on fields and operators it cannot express', () => {
    expect(() => sqlFor([{ action: 'read', subject: 'Document', conditions: { secretField: 1 } }])).toThrow(UntranslatableRuleError);
    expect(() => sqlFor([{ action: 'read', subject: 'Document', conditions: { title: { $regex: 'x' } } }])).toThrow(UntranslatableRuleError);
  });
});
