/*
 * The command's resource limits (media_cpu_seconds, media_memory_mb,
 * media_file_mb), set in its process before exec, and what tells that
 * the memory limit was hit: its peak address space, sampled by the init
 * process while it runs (no allocation, no stdio there), and what it
 * wrote on stderr, read by the worker.
 */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "worker_sandbox.h"


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


long
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


int
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


/* what the command wrote on stderr says it ran out of memory */

int
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
