import type { Normalised } from '../text/normalise.js';

/** A text the rules run on: `raw` views keep case and line breaks for the delimiter rules. */
export interface TextView {
  readonly name: string;
  readonly text: string;
  readonly raw: boolean;
}

/** The views of the message itself (decoded payloads add their own). Training uses the same function. */
export function mainViews(raw: string, norm: Normalised): TextView[] {
  return [
    { name: 'text', text: norm.text, raw: false },
    { name: 'raw', text: raw, raw: true },
    ...(norm.folded !== norm.text ? [{ name: 'leetspeak', text: norm.folded, raw: false }] : []),
  ];
}
