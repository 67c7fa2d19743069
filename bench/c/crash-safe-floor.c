/*
 * The crash-safe floor of a reconcile: the product's own plan for an upper (written by the bench
 * from `reconcile --dry-run --json`), executed with the fewest syscalls that keep it durable and
 * recoverable. The plan is written to a journal and fsynced (with its directory) first; each step
 * is one rename into the backup set (BACKUPSET/upper/PATH, missing parents made), a rename aside,
 * a sidecar copied from the base, an attribute change or an rmdir; then one syncfs(2) of the upper's
 * filesystem and one journal record, fsynced, that the plan is done. No manifest is read, nothing
 * is hashed or planned: what is left is the least any crash-safe execution of that plan costs.
 *
 * usage: crash-safe-floor PLAN BASE UPPER BACKUPSET JOURNAL
 * PLAN: records of NUL-ended fields: "M" PATH (move to backups), "R" PATH TO (rename aside),
 * "S" PATH FROM (sidecar: the base entry FROM copied to PATH with its mode and owner),
 * "A" PATH MODE UID GID (set attributes, octal mode), "D" PATH (remove an empty dir).
 * Prints {"ms":…,"actions":…}: the time from opening the journal to its last fsync.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
  fprintf(stderr, "crash-safe-floor: %s(%s): %s\n", what, path, strerror(errno));
  exit(1);
}

static int opendir_at(int dfd, const char *p) {
  int fd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) die("openat", p);
  return fd;
}

static void write_all(int fd, const char *buf, size_t n, const char *what) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0) die("write", what);
    buf += w;
    n -= (size_t)w;
  }
}

/*
 * The set's parent dirs, each made once: plans come sorted, so the dirs made for the previous step
 * are remembered and only the components past the part it shares with this one are made.
 */
static char made[PATH_MAX];
static void parents(int set, const char *p) {
  const char *slash = strrchr(p, '/');
  if (!slash) return;
  size_t len = (size_t)(slash - p);
  char buf[PATH_MAX];
  memcpy(buf, p, len);
  buf[len] = 0;
  size_t common = 0;
  for (size_t i = 0;; i++) {
    char b = buf[i], m = made[i];
    if ((b == '/' || b == 0) && (m == '/' || m == 0)) common = i;
    if (b != m || b == 0) break;
  }
  for (size_t i = common + 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    char c = buf[i];
    buf[i] = 0;
    if (mkdirat(set, buf, 0755) < 0 && errno != EEXIST) die("mkdirat", buf);
    buf[i] = c;
  }
  strcpy(made, buf);
}

static void sidecar(int base, int upper, const char *to, const char *from) {
  struct stat st;
  if (fstatat(base, from, &st, AT_SYMLINK_NOFOLLOW) < 0) die("fstatat", from);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(base, from, target, sizeof target - 1);
    if (n < 0) die("readlinkat", from);
    target[n] = 0;
    if (symlinkat(target, upper, to) < 0) die("symlinkat", to);
    if (fchownat(upper, to, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) die("fchownat", to);
    return;
  }
  int in = openat(base, from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) die("openat", from);
  int out = openat(upper, to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) die("openat", to);
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
    if (n < 0) die("copy_file_range", to);
    if (n == 0) break;
    left -= n;
  }
  if (fchown(out, st.st_uid, st.st_gid) < 0) die("fchown", to);
  if (fchmod(out, st.st_mode & 07777) < 0) die("fchmod", to);
  close(in);
  close(out);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: crash-safe-floor PLAN BASE UPPER BACKUPSET JOURNAL\n");
    return 2;
  }
  const char *journal = argv[5];
  FILE *pf = fopen(argv[1], "rb");
  if (!pf) die("fopen", argv[1]);
  char *plan = NULL;
  size_t size = 0, cap = 0;
  for (;;) {
    if (size == cap) plan = realloc(plan, cap = cap ? cap * 2 : 1 << 16);
    size_t n = fread(plan + size, 1, cap - size, pf);
    if (n == 0) break;
    size += n;
  }
  fclose(pf);

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int base = opendir_at(AT_FDCWD, argv[2]);
  int upper = opendir_at(AT_FDCWD, argv[3]);
  /* The journal: the whole plan, durable (file and directory) before the first step. */
  char jdir[PATH_MAX];
  snprintf(jdir, sizeof jdir, "%s", journal);
  char *js = strrchr(jdir, '/');
  if (js) *js = 0;
  int jd = opendir_at(AT_FDCWD, js ? jdir : ".");
  int j = openat(jd, js ? js + 1 : journal, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (j < 0) die("openat", journal);
  write_all(j, plan, size, journal);
  if (fsync(j) < 0) die("fsync", journal);
  if (fsync(jd) < 0) die("fsync", jdir);

  if (mkdir(argv[4], 0700) < 0 && errno != EEXIST) die("mkdir", argv[4]);
  int setroot = opendir_at(AT_FDCWD, argv[4]);
  if (mkdirat(setroot, "upper", 0700) < 0 && errno != EEXIST) die("mkdirat", "upper");
  int set = opendir_at(setroot, "upper");

  long actions = 0;
  for (char *p = plan; p < plan + size;) {
    char kind = *p;
    p += strlen(p) + 1;
    char *path = p;
    p += strlen(p) + 1;
    switch (kind) {
    case 'M':
      parents(set, path);
      if (renameat(upper, path, set, path) < 0) die("renameat", path);
      break;
    case 'R': {
      char *to = p;
      p += strlen(p) + 1;
      if (renameat(upper, path, upper, to) < 0) die("renameat", path);
      break;
    }
    case 'S': {
      char *from = p;
      p += strlen(p) + 1;
      sidecar(base, upper, path, from);
      break;
    }
    case 'A': {
      mode_t mode = (mode_t)strtol(p, NULL, 8);
      p += strlen(p) + 1;
      uid_t uid = (uid_t)strtol(p, NULL, 10);
      p += strlen(p) + 1;
      gid_t gid = (gid_t)strtol(p, NULL, 10);
      p += strlen(p) + 1;
      if (fchownat(upper, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) die("fchownat", path);
      if (fchmodat(upper, path, mode, 0) < 0) die("fchmodat", path);
      break;
    }
    case 'D':
      if (unlinkat(upper, path, AT_REMOVEDIR) < 0) die("unlinkat", path);
      break;
    default:
      errno = EINVAL;
      die("plan record", path);
    }
    actions++;
  }
  /* One checkpoint: everything the steps changed, then the journal's end record. */
  if (syncfs(upper) < 0) die("syncfs", argv[3]);
  write_all(j, "done\n", 5, journal);
  if (fsync(j) < 0) die("fsync", journal);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  close(j);
  printf("{\"ms\":%.3f,\"actions\":%ld}\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, actions);
  return 0;
}
