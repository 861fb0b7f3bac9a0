/*
 * The media sandbox.  ffprobe and ffmpeg decode files from users, so they
 * run apart from what the worker holds: in their own network, PID and IPC
 * namespaces (no network at all; every process of the run dies with it),
 * as their own user (media_user, when the worker is root; otherwise in a
 * user namespace of their own), with Landlock letting them read only
 * the system's programs and libraries and their job's directory and
 * write only its out/ (nothing of conf/ or the run directory, whatever
 * the files' modes), a seccomp filter refusing sockets, new processes
 * and a few kernel interfaces, no privileges to gain, an environment of
 * PATH alone, no descriptor of the worker's, and CPU-time, memory and
 * file-size limits.
 *
 *   worker --clone(new namespaces)--> init: forwards SIGTERM, reaps,
 *                                     reports the command's end
 *                                       --fork--> limits, Landlock, user,
 *                                                 seccomp, exec command
 *
 * The init process is the namespaces' PID 1: when it exits, the kernel
 * kills whatever the command left behind.  It reports on a pipe how the
 * sandbox could not be made, or how the command ended and the CPU time
 * it used, so a limit is named when one was hit.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>

#include "video_worker.h"


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


#if defined(__x86_64__)
#define VIDEO_SANDBOX_ARCH  AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define VIDEO_SANDBOX_ARCH  AUDIT_ARCH_AARCH64
#endif


/* what the init process reports */

#define VIDEO_SANDBOX_SETUP  1      /* a step failed: step, err */
#define VIDEO_SANDBOX_EXEC   2      /* the command could not run: err */
#define VIDEO_SANDBOX_DONE   3      /* the command ended: status, cpu_ms,
                                       vm_kb */

typedef struct {
    int    what;
    int    step;
    int    err;
    int    status;
    long   cpu_ms;
    long   vm_kb;                 /* its peak address space, as sampled */
} video_sandbox_report_t;

/* the steps, as reported */
static const char  *video_sandbox_steps[] = {
    "descriptors", "user namespace maps", "fork", "resource limits",
    "chdir", "landlock", "no_new_privs", "groups", "user", "seccomp",
    "signals"
};

enum {
    VIDEO_STEP_FDS = 0, VIDEO_STEP_MAPS, VIDEO_STEP_FORK, VIDEO_STEP_LIMITS,
    VIDEO_STEP_CHDIR, VIDEO_STEP_LANDLOCK, VIDEO_STEP_NNP, VIDEO_STEP_GROUPS,
    VIDEO_STEP_USER, VIDEO_STEP_SECCOMP, VIDEO_STEP_SIGNALS
};


/* what the sandbox is made of, decided once */

static struct {
    int     checked;
    int     off;                 /* media_sandbox = off */
    int     root;                /* a separate user; else a user ns */
    uid_t   uid;                 /* the command's user */
    gid_t   gid;
    uid_t   outer_uid;           /* the worker's, for the user ns maps */
    gid_t   outer_gid;
    int     landlock;            /* Landlock ABI, 0: none */
    char    error[256];          /* why no sandbox can be made */
    char    summary[512];
} video_sandbox;


/* one run: what the clone()d init process works from */

typedef struct {
    const char    *dir;
    char *const   *argv;
    int            out_fd;
    int            err_fd;
    int            report_fd;
} video_sandbox_run_t;


static char                   video_sandbox_stack[256 * 1024]
                                  __attribute__((aligned(16)));
static volatile pid_t         video_sandbox_child;


/* -- what can be made --------------------------------------------------- */

static int
video_sandbox_landlock_abi(void)
{
    long  abi;

    abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
                  LANDLOCK_CREATE_RULESET_VERSION);

    return abi > 0 ? (int) abi : 0;
}


