package cn.consentry.client;

import java.util.Map;

/** Typed reads of answer members; a missing or mistyped member is a {@link ConsentryIOException}. */
final class Fields {
    private Fields() {}

    static String str(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof String)) {
            throw new ConsentryIOException("the answer's " + k + " is not a string", null);
        }
        return (String) v;
    }

    static String optStr(Map<String, Object> m, String k) {
        Object v = m.get(k);
        return v instanceof String ? (String) v : null;
    }

    static long lng(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Long)) {
            throw new ConsentryIOException("the answer's " + k + " is not an integer", null);
        }
        return (Long) v;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Map)) {
            throw new ConsentryIOException("the answer's " + k + " is not an object", null);
        }
        return (Map<String, Object>) v;
    }
}
