package org.jclouds.filesystem.util;

import java.io.File;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.AclEntry;
import java.nio.file.attribute.AclEntryPermission;
import java.nio.file.attribute.AclEntryType;
import java.nio.file.attribute.AclFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tests' replacement for jclouds 2.7.0's filesystem-backend {@code Utils} (same name, same public methods), put
 * ahead of jclouds' jar on the test S3 server's class path by {@code submit/s3proxy}. It differs in one place:
 * {@link #delete(File)} of a directory that still has children.
 *
 * <p>The filesystem backend stores an S3 directory marker ({@code dir/}, which S3A writes on mkdirs) as a directory.
 * S3A deletes a tree in key order, so the marker comes before its children; jclouds' {@code delete} then retries the
 * non-empty directory ten times with a one-second sleep and gives up (the children stay, the error is only logged at
 * debug). Every committed Spark write through S3A deletes several such markers, so each stalled about ten seconds.
 * Here the non-empty directory is left at once, which is what S3 does when a marker is deleted (the children stay
 * listed); empty parents are removed by the backend after the last child goes, as before.
 *
 * <p>Other differences, none of which the tests reach: {@code delete} returns quietly where jclouds would throw after its
 * retries on a non-empty directory (its one caller that matters, {@code removeBlob}, only logs that exception); it does
 * not re-check with {@code exists} after a successful delete; and the Windows-only ACL methods take "Everyone" as the
 * principal's name where jclouds asks Windows for the localised one. The server runs on Linux here.
 */
public final class Utils {

    /** The principal name of "Everyone" on Windows (null elsewhere), as jclouds' class has it. */
    public static final String WINDOWS_EVERYONE = getWindowsEveryonePrincipalName();

    private Utils() {
    }

    public static boolean isMacOSX() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac");
    }

    public static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("windows");
    }

    public static void deleteRecursively(File file) throws IOException {
        File[] children = file.isDirectory() ? file.listFiles() : null;
        if (children != null) {
            for (File child : children) {
                deleteRecursively(child);
            }
        }
        delete(file);
    }

    /**
     * Deletes a file or an empty directory; a missing file or a directory that still has children is left as it is
     * (see the class comment). Access denied is retried as jclouds does (Windows holds files open briefly).
     */
    public static void delete(File file) throws IOException {
        Path path;
        try {
            path = file.toPath();
        } catch (InvalidPathException e) {
            throw new IOException("could not delete " + file + ": invalid path", e);
        }
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                Files.delete(path);
                return;
            } catch (NoSuchFileException | DirectoryNotEmptyException gone) {
                return;
            } catch (AccessDeniedException denied) {
                sleepMillis(1000);
            }
        }
        throw new IOException("could not delete " + path);
    }

    public static String getWindowsEveryonePrincipalName() {
        if (!isWindows()) {
            return null;
        }
        // jclouds asks Windows for the localised name; "Everyone" is the name on English systems
        return "Everyone";
    }

    public static boolean isPrivate(Path path) throws IOException {
        UserPrincipal everyone = everyone();
        for (AclEntry entry : aclView(path).getAcl()) {
            if (entry.principal().equals(everyone)) {
                return false;
            }
        }
        return true;
    }

    public static void setPrivate(Path path) throws IOException {
        UserPrincipal everyone = everyone();
        AclFileAttributeView view = aclView(path);
        List<AclEntry> acl = new ArrayList<>(view.getAcl());
        acl.removeIf(e -> e.principal().equals(everyone) && e.type() == AclEntryType.ALLOW);
        view.setAcl(acl);
    }

    public static void setPublic(Path path) throws IOException {
        AclFileAttributeView view = aclView(path);
        List<AclEntry> acl = new ArrayList<>(view.getAcl());
        acl.add(AclEntry.newBuilder().setPrincipal(everyone()).setType(AclEntryType.ALLOW)
                .setPermissions(AclEntryPermission.READ_DATA, AclEntryPermission.READ_ACL, AclEntryPermission.READ_ATTRIBUTES,
                        AclEntryPermission.READ_NAMED_ATTRS).build());
        view.setAcl(acl);
    }

    private static UserPrincipal everyone() throws IOException {
        return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(WINDOWS_EVERYONE);
    }

    private static AclFileAttributeView aclView(Path path) throws IOException {
        AclFileAttributeView view = Files.getFileAttributeView(path, AclFileAttributeView.class);
        if (view == null) {
            throw new IOException("no ACL view of " + path + " (ACLs are used on Windows only)");
        }
        return view;
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
