package cn.consentry.client.grant;

import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.Sha256;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The closed vocabularies a grant is judged by (spec/catalog.json, spec/letters.json): categories
 * with their providers and whether they are public, purposes, and the letters with their digests
 * (SHA-256 of the letter's RFC 8785 form).
 */
public final class Catalog {
    /** One category of the sharing list. */
    public record Category(String code, List<String> providers, boolean isPublic) {}

    private final String version;
    private final Map<String, Category> categories;
    private final Set<String> purposes;
    private final Map<String, String> letterDigests; // id -> hex
    private final Map<String, List<String>> lettersByProvider; // provider -> ids, oldest first

    private Catalog(String version, Map<String, Category> categories, Set<String> purposes, Map<String, String> letterDigests,
                    Map<String, List<String>> lettersByProvider) {
        this.version = version;
        this.categories = categories;
        this.purposes = purposes;
        this.letterDigests = letterDigests;
        this.lettersByProvider = lettersByProvider;
    }

    private static Catalog builtin;

    /** @return the catalog shipped with this library (the repository's spec/ files) */
    public static synchronized Catalog builtin() {
        if (builtin == null) {
            builtin = parse(resource("catalog.json"), resource("letters.json"));
        }
        return builtin;
    }

    private static String resource(String name) {
        try (InputStream in = Catalog.class.getResourceAsStream("/cn/consentry/client/spec/" + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a catalog and letters file (their formats in spec/).
     *
     * @param catalogJson catalog.json text
     * @param lettersJson letters.json text
     * @return the catalog
     */
    public static Catalog parse(String catalogJson, String lettersJson) {
        Map<String, Object> c = Json.parseObject(catalogJson);
        Map<String, Category> cats = new LinkedHashMap<>();
        for (Object o : (List<?>) c.get("categories")) {
            Map<?, ?> m = (Map<?, ?>) o;
            List<String> providers = new ArrayList<>();
            for (Object p : (List<?>) m.get("providers")) {
                providers.add((String) p);
            }
            cats.put((String) m.get("code"), new Category((String) m.get("code"), List.copyOf(providers), Boolean.TRUE.equals(m.get("public"))));
        }
        List<String> purposes = new ArrayList<>();
        for (Object o : (List<?>) c.get("purposes")) {
            purposes.add((String) ((Map<?, ?>) o).get("code"));
        }
        Map<String, String> digests = new LinkedHashMap<>();
        Map<String, List<String>> byProvider = new TreeMap<>();
        for (Object o : (List<?>) Json.parseObject(lettersJson).get("letters")) {
            Map<?, ?> l = (Map<?, ?>) o;
            String id = (String) l.get("id");
            digests.put(id, Encoding.hex(sha256(Jcs.canonicalBytes(l))));
            byProvider.computeIfAbsent((String) l.get("provider"), k -> new ArrayList<>()).add(id);
        }
        for (List<String> ids : byProvider.values()) {
            ids.sort((a, b) -> Long.compare(version(a), version(b)));
        }
        return new Catalog((String) c.get("catalogVersion"), cats, Set.copyOf(purposes), digests, byProvider);
    }

    private static long version(String letterId) {
        return Long.parseLong(letterId.substring(letterId.indexOf('/') + 1));
    }

    static byte[] sha256(byte[] b) {
        return Sha256.of(b);
    }

    /** @return the catalog version, e.g. {@code 2026-12-06.1} */
    public String version() {
        return version;
    }

    /** @param code a category code @return the category, or null */
    public Category category(String code) {
        return categories.get(code);
    }

    /** @param code a purpose code @return whether it is in the vocabulary */
    public boolean isPurpose(String code) {
        return purposes.contains(code);
    }

    /** @param id a letter id such as {@code STA/1} @return its digest (hex), or null if unknown */
    public String letterDigest(String id) {
        return letterDigests.get(id);
    }

    /** @param provider a provider id @return its newest letter id, or null */
    public String newestLetter(String provider) {
        List<String> ids = lettersByProvider.get(provider);
        return ids == null || ids.isEmpty() ? null : ids.get(ids.size() - 1);
    }

    /** @param provider a provider id @return whether it has a letter */
    public boolean hasLetters(String provider) {
        return lettersByProvider.containsKey(provider);
    }

    /** @param letterId a letter id @return its provider (the part before {@code /}) */
    public static String providerOf(String letterId) {
        int i = letterId.indexOf('/');
        return i < 0 ? letterId : letterId.substring(0, i);
    }
}
