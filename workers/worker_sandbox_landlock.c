/*
 * Landlock for the command: which ABI the kernel has, and the ruleset its
 * process restricts itself to before exec.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "worker_sandbox.h"


/* Landlock rights and fields newer than the system's headers */

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE   (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV  (1ULL << 15)
#endif

#define VIDEO_LL_NET_BIND_TCP         (1ULL << 0)
#define VIDEO_LL_NET_CONNECT_TCP      (1ULL << 1)
#define VIDEO_LL_SCOPE_ABSTRACT_UNIX  (1ULL << 0)
#define VIDEO_LL_SCOPE_SIGNAL         (1ULL << 1)

typedef struct {
    uint64_t  handled_access_fs;
    uint64_t  handled_access_net;     /* ABI 4 */
    uint64_t  scoped;                 /* ABI 6 */
} video_ll_ruleset_attr_t;

#define VIDEO_LL_READ  (LANDLOCK_ACCESS_FS_READ_FILE                         \
                        | LANDLOCK_ACCESS_FS_READ_DIR)
#define VIDEO_LL_EXEC  (VIDEO_LL_READ | LANDLOCK_ACCESS_FS_EXECUTE)


int
video_sandbox_landlock_abi(void)
{
    long  abi;

    abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
                  LANDLOCK_CREATE_RULESET_VERSION);

    return abi > 0 ? (int) abi : 0;
}


static int
video_sandbox_rule(int ruleset, const char *path, uint64_t access,
    int directory)
{
    int                                fd, rc;
    struct landlock_path_beneath_attr  pb;

    fd = open(path, O_PATH | O_CLOEXEC | (directory ? O_DIRECTORY : 0));

    if (fd < 0) {
        /* a system directory this system does not have */
        return (errno == ENOENT) ? 0 : -1;
    }

    pb.allowed_access = access;
    pb.parent_fd = fd;

    rc = (int) syscall(SYS_landlock_add_rule, ruleset,
                       LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    close(fd);

    return rc;
}


/*
 * Reading the system's programs, libraries and /etc; /dev/null and the
 * random devices; the CPU and NUMA topology (sysconf, thread placement);
 * the job's directory read, its
 * out/ read and written.  No symlinks, devices, FIFOs or sockets made,
 * nothing linked or renamed across directories; with newer kernels no
 * TCP, no abstract unix sockets and no signals out of the sandbox.
 */

int
video_sandbox_landlock(void)
{
    int                       ruleset, abi, rc;
    size_t                    i, size;
    uint64_t                  all, write;
    video_ll_ruleset_attr_t   attr;

    static const char  *exec_dirs[] = {
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
        NULL
    };

    abi = video_sandbox.landlock;

    if (abi == 0) {
        return 0;
    }

    all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;     /* ABI 1 */

    if (abi >= 2) {
        all |= LANDLOCK_ACCESS_FS_REFER;
    }

    if (abi >= 3) {
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    }

    if (abi >= 5) {
        all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    }

    memset(&attr, 0, sizeof(attr));
    attr.handled_access_fs = all;
    size = sizeof(attr.handled_access_fs);

    if (abi >= 4) {
        attr.handled_access_net = VIDEO_LL_NET_BIND_TCP
                                  | VIDEO_LL_NET_CONNECT_TCP;
        size = offsetof(video_ll_ruleset_attr_t, scoped);
    }

    if (abi >= 6) {
        attr.scoped = VIDEO_LL_SCOPE_ABSTRACT_UNIX | VIDEO_LL_SCOPE_SIGNAL;
        size = sizeof(attr);
    }

    ruleset = (int) syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) {
        return -1;
    }

    write = VIDEO_LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE
            | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
            | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG
            | (all & LANDLOCK_ACCESS_FS_TRUNCATE);

    rc = 0;

    for (i = 0; exec_dirs[i] != NULL; i++) {
        rc |= video_sandbox_rule(ruleset, exec_dirs[i], VIDEO_LL_EXEC, 1);
    }

    rc |= video_sandbox_rule(ruleset, "/etc", VIDEO_LL_READ, 1);
    rc |= video_sandbox_rule(ruleset, "/sys/devices/system", VIDEO_LL_READ,
                             1);
    rc |= video_sandbox_rule(ruleset, "/dev/null",
                             LANDLOCK_ACCESS_FS_READ_FILE
                             | LANDLOCK_ACCESS_FS_WRITE_FILE, 0);
    rc |= video_sandbox_rule(ruleset, "/dev/zero",
                             LANDLOCK_ACCESS_FS_READ_FILE, 0);
    rc |= video_sandbox_rule(ruleset, "/dev/urandom",
                             LANDLOCK_ACCESS_FS_READ_FILE, 0);
    rc |= video_sandbox_rule(ruleset, "/dev/random",
                             LANDLOCK_ACCESS_FS_READ_FILE, 0);

    /* relative: the working directory is the job's */

    rc |= video_sandbox_rule(ruleset, ".", VIDEO_LL_READ, 1);
    rc |= video_sandbox_rule(ruleset, "out", write, 1);

    if (rc != 0
        || syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
    {
        close(ruleset);
        return -1;
    }

    close(ruleset);

    return 0;
}
