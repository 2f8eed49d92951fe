import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { parseClassification } from '@kura/common';

/** Accepts a level name (`CONFIDENTIAL`) or number (0–3); anything else fails IsInt/Min/Max. */
export function IsClassification(): PropertyDecorator {
  return (target, key) => {
    Transform(({ value }) => (value === undefined || value === null ? value : (parseClassification(value) ?? Number.NaN)))(target, key);
    IsInt({ message: `${String(key)} must be PUBLIC, INTERNAL, CONFIDENTIAL, SECRET or 0–3` })(target, key);
    Min(0)(target, key);
    Max(3)(target, key);
  };
}
