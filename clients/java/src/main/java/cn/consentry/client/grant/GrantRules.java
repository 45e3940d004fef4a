package cn.consentry.client.grant;

import cn.consentry.client.credential.Dates;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The data-model check and the grant rules of spec/grant.md §4 and §5 step 2 (a port of src/grant/rules.rs). */
public final class GrantRules {
    /** The VC 2.0 context. */
    public static final String VC_V2 = "https://www.w3.org/ns/credentials/v2";
    /** The grant context. */
    public static final String CONSENTRY_V1 = "https://w3id.org/consentry/v1";
    private static final Set<String> MEMBERS = Set.of("@context", "id", "type", "issuer", "validFrom", "validUntil",
            "credentialSubject", "credentialStatus", "name", "description");

    private GrantRules() {}

    /** What the data-model check extracts. */
    record Info(String id, String issuer, List<String> types, Instant validFrom, Instant validUntil) {}

    static List<String> stringList(Object v) {
        List<String> out = new ArrayList<>();
        if (v instanceof String) {
            out.add((String) v);
        } else if (v instanceof List) {
            for (Object o : (List<?>) v) {
                if (o instanceof String) {
                    out.add((String) o);
                }
            }
        }
        return out;
    }

    /** VC Data Model 2.0 (§5 step 2): one {@code vc-data-model} violation, or the info. */
    static Info checkCredential(Map<String, Object> doc) throws GrantException {
        Object ctx = doc.get("@context");
        if (!(ctx instanceof List) || ((List<?>) ctx).isEmpty() || !VC_V2.equals(((List<?>) ctx).get(0))) {
            throw vcdm("@context must be an array whose first item is " + VC_V2);
        }
        List<String> types = stringList(doc.get("type"));
        if (!types.contains("VerifiableCredential")) {
            throw vcdm("type must include VerifiableCredential");
        }
        Object iss = doc.get("issuer");
        String issuer = iss instanceof String ? (String) iss
                : iss instanceof Map && ((Map<?, ?>) iss).get("id") instanceof String ? (String) ((Map<?, ?>) iss).get("id") : null;
        if (issuer == null || !issuer.contains(":")) {
            throw vcdm("issuer must be a URL or an object whose id is a URL");
        }
        Object subject = doc.get("credentialSubject");
        boolean subjectOk = subject instanceof Map || (subject instanceof List && !((List<?>) subject).isEmpty()
                && ((List<?>) subject).stream().allMatch(o -> o instanceof Map));
        if (!subjectOk) {
            throw vcdm("credentialSubject must be present");
        }
        Instant from = date(doc, "validFrom");
        Instant until = date(doc, "validUntil");
        if (from != null && until != null && from.isAfter(until)) {
            throw vcdm("validFrom is after validUntil");
        }
        return new Info(doc.get("id") instanceof String ? (String) doc.get("id") : null, issuer, types, from, until);
    }

    private static Instant date(Map<String, Object> doc, String field) throws GrantException {
        if (!doc.containsKey(field)) {
            return null;
        }
        Object v = doc.get(field);
        try {
            return Dates.parseStamp(v instanceof String ? (String) v : "");
        } catch (IllegalArgumentException e) {
            throw vcdm(field + ": " + e.getMessage());
        }
    }

    private static GrantException vcdm(String m) {
        return new GrantException(List.of(new GrantException.Violation("vc-data-model", m)));
    }

    /**
     * Checks an unsigned grant: the data model, then every rule of §4 except the time rules.
     *
     * @param grant the grant
     * @param catalog the catalog
     * @param withDataModel whether to run the data-model check first (its failure is returned as the only violation)
     * @return every violation (empty when valid)
     */
    public static List<GrantException.Violation> check(Map<String, Object> grant, Catalog catalog, boolean withDataModel) {
        Info info;
        try {
            info = checkCredential(grant);
        } catch (GrantException e) {
            return new ArrayList<>(e.violations());
        }
        return checkDocument(grant, info, catalog);
    }

