"""The busybox root filesystem every e2e test copies into its bundle."""
import os
import shutil
import subprocess

BUSYBOX = "/bin/busybox"  # Debian's busybox-static: no shared libraries needed

TEST_UID = 1000
TEST_GID = 1000

PASSWD = f"""root:x:0:0:root:/root:/bin/sh
tester:x:{TEST_UID}:{TEST_GID}:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = f"""root:x:0:
tty:x:5:
tester:x:{TEST_GID}:
nogroup:x:65534:
"""


def build_rootfs(dest, probe):
    """Create dest as a minimal rootfs: busybox with applet symlinks, users
    root and tester (uid 1000), and the static probe at /bin/probe."""
    if not os.access(BUSYBOX, os.X_OK):
        raise RuntimeError(f"{BUSYBOX} missing: install busybox-static (contrib/install-deps.sh)")
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root", "home/tester"):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    os.chmod(os.path.join(dest, "tmp"), 0o1777)
    os.chmod(os.path.join(dest, "root"), 0o700)
    os.chown(os.path.join(dest, "home/tester"), TEST_UID, TEST_GID)

    shutil.copy2(BUSYBOX, os.path.join(dest, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True, stdin=subprocess.DEVNULL).stdout.split()
    for applet in applets:
        link = os.path.join(dest, "bin", applet)
        if applet != "busybox" and not os.path.lexists(link):
            os.symlink("busybox", link)
    shutil.copy2(probe, os.path.join(dest, "bin", "probe"))
    os.chmod(os.path.join(dest, "bin", "probe"), 0o755)

    for name, text in (("passwd", PASSWD), ("group", GROUP)):
        with open(os.path.join(dest, "etc", name), "w") as f:
            f.write(text)
    return dest


def copy_rootfs(template, dest):
    """A private, writable copy per test: `cp -a`, not hard links, so a test
    that writes into its rootfs can never change the template or another test."""
    subprocess.run(["cp", "-a", template, dest], check=True, stdin=subprocess.DEVNULL)
