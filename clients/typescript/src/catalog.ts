/** The closed vocabularies a grant is judged against (spec/catalog.json, spec/letters.json). */
import { BUILTIN_CATALOG } from './catalog-data.js';

/** A catalog's data: categories, purposes, letters with their digests, catalog versions with derived forms. */
export interface CatalogData {
  catalogVersion: string;
  categories: { code: string; providers: string[]; public: boolean }[];
  purposes: string[];
  letters: { id: string; provider: string; sha256: string }[];
  derivationVersions: string[];
}

/** Lookup over a catalog. `Catalog.builtin()` is the catalog this library was built with. */
export class Catalog {
  readonly data: CatalogData;
  readonly #categories: Map<string, { code: string; providers: string[]; public: boolean }>;
  readonly #purposes: Set<string>;
  readonly #letters: Map<string, { id: string; provider: string; sha256: string }>;
  constructor(data: CatalogData) {
    this.data = data;
    this.#categories = new Map(data.categories.map((c) => [c.code, c]));
    this.#purposes = new Set(data.purposes);
    this.#letters = new Map(data.letters.map((l) => [l.id, l]));
  }
  static #builtin: Catalog | undefined;
  /** The built-in catalog (generated from spec/ at release time). */
  static builtin(): Catalog {
    return (Catalog.#builtin ??= new Catalog(BUILTIN_CATALOG));
  }
  /** A category by code. */
  category(code: string) {
    return this.#categories.get(code);
  }
  /** True if `code` is a purpose of the closed vocabulary. */
  hasPurpose(code: string): boolean {
    return this.#purposes.has(code);
  }
  /** A letter by id (`STA/1`), with its digest. */
  letter(id: string) {
    return this.#letters.get(id);
  }
  /** True if the node holds derived forms for this catalog version. */
  hasCatalogVersion(v: string): boolean {
    return this.data.derivationVersions.includes(v);
  }
  /** The newest letter of each provider of the non-public categories among `codes`. */
  lettersFor(codes: string[]): { id: string; sha256: string }[] {
    const providers = new Set<string>();
    for (const c of codes) {
      const cat = this.category(c);
      if (cat && !cat.public) cat.providers.forEach((p) => providers.add(p));
    }
    const out: { id: string; sha256: string }[] = [];
    for (const p of [...providers].sort()) {
      const ls = this.data.letters.filter((l) => l.provider === p);
      ls.sort((a, b) => Number(b.id.split('/')[1]) - Number(a.id.split('/')[1]));
      if (ls[0]) out.push({ id: ls[0].id, sha256: ls[0].sha256 });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
