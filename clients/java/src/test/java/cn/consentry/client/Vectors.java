package cn.consentry.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads files of the repository (spec/ vectors and examples) in tests. */
public final class Vectors {
    private Vectors() {}

    /** @return the repository root (system property consentry.repo, else ../..) */
    public static Path repo() {
        return Path.of(System.getProperty("consentry.repo", "../..")).toAbsolutePath().normalize();
    }

    /** @param rel a path relative to the repository @return its text */
    public static String text(String rel) {
        try {
            return Files.readString(repo().resolve(rel), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @param rel a path relative to the repository @return its bytes */
    public static byte[] bytes(String rel) {
        try {
            return Files.readAllBytes(repo().resolve(rel));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
