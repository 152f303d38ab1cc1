// Runs a program with io_uring forbidden, as Docker's default seccomp profile
// and kernel.io_uring_disabled do: io_uring_setup/enter/register fail with
// EPERM (or the errno named by NO_URING_ERRNO, e.g. 38 for ENOSYS).
//   no_uring PROGRAM [ARGS...]
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: no_uring PROGRAM [ARGS...]\n");
        return 2;
    }
    const char* e = std::getenv("NO_URING_ERRNO");
    const unsigned err = e ? static_cast<unsigned>(std::atoi(e)) : EPERM;
    const unsigned deny = SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), // other ABIs: not our concern
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, deny),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        std::fprintf(stderr, "no_uring: cannot install the seccomp filter: %s\n",
                     std::strerror(errno));
        return 3;
    }
    execv(argv[1], argv + 1);
    std::fprintf(stderr, "no_uring: cannot run %s: %s\n", argv[1], std::strerror(errno));
    return 127;
}
