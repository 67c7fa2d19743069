/*
 * ostree's state-overlay prune, re-implemented in plain C with the same syscalls, as the bench's
 * peer for a reconcile. Source: ostreedev/ostree, src/ostree/ot-admin-builtin-state-overlay.c at
 * 462046551181b14c91668eb5378a70ba18607ddd (prune_upperdir, prune_upperdir_recurse, is_opaque_dir,
 * lgetxattrat_allow_nodata), and the libglnx helpers it calls, GNOME/libglnx at
 * c88d9f225141d507058c497342f23fb1b17cd10b (glnx_opendirat, glnx_dirfd_iterator_init_at /
 * _next_dent_ensure_dtype in glnx-dirfd.c, glnx_shutil_rm_rf_at / _rm_rf_children in glnx-shutil.c).
 *
 * Per upper entry: fstatat(lower, name, AT_SYMLINK_NOFOLLOW); absent in the base: state, kept, not
 * descended; both directories: lgetxattr of trusted.overlay.opaque through /proc/self/fd, recurse
 * unless it is "y"; anything else: unlinkat, or the recursive removal for a directory. No manifest,
 * no hashing, no fsync, no journal, no backups.
 *
 * usage: ostree-prune LOWER UPPER [LIST]
 * Prints {"ms":…,"deleted":…} (time from opening the dirs to the end of the prune). With LIST, the
 * path (relative to UPPER) of every entry the prune deleted at its own level (a removed directory
 * once, not its contents) is written there, each ended by a NUL byte.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static FILE *list;
static long deleted;
static char rel[PATH_MAX];

static void die(const char *what, const char *name) {
  fprintf(stderr, "ostree-prune: %s(%s%s%s): %s\n", what, rel, rel[0] ? "/" : "", name, strerror(errno));
  exit(1);
}

/* glnx_opendirat (follow = FALSE) */
static int opendirat(int dfd, const char *name) {
  int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) die("openat", name);
  return fd;
}

/* glnx_dirfd_iterator_init_at / _init_take_fd: open, then fdopendir */
static DIR *iter_at(int dfd, const char *name) {
  int fd = opendirat(dfd, name);
  DIR *d = fdopendir(fd);
  if (!d) die("fdopendir", name);
  return d;
}

/* glnx_dirfd_iterator_next_dent_ensure_dtype: skips . and .., fstatat when d_type is unknown */
static struct dirent *next_dent(DIR *d) {
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno) die("readdir", "");
      return NULL;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) die("fstatat", e->d_name);
      e->d_type = IFTODT(st.st_mode);
    }
    return e;
  }
}

/* glnx_shutil_rm_rf_children */
static void rm_rf_children(DIR *d) {
  struct dirent *e;
  while ((e = next_dent(d))) {
    if (e->d_type == DT_DIR) {
      DIR *c = iter_at(dirfd(d), e->d_name);
      rm_rf_children(c);
      closedir(c);
      if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0) die("unlinkat", e->d_name);
    } else if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
      die("unlinkat", e->d_name);
  }
}

/* glnx_shutil_rm_rf_at */
static void rm_rf_at(int dfd, const char *name) {
  int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return;
    if (errno != ENOTDIR && errno != ELOOP) die("open", name);
    if (unlinkat(dfd, name, 0) < 0) die("unlinkat", name);
    return;
  }
  DIR *d = fdopendir(fd);
  if (!d) die("fdopendir", name);
  rm_rf_children(d);
  closedir(d);
  if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) die("unlinkat", name);
}

/* is_opaque_dir with lgetxattrat_allow_nodata: size query, then the read, by /proc/self/fd path */
static int is_opaque_dir(int dfd, const char *name) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dfd, name);
  if (n < 0 || n >= (int)sizeof path) die("snprintf", name);
  for (;;) {
    ssize_t size = lgetxattr(path, "trusted.overlay.opaque", NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) return 0;
      die("lgetxattr", name);
    }
    if (size == 0) return 0;
    char *buf = malloc(size);
    ssize_t got = lgetxattr(path, "trusted.overlay.opaque", buf, size);
    if (got < 0) {
      free(buf);
      if (errno == ERANGE) continue;
      if (errno == ENODATA) return 0;
      die("lgetxattr", name);
    }
    int y = got == 1 && buf[0] == 'y';
    free(buf);
    return y;
  }
}

static void noted(const char *name) {
  deleted++;
  if (!list) return;
  if (rel[0]) fprintf(list, "%s/", rel);
  fputs(name, list);
  fputc(0, list);
}

static void prune_upperdir_recurse(int lower_dfd, int upper_dfd) {
  DIR *it = iter_at(upper_dfd, ".");
  struct dirent *e;
  while ((e = next_dent(it))) {
    struct stat st;
    if (fstatat(lower_dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) continue; /* state file (upperdir only) */
      die("fstatat", e->d_name);
    }
    if (e->d_type == DT_DIR && S_ISDIR(st.st_mode)) {
      if (!is_opaque_dir(upper_dfd, e->d_name)) {
        int lower_sub = opendirat(lower_dfd, e->d_name);
        int upper_sub = opendirat(upper_dfd, e->d_name);
        size_t len = strlen(rel);
        snprintf(rel + len, sizeof rel - len, "%s%s", len ? "/" : "", e->d_name);
        prune_upperdir_recurse(lower_sub, upper_sub);
        rel[len] = 0;
        close(lower_sub);
        close(upper_sub);
        continue;
      }
      /* fallthrough: opaque directories are deleted */
    }
    noted(e->d_name);
    if (e->d_type == DT_DIR)
      rm_rf_at(upper_dfd, e->d_name);
    else if (unlinkat(upper_dfd, e->d_name, 0) < 0)
      die("unlinkat", e->d_name);
  }
  closedir(it);
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: ostree-prune LOWER UPPER [LIST]\n");
    return 2;
  }
  if (argc == 4 && !(list = fopen(argv[3], "w"))) die("fopen", argv[3]);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int lower = opendirat(AT_FDCWD, argv[1]);
  int upper = opendirat(AT_FDCWD, argv[2]);
  prune_upperdir_recurse(lower, upper);
  close(lower);
  close(upper);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (list && fclose(list) != 0) die("fclose", argv[3]);
  printf("{\"ms\":%.3f,\"deleted\":%ld}\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, deleted);
  return 0;
}
