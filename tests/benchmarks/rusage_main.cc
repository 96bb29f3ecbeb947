// vmscan-bench-rusage OUTFILE COMMAND [ARGS...]: runs COMMAND and writes "<ru_maxrss KiB>
// <exit code>" to OUTFILE.
//
// Why a separate, tiny process: the kernel seeds a process's ru_maxrss at exec with the RSS of
// the address space it replaces. A child spawned straight from the benchmark (hundreds of MiB:
// corpus, in-process engine) would report the benchmark's size instead of its own. Forked from
// this small program, whose own footprint is far below any agent's, the number is the agent's.
// Only C library calls, so that the program stays small.
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: vmscan-bench-rusage OUTFILE COMMAND [ARGS...]\n");
    return 64;
  }
  const pid_t pid = fork();
  if (pid < 0) return 71;
  if (pid == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  if (wait4(pid, &status, 0, &usage) != pid) return 71;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE* out = fopen(argv[1], "w");
  if (out == NULL) return 73;
  fprintf(out, "%ld %d\n", usage.ru_maxrss, code);
  fclose(out);
  return code;
}
