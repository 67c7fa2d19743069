// seccomp-errno NR ERRNO COMMAND [ARG...]: runs COMMAND with system call NR failing with ERRNO, as a
// kernel that lacks it (ENOSYS) or refuses it would. For the tests of a call strace cannot fault (one
// newer than its table: listxattrat). A seccomp filter is inherited across execve and cannot be undone.
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: seccomp-errno NR ERRNO COMMAND [ARG...]\n");
    return 2;
  }
  unsigned nr = (unsigned)strtoul(argv[1], NULL, 10);
  unsigned err = (unsigned)strtoul(argv[2], NULL, 10);
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
    perror("seccomp-errno: prctl");
    return 127;
  }
  execvp(argv[3], argv + 3);
  perror("seccomp-errno: execvp");
  return 127;
}
