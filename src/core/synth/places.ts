// Where a synthetic population lives: the jurisdictions one can ask for, their county-level region codes and population shares.
import { BEIJING_DISTRICTS, PROVINCE_CODES, provinceName } from "../regions.js";

/** A county-level region a synthetic subject is registered in. */
export interface Place {
  /** Six-digit region code (GB/T 2260): digits 1-6 of a resident ID, characters 3-8 of a credit code. */
  code: string;
  /** English name, for summaries. */
  name: string;
  /** Chinese name of the district or county, for organisation names. */
  local: string;
  /** Chinese name of the city, for enterprise names ("北京", "杭州"). */
  city: string;
  /** Relative weight: the share of the synthetic population registered here. */
  weight: number;
}

/** Chinese one-character abbreviations of the provinces (as in court case numbers, 京, 浙) and their Chinese names. */
const PROVINCES_ZH: Readonly<Record<string, readonly [string, string]>> = {
  "11": ["京", "北京"], "12": ["津", "天津"], "13": ["冀", "河北"], "14": ["晋", "山西"], "15": ["蒙", "内蒙古"],
  "21": ["辽", "辽宁"], "22": ["吉", "吉林"], "23": ["黑", "黑龙江"], "31": ["沪", "上海"], "32": ["苏", "江苏"],
  "33": ["浙", "浙江"], "34": ["皖", "安徽"], "35": ["闽", "福建"], "36": ["赣", "江西"], "37": ["鲁", "山东"],
  "41": ["豫", "河南"], "42": ["鄂", "湖北"], "43": ["湘", "湖南"], "44": ["粤", "广东"], "45": ["桂", "广西"],
  "46": ["琼", "海南"], "50": ["渝", "重庆"], "51": ["川", "四川"], "52": ["贵", "贵州"], "53": ["云", "云南"],
  "54": ["藏", "西藏"], "61": ["陕", "陕西"], "62": ["甘", "甘肃"], "63": ["青", "青海"], "64": ["宁", "宁夏"],
  "65": ["新", "新疆"], "71": ["台", "台湾"], "81": ["港", "香港"], "82": ["澳", "澳门"],
};

/** The one-character abbreviation of a region's province, as courts and agencies use it in document numbers. */
export function provinceAbbreviation(code: string): string {
  return PROVINCES_ZH[code.slice(0, 2)]?.[0] ?? "";
}

const BEIJING_ZH: Readonly<Record<string, string>> = {
  "110101": "东城区", "110102": "西城区", "110105": "朝阳区", "110106": "丰台区", "110107": "石景山区", "110108": "海淀区",
  "110109": "门头沟区", "110111": "房山区", "110112": "通州区", "110113": "顺义区", "110114": "昌平区", "110115": "大兴区",
  "110116": "怀柔区", "110117": "平谷区", "110118": "密云区", "110119": "延庆区",
};

/** Beijing's 16 districts, weighted by their 2020 census population (regions.ts). */
const BEIJING: readonly Place[] = BEIJING_DISTRICTS.map((d) => ({
  code: d.code,
  name: d.name,
  local: BEIJING_ZH[d.code] ?? d.name,
  city: "北京",
  weight: d.population2020,
}));

/**
 * Hangzhou's 13 county-level divisions after the 2021 reorganisation, weighted by their 2020 census population in 10k
 * persons (rounded; the municipal bulletin re-tabulated for the new districts). Approximate: good for shares, not for
 * quoting.
 */
const HANGZHOU: readonly Place[] = (
  [
    ["330102", "Shangcheng", "上城区", 132.4],
    ["330105", "Gongshu", "拱墅区", 116.1],
    ["330106", "Xihu", "西湖区", 112.9],
    ["330108", "Binjiang", "滨江区", 50.4],
    ["330109", "Xiaoshan", "萧山区", 201.1],
    ["330110", "Yuhang", "余杭区", 122.7],
    ["330111", "Fuyang", "富阳区", 83.6],
    ["330112", "Lin'an", "临安区", 63.6],
    ["330113", "Linping", "临平区", 117.6],
    ["330114", "Qiantang", "钱塘区", 76.9],
    ["330122", "Tonglu", "桐庐县", 45.4],
    ["330127", "Chun'an", "淳安县", 33.0],
    ["330182", "Jiande", "建德市", 44.3],
  ] as const
).map(([code, name, local, weight]) => ({ code, name: `Hangzhou ${name}`, local, city: "杭州", weight }));

/**
 * Jiangsu's 13 prefecture-level cities, each represented by one central district's code and weighted by the city's
 * 2020 census population in 10k persons (rounded). A simplification: real IDs spread over each city's ~100 counties.
 */