int
video_sandbox_check(char *summary, size_t size)
{
    char           limits[128];
    struct passwd *pw;

    if (video_sandbox.checked) {
        goto done;
    }

    video_sandbox.checked = 1;
    video_sandbox.off = !video_worker_conf.media_sandbox;
    video_sandbox.landlock = video_sandbox_landlock_abi();
    video_sandbox.outer_uid = geteuid();
    video_sandbox.outer_gid = getegid();
    video_sandbox.root = (video_sandbox.outer_uid == 0);

    snprintf(limits, sizeof(limits), "CPU time %d s, memory %d MB, files "
             "%d MB (0: none)", video_worker_conf.media_cpu_seconds,
             video_worker_conf.media_memory_mb,
             video_worker_conf.media_file_mb);

    if (video_sandbox.off) {
        video_sandbox.uid = video_sandbox.outer_uid;
        video_sandbox.gid = video_sandbox.outer_gid;
        snprintf(video_sandbox.summary, sizeof(video_sandbox.summary),
                 "off (media_sandbox = off): ffmpeg runs as the worker, "
                 "with its network; limits: %s", limits);
        goto done;
    }

    if (video_sandbox.root) {
        pw = getpwnam(video_worker_conf.media_user);

        if (pw == NULL) {
            snprintf(video_sandbox.error, sizeof(video_sandbox.error),
                     "media_user \"%s\" does not exist (scripts/deps.sh "
                     "creates video-media)", video_worker_conf.media_user);
            goto done;
        }

        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
            snprintf(video_sandbox.error, sizeof(video_sandbox.error),
                     "media_user \"%s\" is root",
                     video_worker_conf.media_user);
            goto done;
        }

        video_sandbox.uid = pw->pw_uid;
        video_sandbox.gid = pw->pw_gid;

    } else {

        /* the command's user is the worker's: only Landlock keeps the
           worker's files from it */

        if (video_sandbox.landlock == 0) {
            snprintf(video_sandbox.error, sizeof(video_sandbox.error),
                     "the worker is not root and this kernel has no "
                     "Landlock, so ffmpeg could read what the worker can "
                     "(media_sandbox = off runs it unsandboxed)");
            goto done;
        }

        video_sandbox.uid = video_sandbox.outer_uid;
        video_sandbox.gid = video_sandbox.outer_gid;
    }

    snprintf(video_sandbox.summary, sizeof(video_sandbox.summary),
             "%s%s, network/PID/IPC namespaces, %s, %s; limits: %s",
             video_sandbox.root ? "user " : "the worker's user in a user "
                                           "namespace",
             video_sandbox.root ? video_worker_conf.media_user : "",
             video_sandbox.landlock ? "Landlock" : "no Landlock (the user "
                                                   "alone keeps files)",
#ifdef VIDEO_SANDBOX_ARCH
             "seccomp",
#else
             "no seccomp (not built for this architecture)",
#endif
             limits);

done:

    if (video_sandbox.error[0] != '\0') {
        snprintf(summary, size, "%s", video_sandbox.error);
        return -1;
    }

    if (video_sandbox.landlock > 0 && !video_sandbox.off) {
        snprintf(summary, size, "%s (Landlock ABI %d)", video_sandbox.summary,
                 video_sandbox.landlock);

    } else {
        snprintf(summary, size, "%s", video_sandbox.summary);
    }

    return 0;
}


/* -- in the sandbox's processes: no allocation, no stdio ------------- */

static void
video_sandbox_report(int fd, int what, int step, int err)
{
    ssize_t                 n;
    video_sandbox_report_t  r;

    memset(&r, 0, sizeof(r));
    r.what = what;
    r.step = step;
    r.err = err;

    n = write(fd, &r, sizeof(r));
    (void) n;
}


/*
 * The command's peak address space (VmPeak), read while it runs: an
 * allocation failing against the memory limit leaves the command close
 * to it.  /proc is the host's, so the command is found by the PID the
 * host knows it by, in this process's list of children.
 */

static long
video_sandbox_number(const char *p, const char *end, const char **next)
{
    long  n;

    while (p < end && (*p < '0' || *p > '9')) {
        p++;
    }

    for (n = 0; p < end && *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
    }

    *next = p;

    return n;
}


