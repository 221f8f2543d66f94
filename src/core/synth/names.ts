// Chinese names for synthetic people and enterprises, drawn with rough real frequencies.
import { Weighted, type Random } from "./random.js";

/**
 * The hundred most common surnames with their approximate share of the population in percent (the head after the
 * Ministry of Public Security's 2020 report on registered names, rounded; the tail smoothed). Together about 85%; the
 * remaining 15% is spread over RARE_SURNAMES.
 */
const COMMON_SURNAMES: readonly (readonly [string, number])[] = [
  ["王", 7.1], ["李", 7.0], ["张", 6.8], ["刘", 5.4], ["陈", 4.6], ["杨", 3.1], ["黄", 2.3], ["赵", 2.1], ["吴", 1.9], ["周", 1.8],
  ["徐", 1.5], ["孙", 1.4], ["马", 1.3], ["朱", 1.2], ["胡", 1.2], ["郭", 1.1], ["何", 1.0], ["林", 1.0], ["高", 1.0], ["罗", 0.9],
  ["郑", 0.9], ["梁", 0.8], ["谢", 0.7], ["宋", 0.6], ["唐", 0.6], ["许", 0.6], ["韩", 0.6], ["邓", 0.6], ["冯", 0.6], ["曹", 0.5],
  ["彭", 0.5], ["曾", 0.5], ["肖", 0.5], ["田", 0.5], ["董", 0.5], ["潘", 0.5], ["袁", 0.4], ["蔡", 0.4], ["蒋", 0.4], ["余", 0.4],
  ["于", 0.4], ["杜", 0.4], ["叶", 0.4], ["程", 0.4], ["魏", 0.4], ["苏", 0.4], ["吕", 0.4], ["丁", 0.4], ["任", 0.4], ["卢", 0.3],
  ["姚", 0.3], ["沈", 0.3], ["钟", 0.3], ["姜", 0.3], ["崔", 0.3], ["谭", 0.3], ["陆", 0.3], ["范", 0.3], ["汪", 0.3], ["廖", 0.3],
  ["石", 0.3], ["金", 0.3], ["韦", 0.3], ["贾", 0.3], ["夏", 0.3], ["付", 0.3], ["方", 0.3], ["邹", 0.2], ["熊", 0.2], ["白", 0.2],
  ["孟", 0.2], ["秦", 0.2], ["邱", 0.2], ["侯", 0.2], ["江", 0.2], ["尹", 0.2], ["薛", 0.2], ["闫", 0.2], ["段", 0.2], ["雷", 0.2],
  ["龙", 0.2], ["黎", 0.2], ["史", 0.2], ["陶", 0.2], ["贺", 0.2], ["毛", 0.2], ["郝", 0.2], ["顾", 0.2], ["龚", 0.2], ["邵", 0.2],
  ["万", 0.2], ["覃", 0.2], ["武", 0.2], ["钱", 0.2], ["戴", 0.2], ["严", 0.2], ["莫", 0.2], ["孔", 0.2], ["向", 0.2], ["常", 0.2],
];

const RARE_SURNAMES: readonly string[] = [..."汤康易乔赖文施洪辛柯庄葛牛童齐岳鲁安", "欧阳", "司马", "诸葛", "上官", "东方"];

const SURNAMES = new Weighted<string>([
  ...COMMON_SURNAMES,
  ...RARE_SURNAMES.map((s) => [s, 15 / RARE_SURNAMES.length] as const),
]);

// Characters of given names, the more frequent first; the weights fall off as 1/rank (Zipf), which is roughly how they are used.
const MALE_CHARS = "伟强磊军勇杰涛明超斌刚辉华平鹏飞宇浩俊凯健建国文博志海波峰亮东兵龙鑫帅旭宁晨阳天林成永新昊然皓轩子豪嘉睿泽航";
const FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲英梅兰婷雪琳晶慧颖洁佳欣怡萍红燕玉倩璐瑶丹妍琪雨桐诗涵梓萱可馨若思悦彤月晓";
const zipf = (chars: string) => new Weighted<string>(Array.from(chars).map((c, i) => [c, 1 / (i + 1)] as const));
const MALE = zipf(MALE_CHARS);
const FEMALE = zipf(FEMALE_CHARS);

/** A person's name: a surname and a given name of one character (about a quarter) or two. */
export function personName(r: Random, male: boolean): string {
  const given = male ? MALE : FEMALE;
  const surname = SURNAMES.sample(r);
  return r.chance(0.25) ? surname + given.sample(r) : surname + given.sample(r) + given.sample(r);
}

const TRADE_CHARS = "华瑞鑫恒泰达兴盛嘉和新源通信宏远博安德万金隆中天创联富佳建永昌元丰润海智诚誉腾祥众合辰宇";
const TRADE = zipf(TRADE_CHARS);
const INDUSTRIES = new Weighted<string>([
  ["科技", 14], ["商贸", 10], ["贸易", 8], ["建筑工程", 6], ["餐饮管理", 6], ["文化传媒", 5], ["信息技术", 6], ["网络科技", 5],
  ["物流", 4], ["房地产开发", 3], ["投资管理", 3], ["医药", 2], ["教育咨询", 3], ["电子", 3], ["机械设备", 3], ["服装", 2],
  ["食品", 3], ["环保科技", 2], ["装饰工程", 4], ["汽车服务", 2], ["广告", 2], ["劳务派遣", 1], ["农业开发", 1], ["生物科技", 2],
]);
const FORMS = new Weighted<string>([["有限公司", 82], ["有限责任公司", 10], ["股份有限公司", 4], ["合伙企业（有限合伙）", 4]]);

/** An enterprise's registered name: city, trade name, industry and legal form, e.g. 北京华瑞科技有限公司. */
export function enterpriseName(r: Random, city: string): string {
  return city + TRADE.sample(r) + TRADE.sample(r) + INDUSTRIES.sample(r) + FORMS.sample(r);
}
