// The shape of a synthetic population: its age pyramid and sex ratio.
import { Weighted, type Random } from "./random.js";

/**
 * Share of the resident population in each five-year age band (0-4, 5-9, ..., 95-99), in percent: Beijing's 2020
 * census, read off the published pyramid and rounded (0-14: about 12%, 15-59: about 68%, 60 and over: about 20%).
 * Normalised before use. Nobody is generated older than 99.
 */
export const AGE_BANDS: readonly number[] = [
  4.4, 4.4, 3.1, 3.0, 5.0, 8.0, 10.6, 9.5, 7.8, 7.2, 7.4, 6.4, 6.1, 5.3, 3.6, 2.3, 1.6, 0.9, 0.3, 0.1,
];

/** Men per person: Beijing's 2020 census sex ratio was 104.7 men per 100 women. */
export const MALE_SHARE = 104.7 / 204.7;

const BANDS = new Weighted<number>(AGE_BANDS.map((w, i) => [i, w] as const));
const DAYS_PER_YEAR = 365.2425;

/** An age in days drawn from the pyramid: a band by its share, then uniformly within the band. */
export function sampleAgeDays(r: Random): number {
  const band = BANDS.index(r);
  return Math.floor((band * 5 + r.float() * 5) * DAYS_PER_YEAR);
}

/** The oldest age the pyramid gives, in days. */
export const MAX_AGE_DAYS = Math.ceil(AGE_BANDS.length * 5 * DAYS_PER_YEAR);

/** The share of the pyramid below an age in years (for tests and the documentation's arithmetic). */
export function shareYoungerThan(years: number): number {
  const total = AGE_BANDS.reduce((s, w) => s + w, 0);
  let below = 0;
  AGE_BANDS.forEach((w, i) => {
    const lo = i * 5;
    below += w * Math.min(1, Math.max(0, (years - lo) / 5));
  });
  return below / total;
}