static ssize_t
video_sandbox_read(const char *path, char *buf, size_t size)
{
    int      fd;
    ssize_t  n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }

    n = read(fd, buf, size - 1);
    close(fd);

    if (n >= 0) {
        buf[n] = '\0';
    }

    return n;
}


static long
video_sandbox_vm_peak(long *host_pid)
{
    char         buf[2048], path[64], *p;
    ssize_t      n;
    const char  *next;

    if (*host_pid == 0) {
        n = video_sandbox_read("/proc/thread-self/children", buf,
                               sizeof(buf));
        if (n <= 0) {
            return 0;
        }

        *host_pid = video_sandbox_number(buf, buf + n, &next);
    }

    snprintf(path, sizeof(path), "/proc/%ld/status", *host_pid);

    n = video_sandbox_read(path, buf, sizeof(buf));
    if (n <= 0) {
        return 0;
    }

    p = strstr(buf, "VmPeak:");
    if (p == NULL) {
        return 0;
    }

    return video_sandbox_number(p, buf + n, &next);
}


static void
video_sandbox_forward(int signo)
{
    if (video_sandbox_child > 0) {
        kill(video_sandbox_child, signo);
    }
}


/* stdin /dev/null, stdout and stderr, the report on 3, nothing else */

static int
video_sandbox_fds(video_sandbox_run_t *run)
{
    int  r, o, e, n, fd;

    r = fcntl(run->report_fd, F_DUPFD_CLOEXEC, 10);
    o = fcntl(run->out_fd, F_DUPFD, 10);
    e = fcntl(run->err_fd, F_DUPFD, 10);
    n = open("/dev/null", O_RDWR);

    if (r < 0 || o < 0 || e < 0 || n < 0
        || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0
        || dup2(r, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
    {
        return -1;
    }

    run->report_fd = 3;

    if (close_range(4, ~0U, 0) != 0) {
        for (fd = 4; fd < 65536; fd++) {
            close(fd);
        }
    }

    return 0;
}


static int
video_sandbox_map(const char *file, const char *map)
{
    int      fd;
    ssize_t  n;
    size_t   len;

    fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }

    len = strlen(map);
    n = write(fd, map, len);
    close(fd);

    return n == (ssize_t) len ? 0 : -1;
}


/* maps the worker's user and group into the new user namespace */

static int
video_sandbox_maps(void)
{
    char  map[64];

    if (video_sandbox_map("/proc/self/setgroups", "deny") != 0) {
        return -1;
    }

    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned) video_sandbox.uid,
             (unsigned) video_sandbox.outer_uid);

    if (video_sandbox_map("/proc/self/uid_map", map) != 0) {
        return -1;
    }

    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned) video_sandbox.gid,
             (unsigned) video_sandbox.outer_gid);

    return video_sandbox_map("/proc/self/gid_map", map);
}


static int
video_sandbox_limit(int resource, long value, long hard_extra)
{
    struct rlimit  rl;

    if (value <= 0) {
        return 0;
    }

    rl.rlim_cur = value;
    rl.rlim_max = value + hard_extra;

    return setrlimit(resource, &rl);
}


