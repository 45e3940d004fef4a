package cn.consentry.client.cli;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.credential.Dates;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.grant.GrantException;
import cn.consentry.client.grant.GrantVerifier;
import cn.consentry.client.grant.VerifiedGrant;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import cn.consentry.client.log.Checkpoint;
import cn.consentry.client.log.LogException;
import cn.consentry.client.log.Receipts;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small command line over the library, for scripts and the cross-language checks
 * (clients/cross.sh). Run with {@code java -cp target/classes cn.consentry.client.cli.Cli …}:
 *
 * <pre>
 *   sign-grant --key KEYFILE --envelope di|jwt [--at RFC3339] UNSIGNED.json
 *   verify-grant FILE [--at RFC3339]
 *   verify-receipt BUNDLE.json
 * </pre>
 *
 * {@code sign-grant} prints the signed grant (Data Integrity as JCS, or the compact VC-JWT). The
 * verify commands exit 0 when valid, 1 with the reasons on stderr when not, 2 on a usage error.
 * The receipt bundle: {@code {"receipt": <c2sp.org/tlog-proof@v1 text>, "leafHash": <hex>,
 * "logKey": <vkey>, "index"?: n, "promise"?: <the release answer's inclusion promise>}}.
 */
public final class Cli {
    private static final String USAGE = String.join("\n",
            "usage: Cli sign-grant --key KEYFILE --envelope di|jwt [--at RFC3339] UNSIGNED.json",
            "       Cli verify-grant FILE [--at RFC3339]",
            "       Cli verify-receipt BUNDLE.json");

    private Cli() {}

    /** Thrown for a usage error (exit status 2). */
    static final class Usage extends Exception {
        private static final long serialVersionUID = 1L;

        Usage(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs one command.
     *
     * @param args the arguments
     * @param out standard output
     * @param err standard error
     * @return the exit status
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0) {
                throw new Usage("no command");
            }
            List<String> rest = new ArrayList<>();
            Map<String, String> opts = new HashMap<>();
            for (int i = 1; i < args.length; i++) {
                if (args[i].startsWith("--")) {
                    if (i + 1 >= args.length) {
                        throw new Usage(args[i] + " needs a value");
                    }
                    opts.put(args[i].substring(2), args[++i]);
                } else {
                    rest.add(args[i]);
                }
            }
            if (rest.size() != 1) {
                throw new Usage("expected one FILE");
            }
            String file = rest.get(0);
            switch (args[0]) {
                case "sign-grant":
                    return sign(file, opts, out);
                case "verify-grant":
                    return verifyGrant(file, opts, out, err);
                case "verify-receipt":
                    return verifyReceipt(file, out, err);
                default:
                    throw new Usage("unknown command " + args[0]);
            }
        } catch (Usage e) {
            err.println(e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (IOException e) {
            err.println("cannot read: " + e.getMessage());
            return 2;
        }
    }

    private static void only(Map<String, String> opts, String... known) throws Usage {
        for (String k : opts.keySet()) {
            if (!Arrays.asList(known).contains(k)) {
                throw new Usage("unknown option --" + k);
            }
        }
    }

    private static Instant at(Map<String, String> opts) throws Usage {
        String v = opts.get("at");
        if (v == null) {
            return Instant.now();
        }
        try {
            return Dates.parseStamp(v);
        } catch (RuntimeException e) {
            throw new Usage("--at: " + e.getMessage());
        }
    }

    private static String read(String file) throws IOException {
        return file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8) : Files.readString(Path.of(file));
    }

    private static int sign(String file, Map<String, String> opts, PrintStream out) throws Usage, IOException {
        only(opts, "key", "envelope", "at");
        if (!opts.containsKey("key")) {
            throw new Usage("--key is required");
        }
        String env = opts.getOrDefault("envelope", "di");
        KeyFile key = KeyFile.read(Path.of(opts.get("key")));
        Map<String, Object> unsigned = Json.parseObject(read(file));
        Instant when = at(opts);
        switch (env) {
            case "di":
                out.println(Jcs.canonicalize(Credentials.signDataIntegrity(unsigned, key, when)));
                return 0;
            case "jwt":
                out.println(Credentials.signVcJwt(unsigned, key, when));
                return 0;
            default:
                throw new Usage("--envelope is di or jwt");
        }
    }

    private static int verifyGrant(String file, Map<String, String> opts, PrintStream out, PrintStream err) throws Usage, IOException {
        only(opts, "at");
        Instant when = at(opts);
        String text = read(file);
        try {
            VerifiedGrant g = GrantVerifier.withBuiltinCatalog().verify(text, when);
            out.println("valid grant " + g.id() + " signed by " + g.signer().did() + " (" + g.envelope() + ") sha256 " + g.digestHex());
            return 0;
        } catch (GrantException e) {
            err.println("invalid grant");
            for (GrantException.Violation v : e.violations()) {
                err.println("  " + v.code() + ": " + v.message());
            }
            return 1;
        }
    }

    private static int verifyReceipt(String file, PrintStream out, PrintStream err) throws IOException {
        try {
            Map<String, Object> b = Json.parseObject(read(file));
            Checkpoint.NoteKey logKey = Checkpoint.NoteKey.parseVkey(str(b, "logKey"));
            byte[] leaf = Encoding.hexDecode(str(b, "leafHash"));
            long index = b.get("index") instanceof Number n ? n.longValue() : -1;
            Receipts.VerifiedReceipt r = Receipts.verifyReceipt(str(b, "receipt"), leaf, index, Checkpoint.Policy.logOnly(logKey));
            if (b.get("promise") != null) {
                if (!(b.get("promise") instanceof Map<?, ?> pm)) {
                    throw new LogException("bundle: promise is not an object");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> promise = (Map<String, Object>) pm;
                byte[] promised = Receipts.verifyPromise(promise, logKey);
                if (!Arrays.equals(promised, leaf) || !(promise.get("index") instanceof Number pi) || pi.longValue() != r.index()) {
                    throw new LogException("the inclusion promise is for another entry than the receipt");
                }
            }
            out.println("valid receipt: entry " + r.index() + " in " + r.checkpoint().origin() + " at size " + r.checkpoint().size());
            return 0;
        } catch (LogException | RuntimeException e) {
            err.println("invalid receipt");
            err.println("  " + e.getMessage());
            return 1;
        }
    }

    private static String str(Map<String, Object> b, String name) throws LogException {
        if (!(b.get(name) instanceof String s)) {
            throw new LogException("bundle: " + name + " is not a string");
        }
        return s;
    }
}
