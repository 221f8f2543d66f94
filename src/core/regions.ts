// Small table of Chinese administrative region codes (GB/T 2260) with English names, used to validate and label subject IDs.

/** A county-level (6-digit) region code and its English name. */
export interface RegionEntry {
  code: string;
  name: string;
}

/** A Beijing district; population is in units of 10,000 persons. */
export interface BeijingDistrict extends RegionEntry {
  /** 2020 (7th) census resident population, in 10k persons; source: Beijing Municipal Bureau of Statistics census bulletin No. 2 (2021-05-19). */
  population2020: number;
}

// Keyed by the two leading digits because that is all an ID's region code reliably tells us:
// county codes are reorganised often, province codes have been stable since 1997 (Chongqing, 50).
const PROVINCES: Readonly<Record<string, string>> = {
  "11": "Beijing",
  "12": "Tianjin",
  "13": "Hebei",
  "14": "Shanxi",
  "15": "Inner Mongolia",
  "21": "Liaoning",
  "22": "Jilin",
  "23": "Heilongjiang",
  "31": "Shanghai",
  "32": "Jiangsu",
  "33": "Zhejiang",
  "34": "Anhui",
  "35": "Fujian",
  "36": "Jiangxi",
  "37": "Shandong",
  "41": "Henan",
  "42": "Hubei",
  "43": "Hunan",
  "44": "Guangdong",
  "45": "Guangxi",
  "46": "Hainan",
  "50": "Chongqing",
  "51": "Sichuan",
  "52": "Guizhou",
  "53": "Yunnan",
  "54": "Tibet",
  "61": "Shaanxi",
  "62": "Gansu",
  "63": "Qinghai",
  "64": "Ningxia",
  "65": "Xinjiang",
  "71": "Taiwan",
  "81": "Hong Kong",
  "82": "Macao",
};

/** The 34 province-level codes (two digits), in ascending order. */
export const PROVINCE_CODES: readonly string[] = Object.freeze(Object.keys(PROVINCES).sort());

/** Beijing's 16 districts with their 2020 census population, for population-weighted sampling. */
export const BEIJING_DISTRICTS: readonly Readonly<BeijingDistrict>[] = Object.freeze(
  (
    [
      { code: "110101", name: "Dongcheng", population2020: 70.8829 },
      { code: "110102", name: "Xicheng", population2020: 110.6214 },
      { code: "110105", name: "Chaoyang", population2020: 345.246 },
      { code: "110106", name: "Fengtai", population2020: 201.9764 },
      { code: "110107", name: "Shijingshan", population2020: 56.7851 },
      { code: "110108", name: "Haidian", population2020: 313.3469 },
      { code: "110109", name: "Mentougou", population2020: 39.2606 },
      { code: "110111", name: "Fangshan", population2020: 131.2778 },
      { code: "110112", name: "Tongzhou", population2020: 184.0295 },
      { code: "110113", name: "Shunyi", population2020: 132.4044 },
      { code: "110114", name: "Changping", population2020: 226.9487 },
      { code: "110115", name: "Daxing", population2020: 199.3591 },
      { code: "110116", name: "Huairou", population2020: 44.104 },
      { code: "110117", name: "Pinggu", population2020: 45.7313 },
      { code: "110118", name: "Miyun", population2020: 52.7683 },
      { code: "110119", name: "Yanqing", population2020: 34.5671 },
    ] satisfies BeijingDistrict[]
  ).map((d) => Object.freeze(d)),
);

const OTHER_REGIONS: readonly RegionEntry[] = [
  { code: "320100", name: "Nanjing" },
  { code: "320102", name: "Nanjing Xuanwu District" },
  { code: "330100", name: "Hangzhou" },
  { code: "330106", name: "Hangzhou Xihu District" },
  { code: "371082", name: "Rongcheng (Weihai, Shandong)" },
];

const REGION_NAMES: ReadonlyMap<string, string> = new Map(
  [...BEIJING_DISTRICTS, ...OTHER_REGIONS].map((r) => [r.code, r.name] as const),
);

/** English name of the province a 2- or 6-digit region code belongs to, or undefined if unknown. */
export function provinceName(region: string): string | undefined {
  if (!/^(?:\d{2}|\d{6})$/.test(region)) return undefined;
  return PROVINCES[region.slice(0, 2)];
}

/** English name of a 6-digit region code from the table (xx0000 names the province), or undefined if not in the table. */
export function regionName(region: string): string | undefined {
  if (!/^\d{6}$/.test(region)) return undefined;
  const named = REGION_NAMES.get(region);
  if (named !== undefined) return named;
  // GB/T 2260 reserves xx0000 for the province itself, so it can be named without listing it.
  return region.endsWith("0000") ? PROVINCES[region.slice(0, 2)] : undefined;
}