static int
video_sandbox_limits(void)
{
    struct rlimit  rl;

    rl.rlim_cur = 0;
    rl.rlim_max = 0;

    /* past the CPU limit SIGXCPU every second (ffmpeg stops cleanly on
       it), SIGKILL 5 s later */

    if (setrlimit(RLIMIT_CORE, &rl) != 0
        || video_sandbox_limit(RLIMIT_CPU,
                               video_worker_conf.media_cpu_seconds, 5) != 0
        || video_sandbox_limit(RLIMIT_AS,
                               (long) video_worker_conf.media_memory_mb
                               << 20, 0) != 0
        || video_sandbox_limit(RLIMIT_FSIZE,
                               (long) video_worker_conf.media_file_mb << 20,
                               0) != 0)
    {
        return -1;
    }

    return 0;
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

static int
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


#ifdef VIDEO_SANDBOX_ARCH

#define VIDEO_BPF_NR                                                         \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

/*
 * Refused: sockets (there is no network to reach, and no unix socket of
 * the host either), new processes (threads are fine), tracing and
 * reading other processes, io_uring (its operations pass by this filter),
 * BPF, perf, userfaultfd, keyrings, namespaces and mounts.  clone3 says
 * ENOSYS, so the C library makes its threads with clone.
 */

static int
video_sandbox_seccomp(void)
{
    size_t               i, n;
    struct sock_fprog    prog;
    struct sock_filter   f[64];

    static const struct {
        int  nr;
        int  err;
    } denied[] = {
        { __NR_socket, EACCES },
#ifdef __NR_fork
        { __NR_fork, EPERM },
#endif
#ifdef __NR_vfork
        { __NR_vfork, EPERM },
#endif
        { __NR_clone3, ENOSYS },
        { __NR_ptrace, EPERM },
        { __NR_process_vm_readv, EPERM },
        { __NR_process_vm_writev, EPERM },
        { __NR_io_uring_setup, EPERM },
        { __NR_io_uring_enter, EPERM },
        { __NR_io_uring_register, EPERM },
        { __NR_bpf, EPERM },
        { __NR_perf_event_open, EPERM },
        { __NR_userfaultfd, EPERM },
        { __NR_keyctl, EPERM },
        { __NR_add_key, EPERM },
        { __NR_request_key, EPERM },
        { __NR_unshare, EPERM },
        { __NR_setns, EPERM },
        { __NR_mount, EPERM },
        { __NR_umount2, EPERM },
    };

    n = 0;

    f[n++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                 VIDEO_SANDBOX_ARCH, 1, 0);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_KILL_PROCESS);
    f[n++] = (struct sock_filter) VIDEO_BPF_NR;

#ifdef __X32_SYSCALL_BIT
    f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
                 __X32_SYSCALL_BIT, 0, 1);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ERRNO | ENOSYS);
#endif

    for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                     denied[i].nr, 0, 1);
        f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K,
                     SECCOMP_RET_ERRNO | denied[i].err);
    }

    /* clone only for threads */

    f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                 __NR_clone, 0, 3);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                 offsetof(struct seccomp_data, args[0]));
    f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
                 CLONE_THREAD, 1, 0);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ERRNO | EPERM);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ALLOW);

    prog.len = (unsigned short) n;
    prog.filter = f;

    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

#endif


/*
 * The init process runs on a stack of its own (clone()), which
 * AddressSanitizer does not know: its bookkeeping before a call that does
 * not return (_exit) would warn of false positives to come.  The two
 * functions that run on that stack and make such calls are left out of
 * its instrumentation (their callees are not).
 */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define VIDEO_SANDBOX_OWN_STACK  __attribute__((no_sanitize("address")))
#else
#define VIDEO_SANDBOX_OWN_STACK
#endif


/* the command's process: confine, then exec */

VIDEO_SANDBOX_OWN_STACK
static void
video_sandbox_exec(video_sandbox_run_t *run)
{
    int               step, signo;
    sigset_t          all;
    struct sigaction  sa;

    static char  *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

    step = VIDEO_STEP_SIGNALS;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;

    for (signo = 1; signo < NSIG; signo++) {
        if (signo != SIGKILL && signo != SIGSTOP) {
            sigaction(signo, &sa, NULL);
        }
    }

    sigemptyset(&all);
    if (sigprocmask(SIG_SETMASK, &all, NULL) != 0) {
        goto failed;
    }

    step = VIDEO_STEP_LIMITS;
    if (video_sandbox_limits() != 0) {
        goto failed;
    }

    step = VIDEO_STEP_CHDIR;
    if (chdir(run->dir) != 0) {
        goto failed;
    }

    if (!video_sandbox.off) {
        step = VIDEO_STEP_NNP;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            goto failed;
        }

        step = VIDEO_STEP_LANDLOCK;
        if (video_sandbox_landlock() != 0) {
            goto failed;
        }

        if (video_sandbox.root) {
            step = VIDEO_STEP_GROUPS;
            if (setgroups(0, NULL) != 0
                || setresgid(video_sandbox.gid, video_sandbox.gid,
                             video_sandbox.gid) != 0)
            {
                goto failed;
            }

            step = VIDEO_STEP_USER;
            if (setresuid(video_sandbox.uid, video_sandbox.uid,
                          video_sandbox.uid) != 0
                || setuid(0) == 0)
            {
                goto failed;
            }
        }

#ifdef VIDEO_SANDBOX_ARCH
        step = VIDEO_STEP_SECCOMP;
        if (video_sandbox_seccomp() != 0) {
            goto failed;
        }
#endif
    }

    environ = env;
    execvp(run->argv[0], run->argv);

    video_sandbox_report(run->report_fd, VIDEO_SANDBOX_EXEC, 0, errno);
    _exit(127);

