import { murmurHash3X86_32 as h } from './src/murmur3';
const nv = (id: string, g: string, n: number, seed: number) => (h(`${g}:${id}`, seed) % n) + 1;
console.log(nv('999','groupX',100,0), nv('123','gr1',100,86028157), nv('999','groupX',100,86028157));
for (const s of ['Feature.flexibleRollout.10:174','Feature.flexibleRollout.10:499','gr1:123','groupX:999','Feature.flexibleRollout.userId.55:25','Feature.flexibleRollout.sessionId.42:147']) console.log(s, h(s,0), h(s,86028157));
