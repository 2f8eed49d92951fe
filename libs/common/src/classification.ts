/** Classification levels, ordered. Users hold a clearance on the same scale. */
export enum Classification {
  PUBLIC = 0,
  INTERNAL = 1,
  CONFIDENTIAL = 2,
  SECRET = 3,
}

export const CLASSIFICATION_NAMES = ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'SECRET'] as const;
export type ClassificationName = (typeof CLASSIFICATION_NAMES)[number];

/** Japanese labels used on stamped documents and certificates. */
export const CLASSIFICATION_LABELS_JA: Record<ClassificationName, string> = {
  PUBLIC: '公開',
  INTERNAL: '社外秘',
  CONFIDENTIAL: '秘',
  SECRET: '極秘',
};

export function classificationName(level: number): ClassificationName {
  const name = CLASSIFICATION_NAMES[level];
  if (name === undefined) throw new RangeError(`no classification level ${level}`);
  return name;
}

/** Accepts a level name (`CONFIDENTIAL`) or its number (2, "2"); undefined when neither. */
export function parseClassification(value: unknown): Classification | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 3) return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^[0-3]$/.test(trimmed)) return Number(trimmed);
    const idx = (CLASSIFICATION_NAMES as readonly string[]).indexOf(trimmed.toUpperCase());
    if (idx >= 0) return idx;
  }
  return undefined;
}
