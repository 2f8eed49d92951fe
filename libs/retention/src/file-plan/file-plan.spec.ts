import { seedFilePlan, validateFilePlan } from './file-plan';

describe('seed file plan', () => {
  const plan = seedFilePlan();
  const byCode = Object.fromEntries(plan.series.map((s) => [s.code, s]));

  it('is valid: unique codes, parseable triggers, periods, citations and sources', () => {
    expect(validateFilePlan(plan)).toEqual([]);
    expect(plan.series.length).toBeGreaterThanOrEqual(7);
  });

  it('keeps withholding records and 扶養控除等申告書 7 years under 所得税法施行規則', () => {
    for (const code of ['JP-TAX-DEPENDENT-DECL', 'JP-TAX-WITHHOLDING-LEDGER']) {
      expect(byCode[code]).toMatchObject({ years: 7, months: 0, days: 0, disposition: 'destroy' });
      expect(byCode[code].citation).toContain('所得税法');
    }
    expect(byCode['JP-TAX-DEPENDENT-DECL'].citation).toContain('所得税法施行規則');
  });

  it('keeps 賃金台帳 and 労働者名簿 5 years under 労働基準法 第109条, noting the 3-year 経過措置', () => {
    for (const code of ['JP-LABOR-WAGE-LEDGER', 'JP-LABOR-WORKER-ROSTER']) {
      expect(byCode[code]).toMatchObject({ years: 5 });
      expect(byCode[code].citation).toMatch(/労働基準法 第109条/);
      expect(byCode[code].citation).toMatch(/経過措置.*3年/);
    }
    expect(byCode['JP-LABOR-WORKER-ROSTER'].trigger).toBe('event:employment-ended');
  });

  it('keeps accounting books 7 years (法人税法施行規則) and 会社法 statements and books 10 years', () => {
    expect(byCode['JP-CORP-TAX-BOOKS']).toMatchObject({ years: 7 });
    expect(byCode['JP-CORP-TAX-BOOKS'].citation).toContain('法人税法施行規則');
    expect(byCode['JP-CORP-FINANCIAL-STATEMENTS']).toMatchObject({ years: 10, trigger: 'created' });
    expect(byCode['JP-CORP-FINANCIAL-STATEMENTS'].citation).toContain('会社法 第435条');
    expect(byCode['JP-CORP-ACCOUNTING-BOOKS']).toMatchObject({ years: 10, trigger: 'event:books-closed' });
    expect(byCode['JP-CORP-ACCOUNTING-BOOKS'].citation).toContain('会社法 第432条');
  });

  it('keeps 扶養控除等申告書 carrying My Numbers until the later of the purpose ending and 7 years after the filing deadline', () => {
    expect(byCode['JP-MYNUMBER-DEPENDENT-DECL']).toMatchObject({
      years: 0, trigger: 'event:purpose-ended', disposition: 'destroy',
      minimum: { trigger: 'event:filing-deadline-passed', years: 7, months: 0, days: 0 },
    });
    expect(validateFilePlan({ ...plan, series: [{ ...byCode['JP-MYNUMBER-DEPENDENT-DECL'], minimum: { trigger: 'event:Bad', years: -1, months: 0, days: 0 } }] })).toEqual([
      'JP-MYNUMBER-DEPENDENT-DECL: bad minimum trigger event:Bad',
      'JP-MYNUMBER-DEPENDENT-DECL: minimum years must be a whole number >= 0',
    ]);
  });

  it('deletes My Number copies as soon as the purpose ends', () => {
    expect(byCode['JP-MYNUMBER-COPIES']).toMatchObject({ years: 0, months: 0, days: 0, trigger: 'event:purpose-ended', disposition: 'destroy' });
    expect(byCode['JP-MYNUMBER-COPIES'].citation).toMatch(/番号法/);
    expect(byCode['JP-MYNUMBER-COPIES'].citation).toMatch(/個人情報保護委員会/);
  });

  it('reports what is wrong with a bad plan', () => {
    const bad = { ...plan, series: [{ ...plan.series[0], trigger: 'event:Bad Name', years: -1 }, plan.series[0]] };
    const problems = validateFilePlan(bad);
    expect(problems.join('\n')).toMatch(/bad trigger/);
    expect(problems.join('\n')).toMatch(/years must be/);
    expect(problems.join('\n')).toMatch(/duplicate code/);
  });
});