const JIANGSU: readonly Place[] = (
  [
    ["320102", "Nanjing Xuanwu", "南京", "玄武区", 931.5],
    ["320213", "Wuxi Liangxi", "无锡", "梁溪区", 746.2],
    ["320302", "Xuzhou Gulou", "徐州", "鼓楼区", 908.4],
    ["320402", "Changzhou Tianning", "常州", "天宁区", 527.8],
    ["320508", "Suzhou Gusu", "苏州", "姑苏区", 1274.8],
    ["320602", "Nantong Chongchuan", "南通", "崇川区", 772.7],
    ["320703", "Lianyungang Lianyun", "连云港", "连云区", 459.9],
    ["320803", "Huai'an Huai'an", "淮安", "淮安区", 455.6],
    ["320902", "Yancheng Tinghu", "盐城", "亭湖区", 671.0],
    ["321002", "Yangzhou Guangling", "扬州", "广陵区", 456.0],
    ["321102", "Zhenjiang Jingkou", "镇江", "京口区", 321.0],
    ["321202", "Taizhou Hailing", "泰州", "海陵区", 451.3],
    ["321302", "Suqian Sucheng", "宿迁", "宿城区", 498.6],
  ] as const
).map(([code, name, city, local, weight]) => ({ code, name, local, city, weight }));

/** Rongcheng, a county-level city of Weihai (Shandong), about 714,000 people in 2020. */
const RONGCHENG: readonly Place[] = [{ code: "371082", name: "Rongcheng (Weihai, Shandong)", local: "荣成市", city: "荣成", weight: 71.4 }];

/** The jurisdictions `--regions` knows by name, with the layers of the shipped rulebooks that apply to them. */
export const JURISDICTIONS: Readonly<Record<string, readonly Place[]>> = {
  beijing: BEIJING,
  hangzhou: HANGZHOU,
  jiangsu: JIANGSU,
  rongcheng: RONGCHENG,
};

/** The population weight (10k persons) given to a region code of which the tables know no population: a county of a million. */
export const DEFAULT_WEIGHT = 100;

const KNOWN: ReadonlyMap<string, Place> = new Map(Object.values(JURISDICTIONS).flat().map((p) => [p.code, p] as const));

/**
 * Reads a `--regions` value: comma-separated jurisdiction names (beijing, hangzhou, jiangsu, rongcheng) or six-digit
 * region codes, each optionally followed by `=WEIGHT`. Each item is split between its districts by population.
 * Without weights, items count for their population (a jurisdiction for the sum of its districts, a code in the tables
 * for its own, another code for DEFAULT_WEIGHT). When every item has a weight, the weights are relative
 * (`beijing=1,hangzhou=1`: half each). When only some have one, theirs are shares of the whole (below 1 together) and
 * the other items share the rest by population (`beijing,rongcheng=0.1`: a tenth in Rongcheng). Returns the places
 * with weights summing to 1, or a message naming what is wrong.
 */
export function parsePlaces(spec: string): Place[] | string {
  const items = spec.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) return "no region given: name a jurisdiction (beijing, hangzhou, jiangsu, rongcheng) or a six-digit region code";
  const groups: { places: Place[]; population: number; share: number | undefined }[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const m = /^([^=]+?)(?:\s*=\s*(.+))?$/.exec(item);
    const name = (m?.[1] ?? item).toLowerCase();
    let places: Place[];
    const named = JURISDICTIONS[name];
    if (named) places = [...named];
    else if (/^\d{6}$/.test(name)) {
      if (!provinceName(name)) return `region ${name}: unknown province code ${name.slice(0, 2)} (known: ${PROVINCE_CODES.join(", ")})`;
      const known = KNOWN.get(name);
      const [, provinceZh] = PROVINCES_ZH[name.slice(0, 2)] ?? ["", ""];
      places = [known ?? { code: name, name: `region ${name}`, local: `${provinceZh}${name}`, city: provinceZh, weight: DEFAULT_WEIGHT }];
    } else {
      return `region ${JSON.stringify(item)}: not a jurisdiction (${Object.keys(JURISDICTIONS).join(", ")}) or a six-digit region code`;
    }
    const population = places.reduce((s, p) => s + p.weight, 0);
    let share: number | undefined;
    if (m?.[2] !== undefined) {
      share = Number(m[2]);
      if (!Number.isFinite(share) || share <= 0) return `region ${name}: weight ${JSON.stringify(m[2])} is not a positive number`;
    }
    for (const p of places) {
      if (seen.has(p.code)) return `region ${p.code} is given twice`;
      seen.add(p.code);
    }
    groups.push({ places, population, share });
  }
  const explicit = groups.filter((g) => g.share !== undefined);
  const explicitSum = explicit.reduce((s, g) => s + (g.share as number), 0);
  const implicitPopulation = groups.filter((g) => g.share === undefined).reduce((s, g) => s + g.population, 0);
  let weightOf: (g: (typeof groups)[number]) => number;
  if (explicit.length === 0) weightOf = (g) => g.population / implicitPopulation;
  else if (explicit.length === groups.length) weightOf = (g) => (g.share as number) / explicitSum;
  else {
    if (explicitSum >= 1) return `the weights given (${explicit.map((g) => g.share).join(" + ")}) leave nothing for the regions given without one: with some weights missing, the others are shares of the whole and must be below 1 together`;
    weightOf = (g) => (g.share !== undefined ? g.share : ((1 - explicitSum) * g.population) / implicitPopulation);
  }
  return groups.flatMap((g) => g.places.map((p) => ({ ...p, weight: weightOf(g) * (p.weight / g.population) })));
}