failed:

    video_sandbox_report(run->report_fd, VIDEO_SANDBOX_SETUP, step, errno);
    _exit(127);
}


/* the init process of the namespaces */

VIDEO_SANDBOX_OWN_STACK
static int
video_sandbox_init(void *data)
{
    int                      status, step, execd[2];
    char                     c;
    long                     vm, host_pid;
    pid_t                    pid, done;
    struct rusage            ru;
    struct timespec          ts;
    struct sigaction         sa;
    video_sandbox_run_t     *run = data;
    video_sandbox_report_t   r;

    /* the worker gone, the sandbox goes: its init's death kills the rest */

    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

    step = VIDEO_STEP_FDS;
    if (video_sandbox_fds(run) != 0) {
        goto failed;
    }

    step = VIDEO_STEP_MAPS;
    if (!video_sandbox.root && video_sandbox_maps() != 0) {
        goto failed;
    }

    /* PID 1 gets only the signals it handles: SIGTERM goes on */

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = video_sandbox_forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /*
     * the command's exec closes this pipe: until then the process is a
     * copy of this one, whose address space is not the command's
     */

    step = VIDEO_STEP_FORK;
    if (pipe2(execd, O_CLOEXEC) != 0) {
        goto failed;
    }

    pid = fork();

    if (pid < 0) {
        goto failed;
    }

    if (pid == 0) {
        close(execd[0]);
        video_sandbox_exec(run);
    }

    video_sandbox_child = pid;

    close(execd[1]);
    (void) fcntl(execd[0], F_SETFL, O_NONBLOCK);

    /* waits, sampling the command's address space every 20 ms */

    memset(&r, 0, sizeof(r));
    host_pid = 0;
    ts.tv_sec = 0;
    ts.tv_nsec = 20000000;

    for ( ;; ) {
        done = wait4(pid, &status, WNOHANG, &ru);

        if (done == pid) {
            break;
        }

        if (done < 0 && errno != EINTR) {
            goto failed;
        }

        if (execd[0] != -1 && read(execd[0], &c, 1) == 0) {
            close(execd[0]);
            execd[0] = -1;
        }

        vm = (execd[0] == -1) ? video_sandbox_vm_peak(&host_pid) : 0;
        if (vm > r.vm_kb) {
            r.vm_kb = vm;
        }

        nanosleep(&ts, NULL);
    }

    r.what = VIDEO_SANDBOX_DONE;
    r.status = status;
    r.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
               + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;

    if (write(run->report_fd, &r, sizeof(r)) != sizeof(r)) {
        _exit(126);
    }

    _exit(0);

failed:

    video_sandbox_report(run->report_fd, VIDEO_SANDBOX_SETUP, step, errno);
    _exit(127);
}


/* -- in the worker ------------------------------------------------------- */

