import { parseTrigger, RetentionPeriod } from '../retention-period';
import plan from './japan-file-plan.json';

export interface FilePlanSource {
  title: string;
  url: string;
}

export interface FilePlanEntry extends RetentionPeriod {
  code: string;
  name: string;
  trigger: string;
  /** "The later of": kept at least until minimum.trigger + its period. */
  minimum?: RetentionPeriod & { trigger: string };
  disposition: 'destroy' | 'review';
  citation: string;
  eventNote?: string;
  sources: FilePlanSource[];
}

export interface FilePlan {
  name: string;
  version: string;
  notice: string;
  series: FilePlanEntry[];
}

/** The shipped seed file plan (docs/retention.md lists it with its sources), checked on load. */
export function seedFilePlan(): FilePlan {
  const value = plan as FilePlan;
  const problems = validateFilePlan(value);
  if (problems.length) throw new Error(`seed file plan is invalid: ${problems.join('; ')}`);
  return value;
}

export function validateFilePlan(value: FilePlan): string[] {
  const problems: string[] = [];
  const codes = new Set<string>();
  for (const s of value.series) {
    if (codes.has(s.code)) problems.push(`${s.code}: duplicate code`);
    codes.add(s.code);
    if (!parseTrigger(s.trigger)) problems.push(`${s.code}: bad trigger ${s.trigger}`);
    if (s.disposition !== 'destroy' && s.disposition !== 'review') problems.push(`${s.code}: bad disposition`);
    for (const k of ['years', 'months', 'days'] as const) {
      if (!Number.isInteger(s[k]) || s[k] < 0) problems.push(`${s.code}: ${k} must be a whole number >= 0`);
    }
    if (s.minimum) {
      if (!parseTrigger(s.minimum.trigger)) problems.push(`${s.code}: bad minimum trigger ${s.minimum.trigger}`);
      for (const k of ['years', 'months', 'days'] as const) {
        if (!Number.isInteger(s.minimum[k]) || s.minimum[k] < 0) problems.push(`${s.code}: minimum ${k} must be a whole number >= 0`);
      }
    }
    if (!s.citation.trim()) problems.push(`${s.code}: citation missing`);
    if (!s.sources.length || s.sources.some((src) => !/^https:\/\//.test(src.url))) problems.push(`${s.code}: sources missing`);
  }
  return problems;
}
