package cn.consentry.client;

import cn.consentry.client.credential.Jws;
import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.json.Json;
import cn.consentry.client.json.JsonException;
import cn.consentry.client.log.Checkpoint;
import cn.consentry.client.log.LogException;
import cn.consentry.client.log.Merkle;
import cn.consentry.client.log.Receipts;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A client of a Consentry node or financing platform ({@code java.net.http.HttpClient}).
 *
 * <p>Every authenticated call carries a fresh client assertion
 * ({@code consentry-assertion+jwt}: single use, bound to the method and the path with query,
 * audience the server's DID from {@code GET /v1/node} or {@code GET /v1/platform}). Commitments
 * (registration, grant status changes) are signed requests ({@code consentry-request+jwt})
 * addressed to the node's DID. Errors are {@link ApiException}s carrying the problem's type,
 * detail and reasons. Only GETs are retried on network errors; any call answered 503 with
 * {@code Retry-After} is retried (the server changed nothing), each attempt with a new assertion.
 */
public final class ConsentryClient {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ATTEMPTS = 3;

    private final URI base;
    private final KeyFile key;
    private final HttpClient http;
    private final Clock clock;
    private volatile String audience;
    private volatile String nodeDid;

    private ConsentryClient(Builder b) {
        this.base = URI.create(b.baseUrl.replaceAll("/+$", ""));
        this.key = b.key;
        this.http = b.http != null ? b.http : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        this.clock = b.clock;
        this.audience = b.audience;
    }

    /** @param baseUrl the server's base URL, e.g. {@code https://node.example} @return a builder */
    public static Builder builder(String baseUrl) {
        return new Builder(baseUrl);
    }

    /** Builds a {@link ConsentryClient}. */
    public static final class Builder {
        private final String baseUrl;
        private KeyFile key;
        private HttpClient http;
        private Clock clock = Clock.systemUTC();
        private String audience;

        private Builder(String baseUrl) {
            this.baseUrl = Objects.requireNonNull(baseUrl);
        }

        /** @param key the caller's key (for authenticated calls) @return this */
        public Builder key(KeyFile key) {
            this.key = key;
            return this;
        }

        /** @param http an HTTP client to use @return this */
        public Builder httpClient(HttpClient http) {
            this.http = http;
            return this;
        }

        /** @param clock the clock for assertion times @return this */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * Pins the server's DID (the assertions' audience) instead of reading it from the server.
         *
         * @param did the DID
         * @return this
         */
        public Builder audience(String did) {
            this.audience = did;
            return this;
        }

        /** @return the client */
        public ConsentryClient build() {
            return new ConsentryClient(this);
        }
    }

    /** @param key another caller's key @return a client of the same server acting as that key */
    public ConsentryClient as(KeyFile key) {
        Builder b = new Builder(base.toString()).key(key).httpClient(http).clock(clock);
        b.audience = audience;
        ConsentryClient c = b.build();
        c.nodeDid = nodeDid;
        return c;
    }

    /** @return the caller's key, if any */
    public KeyFile key() {
        return key;
    }

    // ---------------------------------------------------------------- assertions and requests

    private static String randomHex() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return Encoding.hex(b);
    }

    /**
     * Makes a client assertion for one request (valid 120 s, single use).
     *
     * @param key the caller's key
     * @param audience the server's DID
     * @param method the HTTP method
     * @param pathAndQuery the request's path with its query
     * @param clock the clock
     * @return the assertion JWT
     */
    public static String assertion(KeyFile key, String audience, String method, String pathAndQuery, Clock clock) {
        long now = clock.instant().getEpochSecond();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("iss", key.did().did());
        c.put("aud", audience);
        c.put("iat", now);
        c.put("exp", now + 120);
        c.put("jti", randomHex());
        c.put("htm", method.toUpperCase(java.util.Locale.ROOT));
        c.put("htu", pathAndQuery);
        return Jws.sign(Json.write(c).getBytes(StandardCharsets.UTF_8), "consentry-assertion+jwt", key);
    }

    /**
     * Makes a signed request ({@code consentry-request+jwt}): the author's own statement of an
     * action, addressed to the node's DID, valid 10 minutes.
     *
     * @param key the author
     * @param nodeDid the node's DID
     * @param action {@code register}, {@code revoke}, {@code suspend}, {@code resume}, …
     * @param claims further claims
     * @param clock the clock
     * @return the JWT
     */
    public static String signedRequest(KeyFile key, String nodeDid, String action, Map<String, Object> claims, Clock clock) {
        Map<String, Object> c = new LinkedHashMap<>(claims);
        c.put("action", action);
        c.put("aud", nodeDid);
        c.put("iat", clock.instant().getEpochSecond());
        c.put("jti", randomHex());
        return Jws.sign(Json.write(c).getBytes(StandardCharsets.UTF_8), "consentry-request+jwt", key);
    }

    /** @return the server's DID (assertion audience), read once from GET /v1/node or /v1/platform */
    public String audience() {
        if (audience == null) {
            Map<String, Object> info = serverInfo();
            audience = (String) info.get("did");
        }
        return audience;
    }

    /** @return the node's DID: the audience of signed requests (at a platform, its {@code nodeDid}) */
    public String nodeDid() {
        if (nodeDid == null) {
            Map<String, Object> info = serverInfo();
            Object n = info.containsKey("nodeDid") ? info.get("nodeDid") : info.get("did");
            if (!(n instanceof String)) {
                throw new IllegalStateException("the server does not name the node's DID");
            }
            nodeDid = (String) n;
        }
        return nodeDid;
    }

    private Map<String, Object> serverInfo() {
        try {
            return object(send("GET", "/v1/node", null, null, false));
        } catch (ApiException e) {
            if (e.status() != 404) {
                throw e;
            }
            return object(send("GET", "/v1/platform", null, null, false));
        }
    }

    // ---------------------------------------------------------------- transport

    /** A raw answer: status, content type and body. */
    public static final class Response {
        final int status;
        final String contentType;
        final byte[] body;

        Response(int status, String contentType, byte[] body) {
            this.status = status;
            this.contentType = contentType;
            this.body = body;
        }

        /** @return the body as UTF-8 text */
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** @return the body as strict JSON */
        public Object json() {
            return Json.parse(body);
        }

        /** @return the HTTP status */
        public int status() {
            return status;
        }

        /** @return the raw body bytes */
        public byte[] bytes() {
            return body.clone();
        }
    }

    /**
     * Sends a request. {@code body} is a supplier so each attempt can make a fresh signed body.
     *
     * @param method GET or POST
     * @param pathAndQuery the path with query
     * @param contentType the body's type, or null
     * @param body the body supplier, or null
     * @param auth whether to add a client assertion
     * @return the 2xx answer
     * @throws ApiException for a problem answer (or a non-2xx)
     * @throws ConsentryIOException when the server cannot be reached
     */
    public Response send(String method, String pathAndQuery, String contentType, Supplier<String> body, boolean auth) {
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(Duration.ofSeconds(30));
            if (auth) {
                if (key == null) {
                    throw new IllegalStateException("this call needs a key: build the client with .key(…)");
                }
                rb.header("Authorization", "Bearer " + assertion(key, audience(), method, pathAndQuery, clock));
            }
            if (body != null) {
                rb.header("Content-Type", contentType);
                rb.method(method, HttpRequest.BodyPublishers.ofString(body.get(), StandardCharsets.UTF_8));
            } else {
                rb.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<byte[]> r;
            try {
                r = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                last = e;
                if (!method.equals("GET") || attempt == ATTEMPTS) {
                    break;
                }
                sleep(200L * attempt);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConsentryIOException("interrupted", e);
            }
            String ct = r.headers().firstValue("Content-Type").orElse("");
            if (r.statusCode() / 100 == 2) {
                return new Response(r.statusCode(), ct, r.body());
            }
            var retryAfter = r.headers().firstValue("Retry-After");
            if (r.statusCode() == 503 && retryAfter.isPresent() && attempt < ATTEMPTS) {
                long secs;
                try {
                    secs = Math.min(10, Long.parseLong(retryAfter.get().trim()));
                } catch (NumberFormatException e) {
                    secs = 1;
                }
                sleep(secs * 1000);
                continue;
            }
            throw problem(r.statusCode(), ct, r.body());
        }
        throw new ConsentryIOException(method + " " + pathAndQuery + ": " + (last == null ? "no answer" : last.getMessage()), last);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    static ApiException problem(int status, String contentType, byte[] body) {
        Map<String, Object> m = null;
        try {
            Object v = Json.parse(body);
            if (v instanceof Map) {
                m = (Map<String, Object>) v;
            }
        } catch (JsonException e) {
            m = null;
        }
        if (m == null || !(m.get("type") instanceof String)) {
            String text = new String(body, StandardCharsets.UTF_8);
            return new ApiException(status, "about:blank", "HTTP " + status, text.length() > 200 ? text.substring(0, 200) : text, List.of(), null, Map.of());
        }
        List<ApiException.Reason> reasons = new ArrayList<>();
        if (m.get("reasons") instanceof List) {
            for (Object o : (List<?>) m.get("reasons")) {
                if (o instanceof Map) {
                    Map<?, ?> r = (Map<?, ?>) o;
                    reasons.add(new ApiException.Reason(String.valueOf(r.get("code")), String.valueOf(r.get("message"))));
                }
            }
        }
        Long logIndex = m.get("logIndex") instanceof Long ? (Long) m.get("logIndex") : null;
        return new ApiException(status, (String) m.get("type"), (String) m.get("title"), (String) m.get("detail"), reasons, logIndex, m);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Response r) {
        Object v;
        try {
            v = r.json();
        } catch (JsonException e) {
            throw new ConsentryIOException("the server answered malformed JSON: " + e.getMessage(), e);
        }
        if (!(v instanceof Map)) {
            throw new ConsentryIOException("the server answered JSON that is not an object", null);
        }
        return (Map<String, Object>) v;
    }

    /**
     * An authenticated GET returning a JSON object.
     *
     * @param pathAndQuery the path with query
     * @return the object
     */
    public Map<String, Object> get(String pathAndQuery) {
        return object(send("GET", pathAndQuery, null, null, key != null));
    }

    /**
     * An authenticated POST of a JSON body returning a JSON object.
     *
     * @param path the path
     * @param body the JSON body
     * @return the object
     */
    public Map<String, Object> post(String path, Map<String, Object> body) {
        String text = Json.write(body);
        return object(send("POST", path, "application/json", () -> text, true));
    }

    private Map<String, Object> postSigned(String path, String action, Map<String, Object> claims) {
        return object(send("POST", path, "text/plain", () -> signedRequest(requireKey(), nodeDid(), action, claims, clock), false));
    }

    private KeyFile requireKey() {
        if (key == null) {
            throw new IllegalStateException("this call needs a key: build the client with .key(…)");
        }
        return key;
    }

    static String q(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8);
    }

    private static String query(Map<String, ?> params) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, ?> e : params.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            sb.append(sb.length() == 0 ? '?' : '&').append(q(e.getKey())).append('=').append(q(String.valueOf(e.getValue())));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- public

    /** @return GET /v1/node: did, publicUrl, logOrigin, logSize, logRoot, catalogVersion, didDocument */
    public NodeInfo node() {
        return NodeInfo.from(object(send("GET", "/v1/node", null, null, false)));
    }

    /** @return GET /v1/platform (at a platform): uscc, did, node, nodeDid, logOrigin, logSize, logRoot */
    public Map<String, Object> platform() {
        return object(send("GET", "/v1/platform", null, null, false));
    }

    /** @return GET /v1/catalog */
    public Map<String, Object> catalog() {
        return object(send("GET", "/v1/catalog", null, null, false));
    }

    /** @return GET /v1/catalog/letters */
    public Map<String, Object> letters() {
        return object(send("GET", "/v1/catalog/letters", null, null, false));
    }

    /** @return GET /v1/catalog/derivations */
    public Map<String, Object> derivations() {
        return object(send("GET", "/v1/catalog/derivations", null, null, false));
    }

    /** @param uscc an enterprise @return GET /v1/public/sxm/{uscc}, its public 苏信码 view */
    public Map<String, Object> publicView(String uscc) {
        return object(send("GET", "/v1/public/sxm/" + q(uscc), null, null, false));
    }

    /**
     * GET a status list credential by its URL (status lists are public).
     *
     * @param url the {@code statusListCredential} URL
     * @return the credential's text
     */
    public String fetchText(String url) {
        String b = base.toString();
        if (!url.startsWith(b + "/")) {
            throw new IllegalArgumentException(url + " is not on this server (" + b + ")");
        }
        return send("GET", url.substring(b.length()), null, null, false).text();
    }

    // ---------------------------------------------------------------- participants

    /**
     * POST /v1/registrations: an enterprise registers its key (a signed request {@code register}).
     *
     * @param uscc the enterprise's USCC
     * @param name its registered name
     * @return the pending registration
     */
    public Map<String, Object> register(String uscc, String name) {
        return postSigned("/v1/registrations", "register", Map.of("uscc", uscc, "name", name));
    }

    /** @param uscc the enterprise @return POST /v1/admin/registrations/{uscc}/approve (operator) */
    public Map<String, Object> approveRegistration(String uscc) {
        return post("/v1/admin/registrations/" + q(uscc) + "/approve", Map.of());
    }

    /** @param uscc the enterprise @return POST /v1/admin/registrations/{uscc}/reject (operator) */
    public Map<String, Object> rejectRegistration(String uscc) {
        return post("/v1/admin/registrations/" + q(uscc) + "/reject", Map.of());
    }

    /** @return GET /v1/admin/registrations (operator) */
    public Map<String, Object> pendingRegistrations() {
        return get("/v1/admin/registrations");
    }

    /**
     * POST /v1/banks: a platform registers a bank (at a platform: at the node and there).
     *
     * @param uscc the bank's USCC
     * @param name its name
     * @param did its did:key
     * @return the registered bank
     */
    public Map<String, Object> addBank(String uscc, String name, DidKey did) {
        return post("/v1/banks", Map.of("uscc", uscc, "name", name, "did", did.did()));
    }

    /** @param query filters (role, state …) @return GET /v1/participants */
    public Map<String, Object> participants(Map<String, ?> query) {
        return get("/v1/participants" + query(query));
    }

    /** @return GET /v1/participants/me */
    public Map<String, Object> me() {
        return get("/v1/participants/me");
    }

    // ---------------------------------------------------------------- grants

    /** @return POST /v1/status/slots: a status slot for the caller's next grant */
    public StatusSlot allocateStatusSlot() {
        return StatusSlot.from(post("/v1/status/slots", Map.of()));
    }

    /**
     * POST /v1/grants: submits a secured grant (either envelope), as the exact bytes signed.
     *
     * @param securedGrant the Data Integrity JSON text or the VC-JWT
     * @return the accepted grant ({@code id}, {@code state}, {@code logIndex} …)
     */
    public Map<String, Object> submitGrant(String securedGrant) {
        return object(send("POST", "/v1/grants", "text/plain", () -> securedGrant, false));
    }

    /** @param id the grant id @return GET /v1/grants/{id} */
    public Map<String, Object> grant(String id) {
        return get("/v1/grants/" + q(id));
    }

    /** @param query filters @return GET /v1/grants */
    public Map<String, Object> grants(Map<String, ?> query) {
        return get("/v1/grants" + query(query));
    }

    /** @param id the grant @return POST /v1/grants/{id}/revoke, signed by this client's key */
    public GrantStatusChange revokeGrant(String id) {
        return GrantStatusChange.from(postSigned("/v1/grants/" + q(id) + "/revoke", "revoke", Map.of("grant", id)));
    }

    /** @param id the grant @return POST /v1/grants/{id}/suspend, signed by this client's key */
    public GrantStatusChange suspendGrant(String id) {
        return GrantStatusChange.from(postSigned("/v1/grants/" + q(id) + "/suspend", "suspend", Map.of("grant", id)));
    }

    /** @param id the grant @return POST /v1/grants/{id}/resume, signed by this client's key */
    public GrantStatusChange resumeGrant(String id) {
        return GrantStatusChange.from(postSigned("/v1/grants/" + q(id) + "/resume", "resume", Map.of("grant", id)));
    }

    // ---------------------------------------------------------------- releases and data

    /**
     * POST /v1/releases (node or platform).
     *
     * @param request what is asked
     * @return the data with its receipt
     * @throws ApiException {@code release-refused} with every reason and the refusal's log index
     */
    public Release release(ReleaseRequest request) {
        return Release.from(post("/v1/releases", request.toJson()));
    }

    /** @param body the evaluation request @return POST /v1/evaluations */
    public Map<String, Object> evaluate(Map<String, Object> body) {
        return post("/v1/evaluations", body);
    }

    /** @return GET /v1/enterprise/data: the calling enterprise's own records */
    public Map<String, Object> enterpriseData() {
        return get("/v1/enterprise/data");
    }

    /**
     * @param query filters (enterprise, grant, kind …); {@code limit} 1–10000 (default 100; another
     *     value is 400 invalid-query), {@code after} the previous page's {@code next}
     * @return GET /v1/log/entries, the access history, oldest first
     */
    public Map<String, Object> logEntries(Map<String, ?> query) {
        return get("/v1/log/entries" + query(query));
    }

    /** @return GET /v1/notices */
    public Map<String, Object> notices() {
        return get("/v1/notices");
    }

    // ---------------------------------------------------------------- objections

    /** @param body the objection @return POST /v1/objections */
    public Map<String, Object> fileObjection(Map<String, Object> body) {
        return post("/v1/objections", body);
    }

    /**
     * @param query filters; {@code limit} 1–500 (default 50; another value is 400 invalid-query),
     *     {@code before} the previous page's {@code next}
     * @return GET /v1/objections, newest first
     */
    public Map<String, Object> objections(Map<String, ?> query) {
        return get("/v1/objections" + query(query));
    }

    /** @param id the objection @return GET /v1/objections/{id} */
    public Map<String, Object> objection(String id) {
        return get("/v1/objections/" + q(id));
    }

    /**
     * POST /v1/objections/{id}/{step} with {@code step} {@code forward}, {@code review} or
     * {@code resolve}.
     *
     * @param id the objection
     * @param step the step
     * @param body its body
     * @return the objection
     */
    public Map<String, Object> objectionStep(String id, String step, Map<String, Object> body) {
        if (!List.of("forward", "review", "resolve").contains(step)) {
            throw new IllegalArgumentException("step is forward, review or resolve");
        }
        return post("/v1/objections/" + q(id) + "/" + step, body);
    }

    // ---------------------------------------------------------------- webhooks

    /** @param body {url, events, description} @return POST /v1/webhooks */
    public Map<String, Object> addWebhook(Map<String, Object> body) {
        return post("/v1/webhooks", body);
    }

    /** @return GET /v1/webhooks */
    public Map<String, Object> webhooks() {
        return get("/v1/webhooks");
    }

    /** @param id the endpoint @return GET /v1/webhooks/{id} */
    public Map<String, Object> webhook(String id) {
        return get("/v1/webhooks/" + q(id));
    }

    /** @param id the endpoint @param body the change @return POST /v1/webhooks/{id}/rotate */
    public Map<String, Object> rotateWebhook(String id, Map<String, Object> body) {
        return post("/v1/webhooks/" + q(id) + "/rotate", body);
    }

    /** @param id the endpoint @return POST /v1/webhooks/{id}/delete */
    public Map<String, Object> deleteWebhook(String id) {
        return post("/v1/webhooks/" + q(id) + "/delete", Map.of());
    }

    /** @param id the endpoint @return GET /v1/webhooks/{id}/deliveries */
    public Map<String, Object> webhookDeliveries(String id) {
        return get("/v1/webhooks/" + q(id) + "/deliveries");
    }

    // ---------------------------------------------------------------- loans, alerts, feed, statistics

    /** @param body {request: signed loan report} @return POST /v1/loan-reports */
    public Map<String, Object> reportLoan(Map<String, Object> body) {
        return post("/v1/loan-reports", body);
    }

    /** @param query filters @return GET /v1/loans */
    public Map<String, Object> loans(Map<String, ?> query) {
        return get("/v1/loans" + query(query));
    }

    /** @param query filters @return GET /v1/alerts */
    public Map<String, Object> alerts(Map<String, ?> query) {
        return get("/v1/alerts" + query(query));
    }

    /** @param body the subscription @return POST /v1/feed/subscriptions */
    public Map<String, Object> subscribeFeed(Map<String, Object> body) {
        return post("/v1/feed/subscriptions", body);
    }

    /** @return GET /v1/feed/subscriptions */
    public Map<String, Object> feedSubscriptions() {
        return get("/v1/feed/subscriptions");
    }

    /** @param id the subscription @return POST /v1/feed/subscriptions/{id}/delete */
    public Map<String, Object> unsubscribeFeed(String id) {
        return post("/v1/feed/subscriptions/" + q(id) + "/delete", Map.of());
    }

    /** @param query filters @return GET /v1/feed/batches */
    public Map<String, Object> feedBatches(Map<String, ?> query) {
        return get("/v1/feed/batches" + query(query));
    }

    /** @param id the batch @return GET /v1/feed/batches/{id} */
    public Map<String, Object> feedBatch(String id) {
        return get("/v1/feed/batches/" + q(id));
    }

    /** @param query filters @return GET /v1/stats */
    public Map<String, Object> stats(Map<String, ?> query) {
        return get("/v1/stats" + query(query));
    }

    /**
     * GET /v1/stats/{which} with {@code which} {@code access}, {@code loans} or {@code enterprises}.
     *
     * @param which the statistic
     * @param query filters
     * @return the figures
     */
    public Map<String, Object> stats(String which, Map<String, ?> query) {
        if (!List.of("access", "loans", "enterprises").contains(which)) {
            throw new IllegalArgumentException("which is access, loans or enterprises");
        }
        return get("/v1/stats/" + which + query(query));
    }

    /** @return GET /v1/bulletins */
    public Map<String, Object> bulletins() {
        return get("/v1/bulletins");
    }

    /** @param month YYYY-MM @return GET /v1/bulletins/{month} */
    public Map<String, Object> bulletin(String month) {
        return get("/v1/bulletins/" + q(month));
    }

    // ---------------------------------------------------------------- audit API

    /** @return GET /v1/log/checkpoint: the newest signed note (verify it with {@link Checkpoint#verify}) */
    public String checkpointNote() {
        return send("GET", "/v1/log/checkpoint", null, null, false).text();
    }

    /** @param after size @param limit at most @return GET /v1/log/checkpoints */
    public Map<String, Object> checkpoints(long after, int limit) {
        return object(send("GET", "/v1/log/checkpoints?after=" + after + "&limit=" + limit, null, null, false));
    }

    /** @param from first index @param limit at most @return the 136-byte leaves concatenated */
    public byte[] leaves(long from, int limit) {
        return send("GET", "/v1/log/leaves?from=" + from + "&limit=" + limit, null, null, false).bytes();
    }

    /**
     * GET /v1/log/proof/inclusion for a size taken from a verified checkpoint.
     *
     * @param index the entry
     * @param size the tree size
     * @return the audit path
     */
    public List<byte[]> inclusionProof(long index, long size) {
        return hashes(object(send("GET", "/v1/log/proof/inclusion?index=" + index + "&size=" + size, null, null, false)));
    }

    /**
     * GET /v1/log/proof/consistency between two verified checkpoints' sizes.
     *
     * @param from the smaller size
     * @param to the larger size
     * @return the proof
     */
    public List<byte[]> consistencyProof(long from, long to) {
        return hashes(object(send("GET", "/v1/log/proof/consistency?from=" + from + "&to=" + to, null, null, false)));
    }

    private static List<byte[]> hashes(Map<String, Object> m) {
        List<byte[]> out = new ArrayList<>();
        Object p = m.get("proof");
        if (!(p instanceof List)) {
            throw new ConsentryIOException("the proof answer has no proof list", null);
        }
        for (Object o : (List<?>) p) {
            try {
                out.add(Encoding.hexDecode((String) o));
            } catch (RuntimeException e) {
                throw new ConsentryIOException("the proof answer holds a hash that is not hex", e);
            }
        }
        return out;
    }

    /** @param index the entry @return GET /v1/log/receipts/{index}: the tlog-proof text */
    public String receipt(long index) {
        return send("GET", "/v1/log/receipts/" + index, null, null, false).text();
    }

    /**
     * The pinned-key policy of this node's log, derived from GET /v1/node ({@code did},
     * {@code logOrigin}). Pin it from a channel you trust in production; this is for trials.
     *
     * @return the log key
     */
    public Checkpoint.NoteKey logKeyFromServer() {
        NodeInfo n = node();
        return Checkpoint.NoteKey.logKey(n.logOrigin(), DidKey.parse(n.did()));
    }

    /**
     * Fetches the receipt of an entry, waiting (up to ~10 s) for a checkpoint to cover it, and
     * verifies it against the policy and the leaf hash you hold.
     *
     * @param index the entry
     * @param leafHash the leaf hash (from a verified promise)
     * @param policy the pinned log key, witnesses and quorum
     * @return the verified receipt
     * @throws LogException if it does not verify
     */
    public Receipts.VerifiedReceipt fetchAndVerifyReceipt(long index, byte[] leafHash, Checkpoint.Policy policy) throws LogException {
        ApiException last = null;
        for (int i = 0; i < 40; i++) {
            try {
                return Receipts.verifyReceipt(receipt(index), leafHash, index, policy);
            } catch (ApiException e) {
                if (e.status() != 404) {
                    throw e;
                }
                last = e;
                sleep(250);
            }
        }
        throw last;
    }

    /**
     * Verifies that the server's newest checkpoint extends one you kept (consistency proof).
     *
     * @param kept a checkpoint verified earlier
     * @param policy the pinned log key, witnesses and quorum
     * @return the newer verified checkpoint
     * @throws LogException if the log is not append-only between them
     */
    public Checkpoint verifyConsistentWith(Checkpoint kept, Checkpoint.Policy policy) throws LogException {
        Checkpoint now = Checkpoint.verify(checkpointNote(), policy);
        if (now.size() < kept.size()) {
            throw new LogException("the server's checkpoint (" + now.size() + ") is smaller than the one kept (" + kept.size() + ")");
        }
        Merkle.verifyConsistency(kept.size(), now.size(), kept.root(), now.root(), consistencyProof(kept.size(), now.size()));
        return now;
    }
}