int
video_sandbox_start(video_sandbox_t *sb, const char *dir, char *const *argv,
    int out_fd, int err_fd, char *err, size_t size)
{
    int                  fds[2], flags;
    char                 why[256];
    video_sandbox_run_t  run;

    sb->pid = -1;
    sb->report = -1;

    if (video_sandbox_check(why, sizeof(why)) != 0) {
        snprintf(err, size, "cannot make the media sandbox: %s", why);
        return -1;
    }

    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, size, "pipe() failed: %s", strerror(errno));
        return -1;
    }

    run.dir = dir;
    run.argv = argv;
    run.out_fd = out_fd;
    run.err_fd = err_fd;
    run.report_fd = fds[1];

    if (video_sandbox.off) {
        sb->pid = fork();

        if (sb->pid == 0) {
            if (video_sandbox_fds(&run) != 0) {
                video_sandbox_report(run.report_fd, VIDEO_SANDBOX_SETUP,
                                     VIDEO_STEP_FDS, errno);
                _exit(127);
            }

            video_sandbox_exec(&run);
        }

    } else {
        flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | SIGCHLD;

        if (!video_sandbox.root) {
            flags |= CLONE_NEWUSER;
        }

        sb->pid = clone(video_sandbox_init,
                        video_sandbox_stack + sizeof(video_sandbox_stack),
                        flags, &run);
    }

    close(fds[1]);

    if (sb->pid < 0) {
        snprintf(err, size, "cannot make the media sandbox: %s: %s",
                 video_sandbox.off ? "fork()" : "clone()", strerror(errno));
        close(fds[0]);
        return -1;
    }

    sb->report = fds[0];

    return 0;
}


void
video_sandbox_kill(video_sandbox_t *sb, int signo)
{
    if (sb->pid > 0) {
        kill(sb->pid, signo);
    }
}


/* what the command wrote on stderr says it ran out of memory */

static int
video_sandbox_no_memory(const char *errlog)
{
    int     found;
    FILE   *f;
    char    line[1024];
    size_t  i;

    static const char  *signs[] = {
        "Cannot allocate memory", "cannot allocate memory", "Out of memory",
        "out of memory", "malloc of size", "failed to map segment",
        "std::bad_alloc", "Resource temporarily unavailable", NULL
    };

    if (errlog == NULL) {
        return 0;
    }

    f = fopen(errlog, "r");
    if (f == NULL) {
        return 0;
    }

    found = 0;

    while (!found && fgets(line, sizeof(line), f) != NULL) {
        for (i = 0; signs[i] != NULL; i++) {
            if (strstr(line, signs[i]) != NULL) {
                found = 1;
                break;
            }
        }
    }

    fclose(f);

    return found;
}