    static List<GrantException.Violation> checkDocument(Map<String, Object> doc, Info info, Catalog catalog) {
        List<GrantException.Violation> v = new ArrayList<>();
        for (String k : doc.keySet()) {
            if (!MEMBERS.contains(k)) {
                v.add(new GrantException.Violation("unexpected-member", "top-level member " + k + " is not part of a grant"));
            }
        }
        if (!stringList(doc.get("@context")).contains(CONSENTRY_V1) || !info.types().contains("CreditDataAuthorization")) {
            v.add(new GrantException.Violation("not-a-grant", "@context must contain " + CONSENTRY_V1 + " and type CreditDataAuthorization"));
        }
        if (info.id() == null) {
            v.add(new GrantException.Violation("grant-id", "missing"));
        } else if (!isGrantId(info.id())) {
            v.add(new GrantException.Violation("grant-id", info.id() + " is not urn:uuid: with a lowercase hyphenated UUID"));
        }
        if (!info.issuer().startsWith("did:key:")) {
            v.add(new GrantException.Violation("issuer", info.issuer() + " is not a did:key"));
        }
        if (info.validFrom() == null || info.validUntil() == null) {
            v.add(new GrantException.Violation("validity-window", "validFrom and validUntil are required"));
        }
        checkStatus(doc.get("credentialStatus"), v);
        Object subject = doc.get("credentialSubject");
        if (subject instanceof Map) {
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> t = (Map<String, Object>) subject;
                Shape.terms(t);
                checkTerms(t, catalog, v);
            } catch (Shape.Malformed e) {
                v.add(new GrantException.Violation("malformed-terms", e.getMessage()));
            }
        } else {
            v.add(new GrantException.Violation("malformed-terms", subject == null ? "missing" : "must be a single JSON object"));
        }
        return v;
    }

    private static void checkStatus(Object value, List<GrantException.Violation> v) {
        if (!(value instanceof List)) {
            v.add(new GrantException.Violation("credential-status", "a grant needs an array with a revocation and a suspension entry"));
            return;
        }
        List<Map<?, ?>> entries = new ArrayList<>();
        try {
            for (Object o : (List<?>) value) {
                entries.add(Shape.statusEntry(o));
            }
        } catch (Shape.Malformed e) {
            v.add(new GrantException.Violation("credential-status", e.getMessage()));
            return;
        }
        Map<?, ?> revocation = null;
        Map<?, ?> suspension = null;
        int before = v.size();
        for (Map<?, ?> e : entries) {
            String idx = (String) e.get("statusListIndex");
            String url = (String) e.get("statusListCredential");
            String problem = null;
            if (!isU64(idx)) {
                problem = "statusListIndex " + idx + " is not a base-10 integer without leading zeros that fits in 64 bits";
            } else if (!(url.startsWith("http://") || url.startsWith("https://")) || hasWhitespace(url)) {
                problem = "statusListCredential " + url + " is not an http(s) URL";
            } else if (url.equals(e.get("id"))) {
                problem = "id must not equal statusListCredential";
            }
            if (problem != null) {
                v.add(new GrantException.Violation("credential-status", problem));
                continue;
            }
            boolean rev = "revocation".equals(e.get("statusPurpose"));
            if ((rev ? revocation : suspension) != null) {
                v.add(new GrantException.Violation("credential-status", "more than one " + e.get("statusPurpose") + " entry"));
            }
            if (rev) {
                revocation = e;
            } else {
                suspension = e;
            }
        }
        if (v.size() > before) {
            return;
        }
        if (revocation != null && suspension != null) {
            String r = (String) revocation.get("statusListCredential");
            String s = (String) suspension.get("statusListCredential");
            boolean same = r.endsWith("/revocation") && s.endsWith("/suspension")
                    && r.substring(0, r.length() - 11).equals(s.substring(0, s.length() - 11))
                    && revocation.get("statusListIndex").equals(suspension.get("statusListIndex"));
            if (!same) {
                v.add(new GrantException.Violation("credential-status",
                        "revocation and suspension must share one index in <base>/revocation and <base>/suspension"));
            }
            return;
        }
        if (revocation == null) {
            v.add(new GrantException.Violation("credential-status", "no revocation entry"));
        }
        if (suspension == null) {
            v.add(new GrantException.Violation("credential-status", "no suspension entry"));
        }
    }

    private static void uscc(String party, Object code, List<GrantException.Violation> v) {
        String p = Uscc.problem((String) code);
        if (p != null) {
            v.add(new GrantException.Violation("invalid-uscc", party + " " + code + ": " + p));
        }
    }

    @SuppressWarnings("unchecked")
    private static void checkTerms(Map<String, Object> t, Catalog catalog, List<GrantException.Violation> v) {
        Map<String, Object> ent = (Map<String, Object>) t.get("enterprise");
        Map<String, Object> grantee = (Map<String, Object>) t.get("grantee");
        List<Map<String, Object>> banks = t.containsKey("onwardRecipients") ? (List<Map<String, Object>>) t.get("onwardRecipients") : List.of();
        List<Map<String, Object>> cats = (List<Map<String, Object>>) t.get("categories");
        List<String> purposes = (List<String>) t.get("purposes");
        List<Map<String, Object>> letters = t.containsKey("letters") ? (List<Map<String, Object>>) t.get("letters") : List.of();
        if (((String) ent.get("name")).trim().isEmpty()) {
            v.add(new GrantException.Violation("malformed-terms", "enterprise name is empty"));
        }
        if (((String) grantee.get("name")).trim().isEmpty()) {
            v.add(new GrantException.Violation("malformed-terms", "grantee name is empty"));
        }
        for (Map<String, Object> b : banks) {
            if (((String) b.get("name")).trim().isEmpty()) {
                v.add(new GrantException.Violation("malformed-terms", "onward recipient name is empty"));
            }
        }
        uscc("enterprise", ent.get("uscc"), v);
        uscc("grantee", grantee.get("uscc"), v);
        Set<Object> parties = new HashSet<>();
        parties.add(ent.get("uscc"));
        if (!parties.add(grantee.get("uscc"))) {
            v.add(new GrantException.Violation("duplicate-participant", (String) grantee.get("uscc")));
        }
        if (t.containsKey("catalogVersion") && !catalog.version().equals(t.get("catalogVersion"))) {
            v.add(new GrantException.Violation("unknown-catalog-version", (String) t.get("catalogVersion")));
        }
        if (cats.isEmpty()) {
            v.add(new GrantException.Violation("no-categories", "the grantee has no category"));
        }
        Map<String, String> granted = new LinkedHashMap<>();
        for (Map<String, Object> c : cats) {
            String code = (String) c.get("code");
            if (granted.containsKey(code)) {
                v.add(new GrantException.Violation("duplicate-category", code));
            } else {
                granted.put(code, (String) c.get("granularity"));
            }
            if (catalog.category(code) == null) {
                v.add(new GrantException.Violation("unknown-category", code));
            }
        }
        if (!banks.isEmpty() && !"platform".equals(grantee.get("role"))) {
            v.add(new GrantException.Violation("recipients-without-platform", "onward recipients need a platform grantee"));
        }
        for (Map<String, Object> b : banks) {
            String bu = (String) b.get("uscc");
            uscc("onward recipient", bu, v);
            if (!parties.add(bu)) {
                v.add(new GrantException.Violation("duplicate-participant", bu));
            }
            Set<String> seen = new HashSet<>();
            List<Map<String, Object>> bc = (List<Map<String, Object>>) b.get("categories");
            for (Map<String, Object> c : bc) {
                String code = (String) c.get("code");
                String g = (String) c.get("granularity");
                if (!seen.add(code)) {
                    v.add(new GrantException.Violation("duplicate-category", code + " (for " + bu + ")"));
                }
                Catalog.Category cat = catalog.category(code);
                if (cat == null) {
                    v.add(new GrantException.Violation("unknown-category", code));
                    continue;
                }
                if (g.equals("raw") && !cat.isPublic()) {
                    v.add(new GrantException.Violation("bank-raw-non-public", "bank " + bu + " may not receive raw " + code + " (non-public)"));
                }
                String mine = granted.get(code);
                if (mine == null || (mine.equals("derived") && g.equals("raw"))) {
                    v.add(new GrantException.Violation("recipient-not-covered", "bank " + bu + ": " + code + " " + g + " is not covered by the grantee's categories"));
                }
            }
            if (bc.isEmpty()) {
                v.add(new GrantException.Violation("no-categories", "bank " + bu + " has no category"));
            }
        }
        if (purposes.isEmpty()) {
            v.add(new GrantException.Violation("no-purposes", "at least one purpose"));
        }
        Set<String> seenP = new HashSet<>();
        for (String p : purposes) {
            if (!seenP.add(p)) {
                v.add(new GrantException.Violation("duplicate-purpose", p));
            }
            if (!catalog.isPurpose(p)) {
                v.add(new GrantException.Violation("unknown-purpose", p));
            }
        }
        Set<String> providers = new HashSet<>();
        Set<String> seenL = new HashSet<>();
        for (Map<String, Object> l : letters) {
            String id = (String) l.get("id");
            if (!seenL.add(id)) {
                v.add(new GrantException.Violation("duplicate-letter", id));
            }
            String digest = catalog.letterDigest(id);
            if (digest == null) {
                v.add(new GrantException.Violation("unknown-letter", id));
            } else if (!digest.equals(l.get("sha256"))) {
                v.add(new GrantException.Violation("letter-digest", id + ": " + l.get("sha256") + " is not " + digest));
            } else {
                providers.add(Catalog.providerOf(id));
            }
        }
        for (Map<String, Object> c : cats) {
            Catalog.Category cat = catalog.category((String) c.get("code"));
            if (cat == null || cat.isPublic()) {
                continue;
            }
            for (String p : cat.providers()) {
                if (!providers.contains(p)) {
                    v.add(new GrantException.Violation("missing-letter", cat.code() + " needs a letter of " + p));
                }
            }
        }
        Map<String, Object> period = (Map<String, Object>) t.get("dataPeriod");
        LocalDate from = parseDate((String) period.get("from"));
        LocalDate until = parseDate((String) period.get("until"));
        if (from == null || until == null) {
            v.add(new GrantException.Violation("data-period", "from and until must be dates YYYY-MM-DD"));
        } else if (from.isAfter(until)) {
            v.add(new GrantException.Violation("data-period", "from is after until"));
        }
        Map<String, Object> usage = (Map<String, Object>) t.get("usage");
        if ("periodic".equals(usage.get("mode")) && ((Long) usage.get("maxReleases")) == 0) {
            v.add(new GrantException.Violation("usage-rate", "maxReleases must be at least 1"));
        }
    }

    /** {@code YYYY-MM-DD} (ASCII digits), a real date; else null. */
    static LocalDate parseDate(String s) {
        if (s.length() != 10 || s.charAt(4) != '-' || s.charAt(7) != '-') {
            return null;
        }
        int[] f = new int[3];
        int[][] spans = {{0, 4}, {5, 7}, {8, 10}};
        for (int k = 0; k < 3; k++) {
            for (int i = spans[k][0]; i < spans[k][1]; i++) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') {
                    return null;
                }
                f[k] = f[k] * 10 + (c - '0');
            }
        }
        try {
            return LocalDate.of(f[0], f[1], f[2]);
        } catch (DateTimeException e) {
            return null;
        }
    }

    /** {@code urn:uuid:} and a lowercase hyphenated UUID (8-4-4-4-12 lowercase hex digits). */
    static boolean isGrantId(String id) {
        if (id.length() != 45 || !id.startsWith("urn:uuid:")) {
            return false;
        }
        for (int i = 9; i < 45; i++) {
            char c = id.charAt(i);
            boolean hyphen = i == 17 || i == 22 || i == 27 || i == 32;
            if (hyphen ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /** A base-10 integer without leading zeros (ASCII digits) that fits in 64 bits unsigned. */
    static boolean isU64(String s) {
        int n = s.length();
        if (n == 0 || n > 20 || (n > 1 && s.charAt(0) == '0')) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return n < 20 || s.compareTo("18446744073709551615") <= 0; // 2^64 - 1: same length, so text order is numeric order
    }

    private static boolean hasWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** Strict shape checks, the first error only (like a strict deserializer). */
    static final class Shape {
        // The member and value sets, built once (not on every check).
        private static final Set<String> USCC_NAME = Set.of("uscc", "name");
        private static final Set<String> USCC_NAME_ROLE = Set.of("uscc", "name", "role");
        private static final Set<String> NONE = Set.of();
        private static final Set<String> CODE_GRANULARITY = Set.of("code", "granularity");
        private static final Set<String> RAW_DERIVED = Set.of("raw", "derived");
        private static final Set<String> TERMS_REQUIRED = Set.of("enterprise", "grantee", "categories", "purposes", "dataPeriod", "usage");
        private static final Set<String> TERMS_OPTIONAL = Set.of("onwardRecipients", "letters", "catalogVersion");
        private static final Set<String> PLATFORM_NODE = Set.of("platform", "node");
        private static final Set<String> RECIPIENT = Set.of("uscc", "name", "role", "categories");
        private static final Set<String> BANK = Set.of("bank");
        private static final Set<String> FROM_UNTIL = Set.of("from", "until");
        private static final Set<String> MODE_MAXRELEASES_PER = Set.of("mode", "maxReleases", "per");
        private static final Set<String> DAY_WEEK_MONTH = Set.of("day", "week", "month");
        private static final Set<String> MODE = Set.of("mode");
        private static final Set<String> ONEOFF_PERIODIC = Set.of("one-off", "periodic");
        private static final Set<String> ID_SHA256 = Set.of("id", "sha256");
        private static final Set<String> STATUS_ENTRY = Set.of("type", "statusPurpose", "statusListIndex", "statusListCredential");
        private static final Set<String> ID = Set.of("id");
        private static final Set<String> STATUS_ENTRY_TYPE = Set.of("BitstringStatusListEntry");
        private static final Set<String> REVOCATION_SUSPENSION = Set.of("revocation", "suspension");

        static final class Malformed extends Exception {
            private static final long serialVersionUID = 1L;

            Malformed(String m) {
                super(m);
            }
        }

        static Map<?, ?> object(Object o, String where, Set<String> required, Set<String> optional) throws Malformed {
            if (!(o instanceof Map)) {
                throw new Malformed(where + " must be an object");
            }
            Map<?, ?> m = (Map<?, ?>) o;
            for (Object k : m.keySet()) {
                if (!required.contains(k) && !optional.contains(k)) {
                    throw new Malformed(where + ": unknown member " + k);
                }
            }
            for (String r : required) {
                if (!m.containsKey(r)) {
                    throw new Malformed(where + ": missing member " + r);
                }
            }
            return m;
        }

        static String str(Map<?, ?> m, String k, String where, Set<String> allowed) throws Malformed {
            Object v = m.get(k);
            if (!(v instanceof String)) {
                throw new Malformed(where + "." + k + " must be a string");
            }
            if (allowed != null && !allowed.contains(v)) {
                throw new Malformed(where + "." + k + ": unknown value " + v);
            }
            return (String) v;
        }

        static List<?> list(Object o, String where) throws Malformed {
            if (!(o instanceof List)) {
                throw new Malformed(where + " must be an array");
            }
            return (List<?>) o;
        }

        static void party(Object o, String where, Set<String> roles) throws Malformed {
            Map<?, ?> m = object(o, where, roles == null ? USCC_NAME : USCC_NAME_ROLE, NONE);
            str(m, "uscc", where, null);
            str(m, "name", where, null);
            if (roles != null) {
                str(m, "role", where, roles);
            }
        }

        static void categories(Object o, String where) throws Malformed {
            for (Object c : list(o, where)) {
                Map<?, ?> m = object(c, where + "[]", CODE_GRANULARITY, NONE);
                str(m, "code", where, null);
                str(m, "granularity", where, RAW_DERIVED);
            }
        }

        static void terms(Map<String, Object> t) throws Malformed {
            object(t, "credentialSubject", TERMS_REQUIRED,
                    TERMS_OPTIONAL);
            party(t.get("enterprise"), "enterprise", null);
            party(t.get("grantee"), "grantee", PLATFORM_NODE);
            if (t.containsKey("onwardRecipients")) {
                for (Object b : list(t.get("onwardRecipients"), "onwardRecipients")) {
                    Map<?, ?> m = object(b, "onwardRecipients[]", RECIPIENT, NONE);
                    str(m, "uscc", "onwardRecipients[]", null);
                    str(m, "name", "onwardRecipients[]", null);
                    str(m, "role", "onwardRecipients[]", BANK);
                    categories(m.get("categories"), "onwardRecipients[].categories");
                }
            }
            categories(t.get("categories"), "categories");
            for (Object p : list(t.get("purposes"), "purposes")) {
                if (!(p instanceof String)) {
                    throw new Malformed("purposes must be strings");
                }
            }
            Map<?, ?> dp = object(t.get("dataPeriod"), "dataPeriod", FROM_UNTIL, NONE);
            str(dp, "from", "dataPeriod", null);
            str(dp, "until", "dataPeriod", null);
            Object u = t.get("usage");
            if (u instanceof Map && "periodic".equals(((Map<?, ?>) u).get("mode"))) {
                Map<?, ?> m = object(u, "usage", MODE_MAXRELEASES_PER, NONE);
                Object n = m.get("maxReleases");
                if (!(n instanceof Long) || (Long) n < 0 || (Long) n > 4294967295L) {
                    throw new Malformed("usage.maxReleases must be a whole number from 0 to 4294967295");
                }
                str(m, "per", "usage", DAY_WEEK_MONTH);
            } else {
                Map<?, ?> m = object(u, "usage", MODE, NONE);
                str(m, "mode", "usage", ONEOFF_PERIODIC);
            }
            if (t.containsKey("letters")) {
                for (Object l : list(t.get("letters"), "letters")) {
                    Map<?, ?> m = object(l, "letters[]", ID_SHA256, NONE);
                    str(m, "id", "letters[]", null);
                    str(m, "sha256", "letters[]", null);
                }
            }
            if (t.containsKey("catalogVersion") && !(t.get("catalogVersion") instanceof String)) {
                throw new Malformed("catalogVersion must be a string");
            }
        }

        static Map<?, ?> statusEntry(Object o) throws Malformed {
            Map<?, ?> m = object(o, "credentialStatus[]", STATUS_ENTRY, ID);
            str(m, "type", "credentialStatus[]", STATUS_ENTRY_TYPE);
            str(m, "statusPurpose", "credentialStatus[]", REVOCATION_SUSPENSION);
            str(m, "statusListIndex", "credentialStatus[]", null);
            str(m, "statusListCredential", "credentialStatus[]", null);
            if (m.containsKey("id")) {
                str(m, "id", "credentialStatus[]", null);
            }
            return m;
        }
    }
}
