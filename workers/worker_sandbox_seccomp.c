/*
 * The seccomp filter the command's process loads last before exec, on the
 * architectures it is written for (VIDEO_SANDBOX_ARCH).
 */

#define _GNU_SOURCE

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "worker_sandbox.h"


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

int
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