int
video_sandbox_wait(video_sandbox_t *sb, const char *errlog, int *status,
    char *why, size_t size)
{
    int                     st, have_done, failed, signo;
    long                    cpu_ms, vm_kb, limit_kb;
    ssize_t                 n;
    struct rusage           ru;
    video_sandbox_report_t  r, done, fail;

    why[0] = '\0';
    *status = 0;
    sb->cpu_ms = 0;
    sb->vm_kb = 0;

    while (wait4(sb->pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) {
            snprintf(why, size, "waitpid() failed: %s", strerror(errno));
            close(sb->report);
            return VIDEO_SANDBOX_ERROR;
        }
    }

    have_done = 0;
    failed = 0;

    memset(&done, 0, sizeof(done));
    memset(&fail, 0, sizeof(fail));

    for ( ;; ) {
        n = read(sb->report, &r, sizeof(r));

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n != sizeof(r)) {
            break;
        }

        if (r.what == VIDEO_SANDBOX_DONE) {
            done = r;
            have_done = 1;

        } else if (!failed) {
            fail = r;
            failed = 1;
        }
    }

    close(sb->report);
    sb->report = -1;
    sb->pid = -1;

    if (failed && fail.what == VIDEO_SANDBOX_SETUP) {
        snprintf(why, size, "cannot make the media sandbox: %s: %s",
                 (size_t) fail.step < sizeof(video_sandbox_steps)
                                      / sizeof(video_sandbox_steps[0])
                 ? video_sandbox_steps[fail.step] : "?",
                 strerror(fail.err));
        return VIDEO_SANDBOX_ERROR;
    }

    if (failed && fail.what == VIDEO_SANDBOX_EXEC) {
        snprintf(why, size, "%s", strerror(fail.err));
        return VIDEO_SANDBOX_ERROR;
    }

    if (have_done) {
        st = done.status;
        cpu_ms = done.cpu_ms;
        vm_kb = done.vm_kb;

    } else {
        /* no sandbox (its own process), or the init process killed */
        cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
                 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
        vm_kb = 0;
    }

    *status = st;
    sb->cpu_ms = cpu_ms;
    sb->vm_kb = vm_kb;

    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        return VIDEO_SANDBOX_OK;
    }

    signo = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

    if (video_worker_conf.media_cpu_seconds > 0
        && (signo == SIGXCPU
            || cpu_ms >= video_worker_conf.media_cpu_seconds * 1000L))
    {
        snprintf(why, size, "exceeded the CPU time limit of %d s "
                 "(media_cpu_seconds)", video_worker_conf.media_cpu_seconds);
        return VIDEO_SANDBOX_LIMIT;
    }

    if (video_worker_conf.media_file_mb > 0 && signo == SIGXFSZ) {
        snprintf(why, size, "exceeded the file size limit of %d MB "
                 "(media_file_mb)", video_worker_conf.media_file_mb);
        return VIDEO_SANDBOX_LIMIT;
    }

    /* an allocation failed: the command said so, or it had come within
       a quarter of the limit */

    limit_kb = (long) video_worker_conf.media_memory_mb * 1024;

    if (limit_kb > 0
        && (vm_kb >= limit_kb - limit_kb / 4
            || video_sandbox_no_memory(errlog)))
    {
        snprintf(why, size, "exceeded the memory limit of %d MB "
                 "(media_memory_mb)", video_worker_conf.media_memory_mb);
        return VIDEO_SANDBOX_LIMIT;
    }

    if (signo != 0) {
        snprintf(why, size, "killed by signal %d (%s)", signo,
                 strsignal(signo));
    }

    return VIDEO_SANDBOX_FAILED;
}


/* -- the command's files ------------------------------------------------- */

int
video_sandbox_prepare(const char *dir, char *err, size_t size)
{
    int          fd;
    char         path[1100], why[256];
    struct stat  st;

    if (video_sandbox_check(why, sizeof(why)) != 0) {
        snprintf(err, size, "cannot make the media sandbox: %s", why);
        return -1;
    }

    snprintf(path, sizeof(path), "%s/out", dir);

    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, size, "cannot create \"%.400s\": %s", path,
                 strerror(errno));
        return -1;
    }

    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, size, "\"%.400s\" is not a directory", path);
        return -1;
    }

    if (!video_sandbox.root || video_sandbox.off) {
        return 0;
    }

    /* out/ is the media user's; the directory and the original stay
       the worker's, readable by the media group alone */

    if (chown(path, video_sandbox.uid, video_sandbox.gid) != 0
        || chown(dir, (uid_t) -1, video_sandbox.gid) != 0
        || chmod(dir, 0750) != 0)
    {
        snprintf(err, size, "cannot give \"%.400s\" to the media user: %s",
                 path, strerror(errno));
        return -1;
    }

    snprintf(path, sizeof(path), "%s/original", dir);

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd >= 0) {
        if (fchown(fd, 0, video_sandbox.gid) != 0 || fchmod(fd, 0640) != 0) {
            snprintf(err, size, "cannot give \"%.400s\" to the media user: "
                     "%s", path, strerror(errno));
            close(fd);
            return -1;
        }

        close(fd);
    }

    return 0;
}


/* dir/out, not through a link */

static int
video_sandbox_outdir(const char *dir, char *err, size_t size)
{
    int   fd;
    char  path[1100];

    snprintf(path, sizeof(path), "%s/out", dir);

    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, size, "cannot open \"%.400s\": %s", path,
                 strerror(errno));
    }

    return fd;
}


