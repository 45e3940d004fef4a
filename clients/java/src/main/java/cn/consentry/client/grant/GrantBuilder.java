package cn.consentry.client.grant;

import cn.consentry.client.credential.Dates;
import cn.consentry.client.crypto.DidKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Builds an unsigned {@code CreditDataAuthorization} grant (spec/grant.md §2–§3) in the member
 * order the reference writes. {@link #build()} checks the grant against every rule of §4 with the
 * given catalog and throws {@link GrantException} listing every violation, so a mistyped USCC or a
 * raw non-public category for a bank is caught before anything is signed.
 */
public final class GrantBuilder {
    private String id = "urn:uuid:" + UUID.randomUUID();
    private String issuer;
    private Map<String, Object> enterprise;
    private Map<String, Object> grantee;
    private final List<Object> banks = new ArrayList<>();
    private final List<Object> categories = new ArrayList<>();
    private final List<Object> purposes = new ArrayList<>();
    private Map<String, Object> dataPeriod;
    private Map<String, Object> usage;
    private final List<String> letterIds = new ArrayList<>();
    private boolean attachLetters = true;
    private String catalogVersion;
    private Instant validFrom;
    private Instant validUntil;
    private String statusBase;
    private long statusIndex = -1;
    private Catalog catalog = Catalog.builtin();

    /** @param id {@code urn:uuid:} + a lowercase UUID (a random v4 one by default) @return this */
    public GrantBuilder id(String id) {
        this.id = id;
        return this;
    }

    /** @param issuer the enterprise's did:key @return this */
    public GrantBuilder issuer(DidKey issuer) {
        this.issuer = issuer.did();
        return this;
    }

    /** @param uscc the enterprise's USCC @param name its registered name @return this */
    public GrantBuilder enterprise(String uscc, String name) {
        this.enterprise = party(uscc, name, null);
        return this;
    }

    /**
     * @param uscc the grantee's USCC
     * @param name its name
     * @param role {@code platform} or {@code node}
     * @return this
     */
    public GrantBuilder grantee(String uscc, String name, String role) {
        this.grantee = party(uscc, name, role);
        return this;
    }

    /**
     * Adds a category for the grantee.
     *
     * @param code a catalog code such as {@code TAX-03}
     * @param granularity {@code raw} or {@code derived}
     * @return this
     */
    public GrantBuilder category(String code, String granularity) {
        categories.add(cat(code, granularity));
        return this;
    }

    /**
     * Adds an onward recipient (a bank) and what it may receive through the grantee platform.
     *
     * @param uscc the bank's USCC
     * @param name its name
     * @param bankCategories code → granularity
     * @return this
     */
    public GrantBuilder bank(String uscc, String name, Map<String, String> bankCategories) {
        Map<String, Object> b = party(uscc, name, "bank");
        List<Object> cs = new ArrayList<>();
        bankCategories.forEach((c, g) -> cs.add(cat(c, g)));
        b.put("categories", cs);
        banks.add(b);
        return this;
    }

    /** @param codes purpose codes @return this */
    public GrantBuilder purposes(String... codes) {
        purposes.addAll(List.of(codes));
        return this;
    }

    /** @param from YYYY-MM-DD @param until YYYY-MM-DD (both inclusive) @return this */
    public GrantBuilder dataPeriod(String from, String until) {
        dataPeriod = new LinkedHashMap<>();
        dataPeriod.put("from", from);
        dataPeriod.put("until", until);
        return this;
    }

    /** @return this, usage {@code one-off} */
    public GrantBuilder oneOff() {
        usage = new LinkedHashMap<>();
        usage.put("mode", "one-off");
        return this;
    }

    /** @param maxReleases at most this many releases @param per {@code day}, {@code week} or {@code month} @return this */
    public GrantBuilder periodic(long maxReleases, String per) {
        usage = new LinkedHashMap<>();
        usage.put("mode", "periodic");
        usage.put("maxReleases", maxReleases);
        usage.put("per", per);
        return this;
    }

    /**
     * Cites a letter explicitly (otherwise each needed provider's newest letter is attached).
     *
     * @param letterId e.g. {@code STA/1}
     * @return this
     */
    public GrantBuilder letter(String letterId) {
        letterIds.add(letterId);
        return this;
    }

    /** @param attach whether to attach the needed providers' newest letters (default true) @return this */
    public GrantBuilder attachCurrentLetters(boolean attach) {
        this.attachLetters = attach;
        return this;
    }

    /** @param version the catalog version to cite (absent by default) @return this */
    public GrantBuilder catalogVersion(String version) {
        this.catalogVersion = version;
        return this;
    }

    /** @param from validFrom @param until validUntil (whole seconds are written) @return this */
    public GrantBuilder validity(Instant from, Instant until) {
        this.validFrom = from;
        this.validUntil = until;
        return this;
    }

    /** @param base the slot's list-pair base URL @param index its index @return this */
    public GrantBuilder status(String base, long index) {
        this.statusBase = base;
        this.statusIndex = index;
        return this;
    }

    /** @param c the catalog to attach letters from and check against @return this */
    public GrantBuilder catalog(Catalog c) {
        this.catalog = c;
        return this;
    }

    private static Map<String, Object> party(String uscc, String name, String role) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("uscc", uscc);
        m.put("name", name);
        if (role != null) {
            m.put("role", role);
        }
        return m;
    }

    private static Map<String, Object> cat(String code, String granularity) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", code);
        m.put("granularity", granularity);
        return m;
    }

    private static Map<String, Object> statusEntry(String base, long index, String purpose) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", base + "/" + purpose + "#" + index);
        m.put("type", "BitstringStatusListEntry");
        m.put("statusPurpose", purpose);
        m.put("statusListIndex", Long.toString(index));
        m.put("statusListCredential", base + "/" + purpose);
        return m;
    }

    /**
     * The unsigned grant, checked against every rule with the builder's catalog (time rules
     * excepted).
     *
     * @return the grant as a JSON object, ready for
     *     {@link cn.consentry.client.credential.Credentials#signDataIntegrity} or {@code signVcJwt}
     * @throws GrantException listing every violation
     * @throws IllegalStateException if a required part was not given
     */
    public Map<String, Object> build() throws GrantException {
        if (issuer == null || enterprise == null || grantee == null || dataPeriod == null || usage == null
                || validFrom == null || validUntil == null || statusBase == null) {
            throw new IllegalStateException("a grant needs issuer, enterprise, grantee, dataPeriod, usage, validity and status");
        }
        TreeSet<String> letters = new TreeSet<>(letterIds);
        if (attachLetters) {
            TreeSet<String> cited = new TreeSet<>();
            for (String l : letters) {
                cited.add(Catalog.providerOf(l));
            }
            for (Object o : categories) {
                Catalog.Category c = catalog.category((String) ((Map<?, ?>) o).get("code"));
                if (c != null && !c.isPublic()) {
                    for (String p : c.providers()) {
                        String newest = catalog.newestLetter(p);
                        if (newest != null && !cited.contains(p)) {
                            letters.add(newest);
                            cited.add(p);
                        }
                    }
                }
            }
        }
        Map<String, Object> subject = new LinkedHashMap<>();
        subject.put("enterprise", enterprise);
        subject.put("grantee", grantee);
        if (!banks.isEmpty()) {
            subject.put("onwardRecipients", banks);
        }
        subject.put("categories", categories);
        subject.put("purposes", purposes);
        subject.put("dataPeriod", dataPeriod);
        subject.put("usage", usage);
        List<Object> ls = new ArrayList<>();
        for (String l : letters) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", l);
            String d = catalog.letterDigest(l);
            m.put("sha256", d == null ? "" : d);
            ls.add(m);
        }
        subject.put("letters", ls);
        if (catalogVersion != null) {
            subject.put("catalogVersion", catalogVersion);
        }
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("@context", List.of(GrantRules.VC_V2, GrantRules.CONSENTRY_V1));
        g.put("id", id);
        g.put("type", List.of("VerifiableCredential", "CreditDataAuthorization"));
        g.put("issuer", issuer);
        g.put("validFrom", Dates.formatSeconds(validFrom));
        g.put("validUntil", Dates.formatSeconds(validUntil));
        g.put("credentialSubject", subject);
        g.put("credentialStatus", List.of(statusEntry(statusBase, statusIndex, "revocation"), statusEntry(statusBase, statusIndex, "suspension")));
        List<GrantException.Violation> v = GrantRules.check(g, catalog, true);
        v.removeIf(x -> x.code().equals("issuer")); // the signer is not known yet
        if (!v.isEmpty()) {
            throw new GrantException(v);
        }
        return g;
    }
}
