/**
 * Unicode bidirectional formatting controls: embeddings and overrides (U+202A–202E), isolates
 * (U+2066–2069) and the implicit marks (LRM, RLM, ALM). In a name they make text display in
 * another order than it is stored: `invoice_\u202Efdp.exe` shows as `invoice_exe.pdf`.
 */
export const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** Matches a string free of bidi controls (for `@Matches` on DTO fields). */
export const NO_BIDI_CONTROLS = /^[^\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/;

export function hasBidiControl(text: string): boolean {
  return BIDI_CONTROLS.test(text);
}