int
video_sandbox_open(const char *dir, const char *rel, char *err, size_t size)
{
    int          dfd, fd, last;
    char         name[256], *p, *slash;
    struct stat  st;

    if (strlen(rel) >= sizeof(name)) {
        snprintf(err, size, "an output name too long");
        return -1;
    }

    strcpy(name, rel);

    dfd = video_sandbox_outdir(dir, err, size);
    if (dfd < 0) {
        return -1;
    }

    /* one component at a time, none a link, none "." or ".." */

    for (p = name; ; p = slash + 1) {
        slash = strchr(p, '/');
        last = (slash == NULL);

        if (!last) {
            *slash = '\0';
        }

        if (p[0] == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            snprintf(err, size, "\"out/%.200s\": not a plain name", rel);
            close(dfd);
            return -1;
        }

        fd = openat(dfd, p, last ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK
                                   | O_NOCTTY | O_CLOEXEC
                                 : O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                   | O_CLOEXEC);
        close(dfd);

        if (fd < 0) {
            snprintf(err, size, "cannot open \"out/%.200s\": %s", rel,
                     strerror(errno));
            return -1;
        }

        if (last) {
            break;
        }

        dfd = fd;
    }

    /* a file the command made here, not a name of another one */

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1
        || (st.st_uid != video_sandbox.uid && st.st_uid != geteuid())
        || fcntl(fd, F_SETFL, 0) != 0)
    {
        snprintf(err, size, "\"out/%.200s\" is not a file the transcoder "
                 "wrote", rel);
        close(fd);
        return -1;
    }

    return fd;
}


int
video_sandbox_write(const char *dir, const char *rel, const char *data,
    size_t len, char *err, size_t size)
{
    int      dfd, fd;
    ssize_t  n;

    dfd = video_sandbox_outdir(dir, err, size);
    if (dfd < 0) {
        return -1;
    }

    /* whatever has the name goes: a new file, never one behind a link */

    if (unlinkat(dfd, rel, 0) != 0 && errno != ENOENT) {
        snprintf(err, size, "cannot replace \"out/%.200s\": %s", rel,
                 strerror(errno));
        close(dfd);
        return -1;
    }

    fd = openat(dfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                          | O_CLOEXEC, 0644);
    close(dfd);

    if (fd < 0) {
        snprintf(err, size, "cannot write \"out/%.200s\": %s", rel,
                 strerror(errno));
        return -1;
    }

    n = write(fd, data, len);

    if (close(fd) != 0 || n != (ssize_t) len) {
        snprintf(err, size, "cannot write \"out/%.200s\"", rel);
        return -1;
    }

    return 0;
}


/*
 * "video-worker sandbox <dir> -- <command> [args...]": the command in the
 * sandbox a transcode runs in, working in dir, writing only in dir/out,
 * stdout and stderr the worker's; for operators and tests.  The exit
 * status is the command's (128 + a signal), 126 when no sandbox could be
 * made, 127 when the command could not run.
 */

int
video_worker_sandbox(const char *dir, char **argv)
{
    int              rc, status;
    char             why[512];
    video_sandbox_t  sb;

    if (video_sandbox_check(why, sizeof(why)) != 0) {
        video_worker_log("no media sandbox: %s", why);
        return 126;
    }

    video_worker_log("media sandbox: %s", why);

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        video_worker_log("cannot create \"%s\": %s", dir, strerror(errno));
        return 126;
    }

    if (video_sandbox_prepare(dir, why, sizeof(why)) != 0
        || video_sandbox_start(&sb, dir, argv, STDOUT_FILENO, STDERR_FILENO,
                               why, sizeof(why))
           != 0)
    {
        video_worker_log("%s", why);
        return 126;
    }

    rc = video_sandbox_wait(&sb, NULL, &status, why, sizeof(why));

    switch (rc) {

    case VIDEO_SANDBOX_OK:
        return 0;

    case VIDEO_SANDBOX_ERROR:
        video_worker_log("%s: %s", argv[0], why);
        return strstr(why, "media sandbox") ? 126 : 127;

    default:
        if (why[0] != '\0') {
            video_worker_log("%s: %s", argv[0], why);
        }

        return WIFEXITED(status) ? WEXITSTATUS(status)
                                 : 128 + WTERMSIG(status);
    }
}
