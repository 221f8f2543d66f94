// Lets Node run the benchmarks' TypeScript as is: `node --import ./bench/register.mjs bench/run.ts`. See ts-hooks.mjs.
import { register } from "node:module";

register("./ts-hooks.mjs", import.meta.url);
