// System calls Node has no binding for, on file descriptors Node opened. One C function per export,
// listed in Init; a failure is thrown the way Node's fs throws it (code, errno, syscall).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>
#include <openssl/evp.h>

// A napi_* call that makes or sets a value fails only when out of memory or with an exception already
// pending: returning NULL hands whatever is pending to the caller.
#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

// Throws an Error like Node's fs errors: message "CODE: description, syscall", code "CODE", errno
// negative as libuv reports it. strerrorname_np (glibc >= 2.32) names errno values as libuv does.
static napi_value errno_error(napi_env env, int err, const char *syscall) {
  char fallback[16];
  const char *name = strerrorname_np(err);
  if (name == NULL) {
    snprintf(fallback, sizeof fallback, "E%d", err);
    name = fallback;
  }
  char text[256];
  snprintf(text, sizeof text, "%s: %s, %s", name, strerror(err), syscall);
  napi_value code, message, error, errno_value, syscall_value;
  CHECK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code));
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message));
  // napi_create_error sets error.code itself when given a code.
  CHECK(napi_create_error(env, code, message, &error));
  CHECK(napi_create_int32(env, -err, &errno_value));
  CHECK(napi_set_named_property(env, error, "errno", errno_value));
  CHECK(napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value));
  CHECK(napi_set_named_property(env, error, "syscall", syscall_value));
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_value error = errno_error(env, err, syscall);
  if (error != NULL) napi_throw(env, error);
  return NULL;
}

// Reads exactly `want` arguments; throws a TypeError (and returns 0) on any other count.
static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc == want) return 1;
  napi_throw_type_error(env, "ERR_INVALID_ARG_COUNT", "wrong number of arguments");
  return 0;
}

// A file descriptor argument: an int32 (napi rejects non-numbers with a pending exception).
static int get_fd(napi_env env, napi_value value, int *fd) {
  if (napi_get_value_int32(env, value, fd) == napi_ok) return 1;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fd: expected an integer");
  return 0;
}

// One entry name: a Buffer of 1 to 255 raw bytes, neither NUL nor '/' among them, copied NUL-ended into
// z. Anything else throws a TypeError with the call's usage (and returns 0).
static int get_name(napi_env env, napi_value value, char z[256], const char *usage) {
  char *name;
  size_t len;
  if (napi_get_buffer_info(env, value, (void **)&name, &len) != napi_ok
      || len == 0 || len >= 256 || memchr(name, '\0', len) != NULL || memchr(name, '/', len) != NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", usage);
    return 0;
  }
  memcpy(z, name, len);
  z[len] = '\0';
  return 1;
}

// flock(fd, op), op "exclusive" | "shared" | "unlock", always with LOCK_NB: the caller waits with its
// own deadline and backoff, so the event loop never stalls on a held lock. Returns true when done,
// false when another open file description holds the lock (EWOULDBLOCK); throws on anything else.
static napi_value Flock(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  char name[16];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok) name[0] = '\0';
  int op = strcmp(name, "exclusive") == 0 ? LOCK_EX : strcmp(name, "shared") == 0 ? LOCK_SH : strcmp(name, "unlock") == 0 ? LOCK_UN : -1;
  if (op == -1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "op: expected exclusive, shared or unlock");
    return NULL;
  }
  int rc;
  // EINTR: a signal arrived during the call; it did nothing, so asking again is safe.
  do rc = flock(fd, op | LOCK_NB); while (rc == -1 && errno == EINTR);
  if (rc == -1 && errno != EWOULDBLOCK) return throw_errno(env, errno, "flock");
  napi_value result;
  CHECK(napi_get_boolean(env, rc == 0, &result));
  return result;
}

// journalOpen(path) -> fd: an AF_UNIX datagram socket connected to path (journald's native socket),
// close-on-exec so no child inherits it. Node's net module makes stream sockets only, and the journal's
// fields exist only in its datagram protocol.
static napi_value JournalOpen(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t len;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], sa.sun_path, sizeof sa.sun_path, &len) != napi_ok || len == 0 || len >= sizeof sa.sun_path - 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "path: expected a socket path shorter than sun_path");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect");
  }
  napi_value out;
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

// An entry too large for one datagram goes as a sealed memfd passed with SCM_RIGHTS, as sd_journal_sendv
// does: journald takes only a sealed one, so the entry cannot change after it is sent. -1 and errno on failure.
static int send_memfd(int fd, const void *data, size_t size) {
  int mfd = memfd_create("journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return -1;
  const char *p = data;
  for (size_t left = size; left > 0;) {
    ssize_t n = write(mfd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) goto fail;
    p += n;
    left -= (size_t)n;
  }
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) goto fail;
  char buf[CMSG_SPACE(sizeof(int))];
  memset(buf, 0, sizeof buf);
  struct msghdr mh = {.msg_control = buf, .msg_controllen = sizeof buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &mfd, sizeof(int));
  if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) goto fail;
  close(mfd);
  return 0;
fail:;
  int err = errno;
  close(mfd);
  errno = err;
  return -1;
}

// journalSend(fd, buffer): one journal entry, already encoded (src/log/journal-entry.ts), as one
// datagram, or through a memfd when the socket says it is too large (EMSGSIZE, ENOBUFS).
static napi_value JournalSend(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  void *data;
  size_t size;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "entry: expected a Buffer");
    return NULL;
  }
  ssize_t n;
  do n = send(fd, data, size, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EMSGSIZE || errno == ENOBUFS)) {
    if (send_memfd(fd, data, size) < 0) return throw_errno(env, errno, "sendmsg");
  } else if (n < 0) {
    return throw_errno(env, errno, "send");
  }
  return NULL;
}

// syncfs(fd): writes back every dirty inode and data block of the filesystem fd is on and waits for it
// (one call per checkpoint instead of an fsync per touched directory). Linux >= 5.8 reports a writeback
// error of that filesystem seen since fd was opened, so the caller learns that the data did not land.
static napi_value Syncfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (syncfs(fd) < 0) return throw_errno(env, errno, "syncfs");
  return NULL;
}

// A growing byte arena for the names of one directory, and the offset of each name in it.
struct names {
  char *bytes;
  size_t used, cap;
  size_t *at;
  size_t count, slots;
};

// Appends len bytes to the arena (the offsets untouched); -1 when out of memory.
static int bytes_add(struct names *n, const char *data, size_t len) {
  if (n->used + len > n->cap) {
    size_t cap = n->cap ? n->cap * 2 : 4096;
    while (cap < n->used + len) cap *= 2;
    char *bytes = realloc(n->bytes, cap);
    if (bytes == NULL) return -1;
    n->bytes = bytes;
    n->cap = cap;
  }
  memcpy(n->bytes + n->used, data, len);
  n->used += len;
  return 0;
}

// Appends a NUL-ended name to the arena and its offset to the list.
static int names_add(struct names *n, const char *name) {
  size_t len = strlen(name) + 1;
  if (n->count == n->slots) {
    size_t slots = n->slots ? n->slots * 2 : 256;
    size_t *at = realloc(n->at, slots * sizeof *at);
    if (at == NULL) return -1;
    n->at = at;
    n->slots = slots;
  }
  n->at[n->count++] = n->used;
  return bytes_add(n, name, len);
}

// Two offsets into the arena, compared by their names (qsort_r). strcmp compares unsigned bytes and a
// name that is a prefix of another comes first: Buffer.compare's raw byte order, the order of the walk.
static int by_bytes(const void *a, const void *b, void *arena) {
  return strcmp((const char *)arena + *(const size_t *)a, (const char *)arena + *(const size_t *)b);
}

// The names in the directory fd ("." and ".." left out) into n, sorted by by_bytes: 0, or the errno.
static int read_names(int fd, struct names *n) {
  static _Thread_local char buf[32768] __attribute__((aligned(8)));
  for (;;) {
    ssize_t got = getdents64(fd, buf, sizeof buf);
    // EINTR: a signal arrived before anything was read; asking again is safe.
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno;
    if (got == 0) break;
    for (ssize_t at = 0; at < got;) {
      struct dirent64 *e = (struct dirent64 *)(buf + at);
      at += e->d_reclen;
      if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
      if (names_add(n, e->d_name) < 0) return ENOMEM;
    }
  }
  qsort_r(n->at, n->count, sizeof *n->at, by_bytes, n->bytes);
  return 0;
}

// readDir(fd) -> Buffer: the names in the directory fd ("." and ".." left out), sorted in raw byte order,
// each ended by a NUL (a name never holds one). One call where readdirSync makes a Buffer per name.
// lseek(fd, 0) first: the directory is read whole each time, and the caller's fd (kept for statAt's
// statx) is read itself, with getdents64(2) into a 32 KiB buffer, as readdir(3) does, without the dup,
// fstat and close that fdopendir and closedir would add per directory.
static napi_value ReadDir(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (lseek(fd, 0, SEEK_SET) < 0) return throw_errno(env, errno, "lseek");
  struct names n = {0};
  int err = read_names(fd, &n);
  const char *failed = err == 0 ? NULL : "getdents64";
  napi_value out = NULL;
  if (failed == NULL) {
    char *dst;
    if (napi_create_buffer(env, n.used, (void **)&dst, &out) == napi_ok) {
      for (size_t i = 0; i < n.count; i++) {
        size_t len = strlen(n.bytes + n.at[i]) + 1;
        memcpy(dst, n.bytes + n.at[i], len);
        dst += len;
      }
    } else {
      out = NULL;
    }
  }
  free(n.bytes);
  free(n.at);
  if (failed != NULL) return throw_errno(env, err, failed);
  return out;
}

// The xattr names of the entry NAME (one component) in the directory fd, never following a symlink there:
// listxattrat(2) (Linux 6.13, no wrapper in glibc 2.36: its number, the same in x86_64's table and the
// generic one), one lookup of NAME in fd, which measured 1.8 us against 4.5 us for llistxattr(2) of the
// /proc/self/fd/FD/NAME path (procfs resolves the fd first). A kernel without it (ENOSYS), or a seccomp
// filter that does not allow it (EPERM: the unit's SystemCallFilter= answers SystemCallErrorNumber=EPERM
// for any call its systemd's sets do not list, and a container runtime's profile may too), is told once:
// that call and every later one go to that path. listxattr(2) itself never fails with EPERM. Either way
// the same list, or -1 with errno set and *call (unless NULL) the syscall that failed.
#if !defined(SYS_listxattrat) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_listxattrat 465
#endif
static _Atomic bool no_listxattrat;
static ssize_t list_xattrs_at(int fd, const char *name, char *list, size_t size, const char **call) {
  ssize_t n;
#ifdef SYS_listxattrat
  if (!no_listxattrat) {
    if (call != NULL) *call = "listxattrat";
    do n = syscall(SYS_listxattrat, fd, name, AT_SYMLINK_NOFOLLOW, list, size); while (n < 0 && errno == EINTR);
    if (n >= 0 || (errno != ENOSYS && errno != EPERM)) return n;
    no_listxattrat = true;
  }
#endif
  if (call != NULL) *call = "llistxattr";
  char proc[64 + 256];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", fd, name);
  do n = llistxattr(proc, list, size); while (n < 0 && errno == EINTR);
  return n;
}

// The slots of one entry in statAt's records; src/tree/stats.ts reads them by the same numbers.
enum {
  R_ERRNO, R_DEV, R_MODE, R_NLINK, R_UID, R_GID, R_RDEV, R_BLKSIZE, R_INO, R_SIZE, R_BLOCKS,
  R_ATIME, R_ATIME_NS, R_MTIME, R_MTIME_NS, R_CTIME, R_CTIME_NS, R_BTIME, R_BTIME_NS,
  R_XATTR_ERRNO, R_XATTR_AT, R_XATTR_LEN, SLOTS
};

// Whether a slot holds a signed number: the times (tv_sec is negative before 1970), the errno and the
// xattr slots; the others are unsigned (statx's u64 and u32 fields).
static bool slot_signed(int k) {
  return k == R_ERRNO || (k >= R_ATIME && k <= R_BTIME_NS) || k >= R_XATTR_ERRNO;
}

// statAt(fd, names, offset, count, bigint, xattrs) -> ArrayBuffer, or with xattrs
// [ArrayBuffer, Buffer]: for `count` NUL-ended names of `names` from byte `offset` (readDir's Buffer),
// the lstat of each entry in the directory fd, as SLOTS int64 (bigint) or float64 numbers per entry.
// statx(2) with AT_SYMLINK_NOFOLLOW on (fd, name) is one single-name lookup, never a symlink followed,
// and asks what libuv's lstat asks (the basic fields and the birth time, AT_STATX_SYNC_AS_STAT): the
// same values fs.lstatSync gives. An entry that fails (gone since readDir: ENOENT) has its errno in slot
// R_ERRNO and the rest of the walk goes on.
// With xattrs, each entry's xattr names, list_xattrs_at(): the entry itself (listxattrat(2) with
// AT_SYMLINK_NOFOLLOW, or llistxattr(2) of /proc/self/fd/FD/NAME), no open of it.
// They go into the Buffer returned with the records, as the kernel lists them (each ended by a NUL),
// at R_XATTR_AT for R_XATTR_LEN bytes; a failure leaves its errno in R_XATTR_ERRNO.
static napi_value StatAt(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int fd;
  char *names;
  size_t size;
  int64_t offset, count;
  bool bigint, xattrs;
  if (!get_args(env, info, 6, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (napi_get_buffer_info(env, argv[1], (void **)&names, &size) != napi_ok
      || napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &count) != napi_ok
      || napi_get_value_bool(env, argv[4], &bigint) != napi_ok || napi_get_value_bool(env, argv[5], &xattrs) != napi_ok
      || offset < 0 || count < 0 || (size_t)offset > size) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected (fd, names Buffer, offset, count, bigint, xattrs)");
    return NULL;
  }
  // The lists of the chunk; XATTR_LIST_MAX (64 KiB) bounds one entry's, so one listing each.
  static _Thread_local char list[65536];
  struct names lists = {0};
  void *data;
  napi_value out;
  CHECK(napi_create_arraybuffer(env, (size_t)count * SLOTS * 8, &data, &out));
  int64_t *ints = data;
  double *nums = data;
  const char *p = names + offset, *end = names + size;
  for (int64_t i = 0; i < count; i++) {
    // Every name ends with a NUL inside the buffer, or the arguments were not readDir's.
    const char *nul = memchr(p, '\0', (size_t)(end - p));
    if (nul == NULL) {
      free(lists.bytes);
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "names: fewer NUL-ended names than count");
      return NULL;
    }
    int64_t v[SLOTS] = {0};
    struct statx sx;
    int rc;
    // EINTR: a signal arrived during the call (NFS, FUSE); it did nothing, so asking again is safe.
    do rc = statx(fd, p, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS | STATX_BTIME, &sx);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
      v[R_ERRNO] = errno;
    } else {
      v[R_DEV] = (int64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
      v[R_MODE] = sx.stx_mode;
      v[R_NLINK] = sx.stx_nlink;
      v[R_UID] = sx.stx_uid;
      v[R_GID] = sx.stx_gid;
      v[R_RDEV] = (int64_t)makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
      v[R_BLKSIZE] = sx.stx_blksize;
      v[R_INO] = (int64_t)sx.stx_ino;
      v[R_SIZE] = (int64_t)sx.stx_size;
      v[R_BLOCKS] = (int64_t)sx.stx_blocks;
      v[R_ATIME] = sx.stx_atime.tv_sec;
      v[R_ATIME_NS] = sx.stx_atime.tv_nsec;
      v[R_MTIME] = sx.stx_mtime.tv_sec;
      v[R_MTIME_NS] = sx.stx_mtime.tv_nsec;
      v[R_CTIME] = sx.stx_ctime.tv_sec;
      v[R_CTIME_NS] = sx.stx_ctime.tv_nsec;
      v[R_BTIME] = sx.stx_btime.tv_sec;
      v[R_BTIME_NS] = sx.stx_btime.tv_nsec;
      if (xattrs) {
        ssize_t len = list_xattrs_at(fd, p, list, sizeof list, NULL);
        if (len < 0) {
          v[R_XATTR_ERRNO] = errno;
        } else if (len > 0) {
          v[R_XATTR_AT] = (int64_t)lists.used;
          v[R_XATTR_LEN] = len;
          if (bytes_add(&lists, list, (size_t)len) < 0) {
            free(lists.bytes);
            return throw_errno(env, ENOMEM, "llistxattr");
          }
        }
      }
    }
    // The 64-bit slots as written; src/tree/stats.ts reads the times (seconds before 1970 are negative)
    // through a signed view and the rest (an inode number or device can use all 64 bits) through an
    // unsigned one. As doubles, each slot is converted with the same signedness.
    for (int k = 0; k < SLOTS; k++) {
      if (bigint) ints[i * SLOTS + k] = v[k];
      else nums[i * SLOTS + k] = slot_signed(k) ? (double)v[k] : (double)(uint64_t)v[k];
    }
    p = nul + 1;
  }
  if (!xattrs) return out;
  napi_value both, buffer;
  void *copy;
  napi_status st = napi_create_buffer_copy(env, lists.used, lists.used ? lists.bytes : "", &copy, &buffer);
  free(lists.bytes);
  if (st != napi_ok) return NULL;
  CHECK(napi_create_array_with_length(env, 2, &both));
  CHECK(napi_set_element(env, both, 0, out));
  CHECK(napi_set_element(env, both, 1, buffer));
  return both;
}

// openAt(fd, name, flags) -> fd: openat(2) of one name (a Buffer, raw bytes) in the directory fd,
// O_CLOEXEC added as Node adds it. One single-name lookup where a /proc/self/fd/N/NAME path walks procfs.
static napi_value OpenAt(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd, flags;
  char z[256];
  const char *usage = "expected (fd, one name as a Buffer, flags)";
  if (!get_args(env, info, 3, argv) || !get_fd(env, argv[0], &fd) || !get_name(env, argv[1], z, usage)) return NULL;
  if (napi_get_value_int32(env, argv[2], &flags) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", usage);
    return NULL;
  }
  int out;
  do out = openat(fd, z, flags | O_CLOEXEC); while (out < 0 && errno == EINTR);
  if (out < 0) return throw_errno(env, errno, "openat");
  napi_value result;
  CHECK(napi_create_int32(env, out, &result));
  return result;
}

// listXattrAt(fd, name) -> string: the xattr names of the entry NAME (a Buffer, raw bytes) in the
// directory fd, list_xattrs_at(): the entry itself, never a symlink's target, and no open of it. The
// names as the kernel lists them, each ended by a NUL, as a latin1 string ('' when none, or on a
// filesystem without xattrs: ENOTSUP, which is EOPNOTSUPP on Linux). Other failures (ENOENT: gone)
// throw as flock's, naming the call that failed (listxattrat, or llistxattr where the kernel lacks it).
static napi_value ListXattrAt(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  char z[256];
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) || !get_name(env, argv[1], z, "expected (fd, one name as a Buffer)")) return NULL;
  // XATTR_LIST_MAX (64 KiB) bounds one entry's list.
  static _Thread_local char list[65536];
  const char *call;
  ssize_t n = list_xattrs_at(fd, z, list, sizeof list, &call);
  if (n < 0 && errno != ENOTSUP) return throw_errno(env, errno, call);
  napi_value out;
  CHECK(napi_create_string_latin1(env, list, n < 0 ? 0 : (size_t)n, &out));
  return out;
}

// One walker serves two calls (src/tree/walk.ts's walk in C: pre-order, names in raw byte order, nothing
// followed below root, each directory entered by openat(2) of its name with O_NOFOLLOW and required to be
// the inode statx listed, else ESTALE):
// - treeRecords(root, watch, skip, sink) -> entries: the records of the `tree:` generation
//   (src/observe/generation.ts), each `PATH\0TYPE MODE UID:GID SIZE MTIME_NS CTIME_NS INO\n`, handed to
//   sink(Buffer) in chunks of about 256 KiB. No JavaScript per entry.
// - indexWalk(root, watch, previous, maxOpen) -> handle, then indexNext(handle, skip) once per chunk and
//   indexEnd(handle): a manifest's binary records (src/manifest/format.ts), the digests left for
//   JavaScript to fill in where they cannot be taken from `previous` (src/manifest/build.ts).
// In both, skip(path) (a binary string) is asked for the entries whose directory is one of watch's paths
// (a Buffer of NUL-ended relative paths, '' for root), or for every entry when watch is null; true leaves
// the entry out, its subtree too. Any failure (root: its open or read; an entry: its statx, its open, its
// read) throws an Error as throw_errno makes one, with `relPath`: the entry's path ('' for root).
struct frame {
  int fd;
  struct names n;
  size_t next;
  // The length of this directory's path in the path buffer.
  size_t plen;
};

enum { FORMAT_TREE, FORMAT_MANIFEST };

struct tree_walk {
  napi_env env;
  napi_value skip, sink;
  int format;
  char *watch;
  size_t watch_len;
  bool watch_all;
  char *path;
  size_t path_cap;
  char *out;
  size_t out_used, out_cap;
  struct frame *stack;
  size_t depth, stack_cap;
  // FORMAT_MANIFEST: the previous manifest's entry records, read forward from prev_fd's bytes
  // [prev_from, prev_to) into the window prev (prev_len bytes, the walk at prev_at); the chunk's holes
  // (u32 triples: record offset, extra offset, extra length), the bytes whose sha256 JavaScript makes a
  // digest of (extra), and the files the chunk opened.
  int prev_fd;
  uint64_t prev_from, prev_to;
  unsigned char *prev;
  size_t prev_len, prev_at, prev_cap;
  char *holes;
  size_t holes_used, holes_cap;
  char *extra;
  size_t extra_used, extra_cap;
  // The offset of each of the chunk's records (uint32_t, host order), and its digests taken from prev.
  char *offsets;
  size_t offsets_used, offsets_cap;
  double reused;
  size_t opened, max_open;
  bool failed;
};

// A chunk is handed over at about this many bytes of records.
#define CHUNK_BYTES (256 << 10)

static int grow(char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t cap2 = *cap ? *cap : 4096;
  while (cap2 < need) cap2 *= 2;
  char *b = realloc(*buf, cap2);
  if (b == NULL) return -1;
  *buf = b;
  *cap = cap2;
  return 0;
}

// Decimal digits of v (as many as it has) at dst; returns the count.
static size_t put_u128(char *dst, unsigned __int128 v) {
  char tmp[40];
  size_t k = 0;
  do {
    tmp[k++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < k; i++) dst[i] = tmp[k - 1 - i];
  return k;
}

// sec * 1e9 + nsec in decimal, as src/tree/stats.ts's bigint mtimeNs gives it (negative before 1970).
static size_t put_ns(char *dst, int64_t sec, uint32_t nsec) {
  __int128 v = (__int128)sec * 1000000000 + nsec;
  if (v >= 0) return put_u128(dst, (unsigned __int128)v);
  dst[0] = '-';
  return 1 + put_u128(dst + 1, (unsigned __int128)(-v));
}

// The entry types by the manifest's codes (format.ts's TYPES: code = index + 1).
static const char *const TYPE_NAMES[] = {"file", "dir", "symlink", "chr", "blk", "fifo", "socket"};

// The manifest's type code of a mode (0: none the manifest knows).
static int type_code(uint16_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return 1;
    case S_IFDIR: return 2;
    case S_IFLNK: return 3;
    case S_IFCHR: return 4;
    case S_IFBLK: return 5;
    case S_IFIFO: return 6;
    case S_IFSOCK: return 7;
    default: return 0;
  }
}

// Throws errno err of syscall at the entry path[0, len).
static void walk_throw(struct tree_walk *w, int err, const char *syscall, size_t len) {
  napi_value error = errno_error(w->env, err, syscall), at;
  if (error == NULL) return;
  if (napi_create_string_latin1(w->env, w->path, len, &at) != napi_ok || napi_set_named_property(w->env, error, "relPath", at) != napi_ok) return;
  napi_throw(w->env, error);
}

static int flush_out(struct tree_walk *w) {
  if (w->out_used == 0) return 0;
  napi_value chunk, global, result;
  void *copy;
  if (napi_create_buffer_copy(w->env, w->out_used, w->out, &copy, &chunk) != napi_ok || napi_get_global(w->env, &global) != napi_ok
      || napi_call_function(w->env, global, w->sink, 1, &chunk, &result) != napi_ok) return -1;
  w->out_used = 0;
  return 0;
}

// Whether the directory path[0, dlen) is one skip is asked about.
static bool watched(const struct tree_walk *w, size_t dlen) {
  if (w->watch_all) return true;
  for (const char *p = w->watch, *end = w->watch + w->watch_len; p < end;) {
    size_t len = strnlen(p, (size_t)(end - p));
    if (len == dlen && memcmp(p, w->path, dlen) == 0) return true;
    p += len + 1;
  }
  return false;
}

// Opens and lists a directory as a new frame (fd already open): 0, or the errno (fd closed).
static int push_dir(struct tree_walk *w, int fd, size_t plen) {
  if (w->depth == w->stack_cap) {
    size_t cap = w->stack_cap ? w->stack_cap * 2 : 64;
    struct frame *st = realloc(w->stack, cap * sizeof *st);
    if (st == NULL) {
      close(fd);
      return ENOMEM;
    }
    w->stack = st;
    w->stack_cap = cap;
  }
  struct frame *f = &w->stack[w->depth];
  *f = (struct frame){.fd = fd, .plen = plen};
  int err = read_names(fd, &f->n);
  if (err != 0) {
    free(f->n.bytes);
    free(f->n.at);
    close(fd);
    return err;
  }
  w->depth++;
  return 0;
}

static void pop_dir(struct tree_walk *w) {
  struct frame *f = &w->stack[--w->depth];
  close(f->fd);
  free(f->n.bytes);
  free(f->n.at);
}

// Opens root as the first frame: true, or false with the exception (relPath '') pending.
static bool walk_root(struct tree_walk *w, const char *root) {
  int fd;
  do fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    walk_throw(w, errno, "open", 0);
    return false;
  }
  int err = push_dir(w, fd, 0);
  if (err != 0) walk_throw(w, err, "getdents64", 0);
  return err == 0;
}

// The `tree:` record of the entry path[0, len): 0, or -1 when out of memory.
static int put_tree_record(struct tree_walk *w, const struct statx *sx, int code, size_t len) {
  // The path, NUL, then at most 7 + 6 numbers of 40 digits and their separators.
  if (grow(&w->out, &w->out_cap, w->out_used + len + 1 + 8 + 6 * 42) < 0) return -1;
  char *o = w->out + w->out_used;
  memcpy(o, w->path, len);
  o += len;
  *o++ = '\0';
  o += strlen(strcpy(o, TYPE_NAMES[code - 1]));
  *o++ = ' ';
  o += put_u128(o, sx->stx_mode);
  *o++ = ' ';
  o += put_u128(o, sx->stx_uid);
  *o++ = ':';
  o += put_u128(o, sx->stx_gid);
  *o++ = ' ';
  o += put_u128(o, sx->stx_size);
  *o++ = ' ';
  o += put_ns(o, sx->stx_mtime.tv_sec, sx->stx_mtime.tv_nsec);
  *o++ = ' ';
  o += put_ns(o, sx->stx_ctime.tv_sec, sx->stx_ctime.tv_nsec);
  *o++ = ' ';
  o += put_u128(o, sx->stx_ino);
  *o++ = '\n';
  w->out_used = (size_t)(o - w->out);
  return 0;
}

// The manifest record's layout (format.ts): u32 length of what follows | u8 type | u32 mode | u32 uid |
// u32 gid | u64 size | u64 ino | i64 mtime ns | i64 ctime ns | u8 digest length | digest | path.
enum { M_TYPE = 4, M_MODE = 5, M_UID = 9, M_GID = 13, M_SIZE = 17, M_INO = 25, M_MTIME = 33, M_CTIME = 41, M_DLEN = 49, M_DIGEST = 50 };

static void put_le(unsigned char *dst, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) dst[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *src, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= (uint64_t)src[i] << (8 * i);
  return v;
}

// comparePaths (src/model/order.ts): raw bytes, '/' lowest, a prefix first: the walk's order.
static int compare_paths(const unsigned char *a, size_t an, const unsigned char *b, size_t bn) {
  size_t n = an < bn ? an : bn;
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i]) return (a[i] == '/' ? -1 : a[i]) - (b[i] == '/' ? -1 : b[i]);
  }
  return an < bn ? -1 : an > bn;
}

// Makes the window of previous records hold at least `need` bytes from the cursor, reading on (pread(2)):
// false when the records end first, or cannot be read (then nothing more is reused: the digests are made).
static bool prev_hold(struct tree_walk *w, size_t need) {
  while (w->prev_len - w->prev_at < need) {
    if (w->prev_at > 0) {
      memmove(w->prev, w->prev + w->prev_at, w->prev_len - w->prev_at);
      w->prev_len -= w->prev_at;
      w->prev_at = 0;
    }
    if (w->prev_len + need > w->prev_cap) {
      size_t cap = w->prev_cap ? w->prev_cap : 1 << 20;
      while (cap < w->prev_len + need) cap *= 2;
      unsigned char *b = realloc(w->prev, cap);
      if (b == NULL) return false;
      w->prev = b;
      w->prev_cap = cap;
    }
    uint64_t left = w->prev_to - w->prev_from;
    size_t want = w->prev_cap - w->prev_len < left ? w->prev_cap - w->prev_len : (size_t)left;
    if (want == 0) return false;
    ssize_t n;
    do n = pread(w->prev_fd, w->prev + w->prev_len, want, (off_t)w->prev_from); while (n < 0 && errno == EINTR);
    if (n <= 0) {
      w->prev_to = w->prev_from;
      return false;
    }
    w->prev_len += (size_t)n;
    w->prev_from += (uint64_t)n;
  }
  return true;
}

// Copies the digest of the previous manifest's record of the same path into rec when that record is of
// the same inode: same type and size, inode, mtime and ctime, the inode and ctime known (a stamp is
// trustworthy only with both: ctime moves on every change and cannot be set back). True when done. The previous records come in the same order: the cursor only moves forward. A record that
// does not parse ends the reuse (the file's digest was checked: it is not expected).
static bool reuse_digest(struct tree_walk *w, unsigned char *rec, size_t len) {
  while (w->prev_fd >= 0 && prev_hold(w, 4)) {
    uint64_t plen = get_le(w->prev + w->prev_at, 4);
    if (plen < M_DIGEST + 1 - 4 || plen > 4 + 46 + 32 + 65536 || !prev_hold(w, plen + 4)) break;
    const unsigned char *p = w->prev + w->prev_at;
    unsigned dlen = p[M_DLEN];
    size_t at = M_DIGEST + dlen;
    if ((dlen != 0 && dlen != 32) || at >= plen + 4) break;
    int c = compare_paths(p + at, plen + 4 - at, (const unsigned char *)w->path, len);
    if (c < 0) {
      w->prev_at += plen + 4;
      continue;
    }
    if (c > 0 || dlen != 32 || p[M_TYPE] != rec[M_TYPE] || memcmp(p + M_SIZE, rec + M_SIZE, M_DLEN - M_SIZE) != 0
        || get_le(rec + M_INO, 8) == 0 || get_le(rec + M_CTIME, 8) == 0) return false;
    memcpy(rec + M_DIGEST, p + M_DIGEST, 32);
    return true;
  }
  w->prev_fd = -1;
  return false;
}

// A time as the manifest's i64 nanoseconds; false past what 64 bits hold (about the years 1678 to 2262).
static bool time_ns(struct statx_timestamp t, int64_t *ns) {
  __int128 v = (__int128)t.tv_sec * 1000000000 + t.tv_nsec;
  if (v < INT64_MIN || v > INT64_MAX) return false;
  *ns = (int64_t)v;
  return true;
}

// The manifest record of the entry `name` of the directory dirfd (path[0, len)), with a hole where its
// digest is JavaScript's to make: a file's fd (opened here) in the digest's first 4 bytes, or the bytes
// to hash in extra (a symlink's target, a device's "major:minor"). 0, or the errno with *syscall set.
static int put_manifest_record(struct tree_walk *w, int dirfd, const char *name, const struct statx *sx, int code, size_t len, const char **syscall) {
  bool digest = code == 1 || code == 3 || code == 4 || code == 5;
  size_t size = M_DIGEST + (digest ? 32 : 0) + len;
  *syscall = "statx";
  if (grow(&w->out, &w->out_cap, w->out_used + size) < 0) return ENOMEM;
  unsigned char *rec = (unsigned char *)w->out + w->out_used;
  int64_t mtime, ctime;
  bool stamped = time_ns(sx->stx_mtime, &mtime) && time_ns(sx->stx_ctime, &ctime);
  put_le(rec, size - 4, 4);
  rec[M_TYPE] = (unsigned char)code;
  put_le(rec + M_MODE, sx->stx_mode & 07777, 4);
  put_le(rec + M_UID, sx->stx_uid, 4);
  put_le(rec + M_GID, sx->stx_gid, 4);
  put_le(rec + M_SIZE, sx->stx_size, 8);
  // A time the manifest cannot hold leaves the stamp unknown (0): the digest is then never reused.
  put_le(rec + M_INO, stamped ? sx->stx_ino : 0, 8);
  put_le(rec + M_MTIME, stamped ? (uint64_t)mtime : 0, 8);
  put_le(rec + M_CTIME, stamped ? (uint64_t)ctime : 0, 8);
  rec[M_DLEN] = digest ? 32 : 0;
  memcpy(rec + M_DIGEST + (digest ? 32 : 0), w->path, len);
  if (grow(&w->offsets, &w->offsets_cap, w->offsets_used + sizeof(uint32_t)) < 0) return ENOMEM;
  uint32_t at = (uint32_t)w->out_used;
  memcpy(w->offsets + w->offsets_used, &at, sizeof at);
  w->offsets_used += sizeof at;
  bool reused = digest && (code == 1 || code == 3) && reuse_digest(w, rec, len);
  if (reused) w->reused++;
  if (digest && !reused) {
    memset(rec + M_DIGEST, 0, 32);
    size_t extra_at = w->extra_used;
    if (grow(&w->holes, &w->holes_cap, w->holes_used + 12) < 0) return ENOMEM;
    if (code == 1) {
      int fd;
      *syscall = "openat";
      do fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
      if (fd < 0) return errno;
      put_le(rec + M_DIGEST, (uint32_t)fd, 4);
      w->opened++;
    } else if (code == 3) {
      // The target as readlink(2) gives it: a buffer one byte longer than it proves it whole.
      *syscall = "readlinkat";
      for (size_t cap = sx->stx_size + 1;; cap *= 2) {
        if (grow(&w->extra, &w->extra_cap, extra_at + cap) < 0) return ENOMEM;
        ssize_t n = readlinkat(dirfd, name, w->extra + extra_at, cap);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if ((size_t)n < cap) {
          w->extra_used += (size_t)n;
          break;
        }
      }
    } else {
      if (grow(&w->extra, &w->extra_cap, extra_at + 24) < 0) return ENOMEM;
      w->extra_used += (size_t)snprintf(w->extra + extra_at, 24, "%u:%u", sx->stx_rdev_major, sx->stx_rdev_minor);
    }
    unsigned char *h = (unsigned char *)w->holes + w->holes_used;
    put_le(h, w->out_used, 4);
    put_le(h + 4, extra_at, 4);
    put_le(h + 8, w->extra_used - extra_at, 4);
    w->holes_used += 12;
  }
  w->out_used += size;
  return 0;
}

// Whether the chunk made so far is one to hand over.
static bool chunk_full(const struct tree_walk *w) {
  return w->out_used >= CHUNK_BYTES || (w->format == FORMAT_MANIFEST && w->opened >= w->max_open);
}

// Walks on until the chunk is full (1) or the tree is done (0); -1 with an exception pending.
static int walk_tree(struct tree_walk *w, double *entries) {
  while (w->depth > 0) {
    if (chunk_full(w)) return 1;
    struct frame *f = &w->stack[w->depth - 1];
    if (f->next == f->n.count) {
      pop_dir(w);
      continue;
    }
    const char *name = f->n.bytes + f->n.at[f->next++];
    size_t nlen = strlen(name);
    size_t len = f->plen + (f->plen ? 1 : 0) + nlen;
    if (grow(&w->path, &w->path_cap, len + 1) < 0) {
      walk_throw(w, ENOMEM, "statx", f->plen);
      return -1;
    }
    if (f->plen) w->path[f->plen] = '/';
    memcpy(w->path + f->plen + (f->plen ? 1 : 0), name, nlen);
    struct statx sx;
    int rc;
    do rc = statx(f->fd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &sx);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
      walk_throw(w, errno, "statx", len);
      return -1;
    }
    int code = type_code(sx.stx_mode);
    if (code == 0) {
      walk_throw(w, EINVAL, "statx", len);
      return -1;
    }
    if (watched(w, f->plen)) {
      napi_value p, global, result;
      bool skip;
      if (napi_create_string_latin1(w->env, w->path, len, &p) != napi_ok || napi_get_global(w->env, &global) != napi_ok
          || napi_call_function(w->env, global, w->skip, 1, &p, &result) != napi_ok || napi_get_value_bool(w->env, result, &skip) != napi_ok)
        return -1;
      if (skip) continue;
    }
    if (w->format == FORMAT_TREE) {
      if (put_tree_record(w, &sx, code, len) < 0) {
        walk_throw(w, ENOMEM, "statx", len);
        return -1;
      }
    } else {
      const char *syscall;
      int err = put_manifest_record(w, f->fd, name, &sx, code, len, &syscall);
      if (err != 0) {
        walk_throw(w, err, syscall, len);
        return -1;
      }
    }
    (*entries)++;
    if (!S_ISDIR(sx.stx_mode)) continue;
    int fd;
    do fd = openat(f->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      walk_throw(w, errno, "openat", len);
      return -1;
    }
    // The directory opened must be the one listed: else it was replaced since (ESTALE).
    struct stat st;
    int bad = fstat(fd, &st) < 0 ? errno : st.st_ino != sx.stx_ino || st.st_dev != makedev(sx.stx_dev_major, sx.stx_dev_minor) ? ESTALE : 0;
    if (bad != 0) {
      close(fd);
      walk_throw(w, bad, "fstat", len);
      return -1;
    }
    int err = push_dir(w, fd, len);
    if (err != 0) {
      walk_throw(w, err, "getdents64", len);
      return -1;
    }
  }
  return 0;
}

// A string argument as a malloc'd NUL-ended copy (NULL: not a string, or out of memory).
static char *string_arg(napi_env env, napi_value value) {
  size_t len;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s != NULL) napi_get_value_string_utf8(env, value, s, len + 1, &len);
  return s;
}

static napi_value TreeRecords(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  napi_valuetype kinds[4];
  for (int i = 0; i < 4; i++) CHECK(napi_typeof(env, argv[i], &kinds[i]));
  struct tree_walk w = {.env = env, .skip = argv[2], .sink = argv[3], .format = FORMAT_TREE, .watch_all = kinds[1] == napi_null};
  if (kinds[0] != napi_string || kinds[2] != napi_function || kinds[3] != napi_function
      || (!w.watch_all && napi_get_buffer_info(env, argv[1], (void **)&w.watch, &w.watch_len) != napi_ok)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected (root string, watch Buffer or null, skip function, sink function)");
    return NULL;
  }
  char *root = string_arg(env, argv[0]);
  if (root == NULL) return throw_errno(env, ENOMEM, "open");
  double entries = 0;
  bool ok = walk_root(&w, root);
  free(root);
  for (int step = 1; ok && step == 1;) {
    step = walk_tree(&w, &entries);
    ok = step >= 0 && flush_out(&w) == 0;
  }
  while (w.depth > 0) pop_dir(&w);
  free(w.stack);
  free(w.path);
  free(w.out);
  if (!ok) return NULL;
  napi_value result;
  CHECK(napi_create_double(env, entries, &result));
  return result;
}

// Closes the files the chunk being made opened (their fds in the holes' records) and empties it.
static void drop_chunk(struct tree_walk *w) {
  for (size_t h = 0; h < w->holes_used; h += 12) {
    const unsigned char *rec = (const unsigned char *)w->out + get_le((const unsigned char *)w->holes + h, 4);
    if (rec[M_TYPE] == 1) close((int)get_le(rec + M_DIGEST, 4));
  }
  w->out_used = w->holes_used = w->extra_used = w->offsets_used = w->opened = 0;
  w->reused = 0;
}

// Everything a handle holds: its directories, the chunk's files, its buffers, the previous manifest.
static void walk_free(struct tree_walk *w) {
  drop_chunk(w);
  while (w->depth > 0) pop_dir(w);
  free(w->stack);
  free(w->path);
  free(w->out);
  free(w->holes);
  free(w->extra);
  free(w->offsets);
  free(w->watch);
  free(w->prev);
  *w = (struct tree_walk){.prev_fd = -1, .failed = true};
}

static void walk_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  walk_free(data);
  free(data);
}

// indexWalk(root, watch, prevFd, prevFrom, prevTo, maxOpen) -> handle: opens root (errors as
// treeRecords's). prevFd: a checked manifest open for reading whose entry records are its bytes
// [prevFrom, prevTo) (from its first entry record to its table), or -1; it stays the caller's to close,
// after indexEnd. maxOpen: the most files a chunk opens.
static napi_value IndexWalk(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) return NULL;
  napi_valuetype kinds[2];
  for (int i = 0; i < 2; i++) CHECK(napi_typeof(env, argv[i], &kinds[i]));
  char *watch = NULL;
  size_t watch_len = 0;
  int32_t prev_fd;
  int64_t prev_from, prev_to;
  uint32_t max_open = 0;
  if (kinds[0] != napi_string || (kinds[1] != napi_null && napi_get_buffer_info(env, argv[1], (void **)&watch, &watch_len) != napi_ok)
      || napi_get_value_int32(env, argv[2], &prev_fd) != napi_ok || napi_get_value_int64(env, argv[3], &prev_from) != napi_ok
      || napi_get_value_int64(env, argv[4], &prev_to) != napi_ok || prev_from < 0 || prev_to < prev_from
      || napi_get_value_uint32(env, argv[5], &max_open) != napi_ok || max_open == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected (root string, watch Buffer or null, prevFd, prevFrom, prevTo, maxOpen > 0)");
    return NULL;
  }
  struct tree_walk *w = calloc(1, sizeof *w);
  char *root = string_arg(env, argv[0]);
  char *watch_copy = malloc(watch_len + 1);
  if (w == NULL || root == NULL || watch_copy == NULL) {
    free(watch_copy);
    free(w);
    free(root);
    return throw_errno(env, ENOMEM, "open");
  }
  if (watch_len > 0) memcpy(watch_copy, watch, watch_len);
  *w = (struct tree_walk){.env = env, .format = FORMAT_MANIFEST, .watch = watch_copy, .watch_len = watch_len, .watch_all = kinds[1] == napi_null,
                          .prev_fd = prev_fd < 0 ? -1 : prev_fd, .prev_from = (uint64_t)prev_from, .prev_to = (uint64_t)prev_to, .max_open = max_open};
  napi_value handle;
  bool ok = walk_root(w, root);
  free(root);
  if (ok && napi_create_external(env, w, walk_finalize, NULL, &handle) != napi_ok) ok = false;
  if (!ok) {
    walk_free(w);
    free(w);
    return NULL;
  }
  return handle;
}

static struct tree_walk *walk_handle(napi_env env, napi_value value) {
  void *w;
  if (napi_get_value_external(env, value, &w) == napi_ok) return w;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an indexWalk handle");
  return NULL;
}

// indexNext(handle, skip) -> [records, holes, extra, entries, offsets, reused] for the next chunk, or null
// once the tree is done. records: whole manifest records; holes: u32 triples (record offset, offset and
// length in extra), one per record whose digest is still zeros; offsets: each record's offset in records
// (u32, host order), for the table; reused: the digests taken from the previous manifest. A failure
// closes the chunk's files and ends the walk.
static napi_value IndexNext(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct tree_walk *w = walk_handle(env, argv[0]);
  if (w == NULL) return NULL;
  napi_valuetype kind;
  CHECK(napi_typeof(env, argv[1], &kind));
  if (kind != napi_function || w->failed) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", w->failed ? "the walk failed or ended" : "skip: expected a function");
    return NULL;
  }
  w->env = env;
  w->skip = argv[1];
  double entries = 0;
  int step = walk_tree(w, &entries);
  napi_value parts[6], result;
  void *copy;
  if (step < 0 || napi_create_buffer_copy(env, w->out_used, w->out, &copy, &parts[0]) != napi_ok
      || napi_create_buffer_copy(env, w->holes_used, w->holes, &copy, &parts[1]) != napi_ok
      || napi_create_buffer_copy(env, w->extra_used, w->extra, &copy, &parts[2]) != napi_ok
      || napi_create_double(env, entries, &parts[3]) != napi_ok
      || napi_create_buffer_copy(env, w->offsets_used, w->offsets, &copy, &parts[4]) != napi_ok
      || napi_create_double(env, w->reused, &parts[5]) != napi_ok || napi_create_array_with_length(env, 6, &result) != napi_ok) {
    drop_chunk(w);
    w->failed = true;
    return NULL;
  }
  // The files are the caller's from here.
  bool empty = w->out_used == 0;
  w->out_used = w->holes_used = w->extra_used = w->offsets_used = w->opened = 0;
  w->reused = 0;
  if (empty && step == 0) {
    napi_value none;
    CHECK(napi_get_null(env, &none));
    return none;
  }
  for (uint32_t i = 0; i < 6; i++) CHECK(napi_set_element(env, result, i, parts[i]));
  return result;
}

// indexEnd(handle): closes what the walk holds (its directories; the files of a chunk never handed over).
static napi_value IndexEnd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  struct tree_walk *w = walk_handle(env, argv[0]);
  if (w != NULL) walk_free(w);
  return NULL;
}

// hashFiles(fds) -> Promise<[answers, bytes, errors]>: hashes the regular files open at fds (an Int32Array)
// on libuv's thread pool, off the main thread, and closes every one of them. Per file, fstat(2) of the
// opened inode (it must still be a regular file), its content read from its offset to the end (read(2),
// 1 MiB at a time) into sha256 (EVP, from the OpenSSL Node itself is linked with and exports), and close.
// answers: HASH_ANSWER bytes per fd as src/manifest/pool.ts reads them: mode (permission bits), uid, gid
// (u32), size, ino (u64), mtime, ctime (i64 ns; the three of ino, mtime and ctime 0 when a time is past
// what 64 bits hold), then the 32 bytes of the digest, zeros for a file that failed. bytes: bytes hashed.
// errors: null, or an array with, for each failed fd, the errno's name ("ENOTREG": not a regular file).
#define HASH_ANSWER (44 + 32)

struct hash_job {
  napi_async_work work;
  napi_deferred deferred;
  int *fds;
  size_t count;
  unsigned char *answers;
  int *errs;
  double bytes;
};

// sha256 as OpenSSL's default provider implements it, fetched once: an implicit fetch (EVP_sha256()) at
// each init looks it up again under a lock.
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void sha256_fetch(void) {
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

// Each pool thread's read buffer, made on its first file and kept for the thread's life (libuv's threads
// live as long as the process).
#define HASH_BUFFER (1 << 20)
static _Thread_local unsigned char *hash_buffer;

// What a pool thread hashes with: sha256 fetched (once), the thread's read buffer, a new context to free
// (NULL: out of memory).
static EVP_MD_CTX *pool_thread_ctx(void) {
  pthread_once(&sha256_once, sha256_fetch);
  if (hash_buffer == NULL) hash_buffer = malloc(HASH_BUFFER);
  return hash_buffer == NULL || sha256_md == NULL ? NULL : EVP_MD_CTX_new();
}

// The answer for the file at fd, into answer: 0, or the errno (-1: not a regular file).
static int hash_one(EVP_MD_CTX *ctx, int fd, unsigned char *answer, double *bytes) {
  struct stat st;
  if (fstat(fd, &st) < 0) return errno;
  if (!S_ISREG(st.st_mode)) return -1;
  int err = EVP_DigestInit_ex2(ctx, sha256_md, NULL) == 1 ? 0 : ENOMEM;
  for (ssize_t n; err == 0;) {
    n = read(fd, hash_buffer, HASH_BUFFER);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    if (EVP_DigestUpdate(ctx, hash_buffer, (size_t)n) != 1) err = ENOMEM;
    *bytes += (double)n;
  }
  unsigned int dlen = 0;
  if (err == 0 && (EVP_DigestFinal_ex(ctx, answer + 44, &dlen) != 1 || dlen != 32)) err = ENOMEM;
  if (err != 0) return err;
  __int128 mtime = (__int128)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  __int128 ctime = (__int128)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
  bool stamped = mtime >= INT64_MIN && mtime <= INT64_MAX && ctime >= INT64_MIN && ctime <= INT64_MAX;
  put_le(answer, st.st_mode & 07777, 4);
  put_le(answer + 4, st.st_uid, 4);
  put_le(answer + 8, st.st_gid, 4);
  put_le(answer + 12, (uint64_t)st.st_size, 8);
  put_le(answer + 20, stamped ? st.st_ino : 0, 8);
  put_le(answer + 28, stamped ? (uint64_t)(int64_t)mtime : 0, 8);
  put_le(answer + 36, stamped ? (uint64_t)(int64_t)ctime : 0, 8);
  return 0;
}

// On a thread of the pool: no napi calls here.
static void hash_execute(napi_env env, void *data) {
  (void)env;
  struct hash_job *job = data;
  EVP_MD_CTX *ctx = pool_thread_ctx();
  for (size_t i = 0; i < job->count; i++) {
    unsigned char *answer = job->answers + i * HASH_ANSWER;
    job->errs[i] = ctx == NULL ? ENOMEM : hash_one(ctx, job->fds[i], answer, &job->bytes);
    if (job->errs[i] != 0) memset(answer, 0, HASH_ANSWER);
    // Read only: close(2) frees the fd whatever it reports, and the answer above stands.
    close(job->fds[i]);
  }
  EVP_MD_CTX_free(ctx);
}

static void hash_job_free(struct hash_job *job) {
  free(job->fds);
  free(job->answers);
  free(job->errs);
  free(job);
}

// On the main thread: settles the promise (a failure to make the answer rejects it).
static void hash_complete(napi_env env, napi_status status, void *data) {
  struct hash_job *job = data;
  // Never cancelled; were it, the files would still be this call's to close.
  if (status == napi_cancelled) for (size_t i = 0; i < job->count; i++) close(job->fds[i]);
  size_t failed = 0;
  for (size_t i = 0; i < job->count; i++) failed += job->errs[i] != 0;
  napi_value result, parts[3];
  void *copy;
  bool ok = status == napi_ok && napi_create_buffer_copy(env, job->count * HASH_ANSWER, job->answers, &copy, &parts[0]) == napi_ok
            && napi_create_double(env, job->bytes, &parts[1]) == napi_ok
            && (failed == 0 ? napi_get_null(env, &parts[2]) : napi_create_array_with_length(env, job->count, &parts[2])) == napi_ok;
  for (size_t i = 0; ok && failed > 0 && i < job->count; i++) {
    if (job->errs[i] == 0) continue;
    const char *text = job->errs[i] < 0 ? "ENOTREG" : strerrorname_np(job->errs[i]);
    napi_value name;
    ok = napi_create_string_utf8(env, text == NULL ? "EIO" : text, NAPI_AUTO_LENGTH, &name) == napi_ok && napi_set_element(env, parts[2], (uint32_t)i, name) == napi_ok;
  }
  ok = ok && napi_create_array_with_length(env, 3, &result) == napi_ok;
  for (uint32_t i = 0; ok && i < 3; i++) ok = napi_set_element(env, result, i, parts[i]) == napi_ok;
  if (ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error;
    if (napi_create_string_utf8(env, "hashFiles: out of memory", NAPI_AUTO_LENGTH, &message) == napi_ok && napi_create_error(env, NULL, message, &error) == napi_ok)
      napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  hash_job_free(job);
}

// Queues a job on libuv's thread pool, its promise settled by complete through *deferred: the promise,
// or NULL with an exception pending and nothing queued (the job, and what it holds, still the caller's).
static napi_value queue_work(napi_env env, const char *name, napi_async_execute_callback execute, napi_async_complete_callback complete, void *job,
                             napi_deferred *deferred, napi_async_work *work) {
  napi_value promise, resource;
  bool queued = napi_create_promise(env, deferred, &promise) == napi_ok && napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) == napi_ok
                && napi_create_async_work(env, NULL, resource, execute, complete, job, work) == napi_ok;
  if (queued && napi_queue_async_work(env, *work) != napi_ok) {
    napi_delete_async_work(env, *work);
    queued = false;
  }
  if (queued) return promise;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending ? NULL : throw_errno(env, ENOMEM, name);
}

static napi_value HashFiles(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  bool typed;
  napi_typedarray_type type;
  size_t count;
  void *data;
  CHECK(napi_is_typedarray(env, argv[0], &typed));
  if (!typed || napi_get_typedarray_info(env, argv[0], &type, &count, &data, NULL, NULL) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fds: expected an Int32Array");
    return NULL;
  }
  struct hash_job *job = calloc(1, sizeof *job);
  if (job != NULL) {
    job->count = count;
    job->fds = malloc((count ? count : 1) * sizeof *job->fds);
    job->answers = calloc(count ? count : 1, HASH_ANSWER);
    job->errs = calloc(count ? count : 1, sizeof *job->errs);
  }
  if (job == NULL || job->fds == NULL || job->answers == NULL || job->errs == NULL) {
    if (job != NULL) hash_job_free(job);
    return throw_errno(env, ENOMEM, "hashFiles");
  }
  memcpy(job->fds, data, count * sizeof *job->fds);
  napi_value promise = queue_work(env, "hashFiles", hash_execute, hash_complete, job, &job->deferred, &job->work);
  if (promise == NULL) hash_job_free(job);
  return promise;
}

// hashRange(fd, from, length) -> Promise<Buffer>: the sha256 of the bytes [from, from + length) of the
// file open at fd, read with pread(2) on libuv's thread pool: a manifest's digest checked beside the work
// that reads its records. The job reads a dup(2) of fd, closed when it is done: the caller may close fd
// at any time (a number the process reuses is never read). A file that ends first, or a read that
// fails, rejects the promise (EIO for the short file).
struct range_job {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
  uint64_t from, length;
  unsigned char digest[32];
  int err;
};

static void range_execute(napi_env env, void *data) {
  (void)env;
  struct range_job *job = data;
  EVP_MD_CTX *ctx = pool_thread_ctx();
  job->err = ctx == NULL || EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 ? ENOMEM : 0;
  for (uint64_t at = job->from, end = job->from + job->length; job->err == 0 && at < end;) {
    size_t want = end - at < HASH_BUFFER ? (size_t)(end - at) : HASH_BUFFER;
    ssize_t n = pread(job->fd, hash_buffer, want, (off_t)at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) job->err = n < 0 ? errno : EIO;
    else if (EVP_DigestUpdate(ctx, hash_buffer, (size_t)n) != 1) job->err = ENOMEM;
    else at += (uint64_t)n;
  }
  unsigned int dlen = 0;
  if (job->err == 0 && (EVP_DigestFinal_ex(ctx, job->digest, &dlen) != 1 || dlen != 32)) job->err = ENOMEM;
  EVP_MD_CTX_free(ctx);
  close(job->fd);
}

static void range_complete(napi_env env, napi_status status, void *data) {
  struct range_job *job = data;
  // Never cancelled; were it, the dup would still be this call's to close.
  if (status == napi_cancelled) close(job->fd);
  napi_value result;
  void *copy;
  if (status == napi_ok && job->err == 0 && napi_create_buffer_copy(env, 32, job->digest, &copy, &result) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value error = errno_error(env, job->err != 0 ? job->err : ENOMEM, "pread");
    if (error != NULL) napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value HashRange(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t from, length;
  if (!get_args(env, info, 3, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  if (napi_get_value_int64(env, argv[1], &from) != napi_ok || napi_get_value_int64(env, argv[2], &length) != napi_ok || from < 0 || length < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected (fd, from >= 0, length >= 0)");
    return NULL;
  }
  struct range_job *job = calloc(1, sizeof *job);
  if (job == NULL) return throw_errno(env, ENOMEM, "hashRange");
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) {
    free(job);
    return throw_errno(env, errno, "dup");
  }
  *job = (struct range_job){.fd = dup_fd, .from = (uint64_t)from, .length = (uint64_t)length};
  napi_value promise = queue_work(env, "hashRange", range_execute, range_complete, job, &job->deferred, &job->work);
  if (promise == NULL) {
    close(dup_fd);
    free(job);
  }
  return promise;
}

// A sha256 fed on libuv's thread pool, for the bytes a manifest writer makes on the main thread:
// hashStream() -> handle; hashStreamFeed(handle, bytes) copies the bytes and hashes them on the pool,
// in the order fed; hashStreamDigest(handle) -> Promise<Buffer> settles once everything fed before it
// is hashed. Each job takes a number as it is queued and waits its turn on the stream's condition
// variable: libuv's pool starts jobs in the order they are queued, so the one a job waits for has
// always started before it, and never waits for a later one.
struct hash_stream {
  EVP_MD_CTX *ctx;
  pthread_mutex_t mu;
  pthread_cond_t turn;
  uint64_t queued, done;
  bool failed, finished;
  // Owners, on the main thread only: the handle (until its finalizer) and each job queued.
  int refs;
};

struct stream_job {
  napi_async_work work;
  napi_deferred deferred;
  struct hash_stream *h;
  uint64_t seq;
  // A feed's copy of its bytes (freed once hashed), or NULL for the digest.
  unsigned char *data;
  size_t len;
  unsigned char digest[32];
  bool ok, ended;
};

static void stream_unref(struct hash_stream *h) {
  if (--h->refs > 0) return;
  EVP_MD_CTX_free(h->ctx);
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->turn);
  free(h);
}

static void stream_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  stream_unref(data);
}

static napi_value HashStream(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_once(&sha256_once, sha256_fetch);
  struct hash_stream *h = calloc(1, sizeof *h);
  if (h == NULL) return throw_errno(env, ENOMEM, "hashStream");
  h->ctx = sha256_md == NULL ? NULL : EVP_MD_CTX_new();
  if (h->ctx == NULL || EVP_DigestInit_ex2(h->ctx, sha256_md, NULL) != 1) {
    EVP_MD_CTX_free(h->ctx);
    free(h);
    return throw_errno(env, ENOMEM, "hashStream");
  }
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->turn, NULL);
  h->refs = 1;
  napi_value handle;
  if (napi_create_external(env, h, stream_finalize, NULL, &handle) != napi_ok) {
    stream_unref(h);
    return NULL;
  }
  return handle;
}

static void stream_execute(napi_env env, void *data) {
  (void)env;
  struct stream_job *job = data;
  struct hash_stream *h = job->h;
  pthread_mutex_lock(&h->mu);
  while (h->done != job->seq) pthread_cond_wait(&h->turn, &h->mu);
  if (job->data != NULL) {
    if (!h->failed && !h->finished && EVP_DigestUpdate(h->ctx, job->data, job->len) != 1) h->failed = true;
  } else {
    unsigned int dlen = 0;
    job->ended = h->finished;
    job->ok = !h->failed && !h->finished && EVP_DigestFinal_ex(h->ctx, job->digest, &dlen) == 1 && dlen == 32;
    h->finished = true;
  }
  h->done++;
  pthread_cond_broadcast(&h->turn);
  pthread_mutex_unlock(&h->mu);
  free(job->data);
  job->data = NULL;
}

static void stream_complete(napi_env env, napi_status status, void *data) {
  struct stream_job *job = data;
  napi_value result;
  void *copy;
  if (status == napi_ok && (job->len > 0 || job->ok) && (job->len > 0 ? napi_get_undefined(env, &result) : napi_create_buffer_copy(env, 32, job->digest, &copy, &result)) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else if (job->ended) {
    napi_value message, error;
    if (napi_create_string_utf8(env, "hashStreamDigest: the stream has ended (its digest was taken)", NAPI_AUTO_LENGTH, &message) == napi_ok
        && napi_create_error(env, NULL, message, &error) == napi_ok) {
      napi_reject_deferred(env, job->deferred, error);
    }
  } else {
    napi_value error = errno_error(env, ENOMEM, "hashStream");
    if (error != NULL) napi_reject_deferred(env, job->deferred, error);
  }
  napi_delete_async_work(env, job->work);
  stream_unref(job->h);
  free(job->data);
  free(job);
}

static struct hash_stream *stream_handle(napi_env env, napi_value value) {
  void *h;
  if (napi_get_value_external(env, value, &h) == napi_ok) return h;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a hashStream handle");
  return NULL;
}

// Queues the job as the stream's next; a promise, or NULL with an exception pending (the job freed).
static napi_value stream_queue(napi_env env, struct hash_stream *h, struct stream_job *job) {
  job->h = h;
  job->seq = h->queued;
  napi_value promise = queue_work(env, "hashStream", stream_execute, stream_complete, job, &job->deferred, &job->work);
  if (promise == NULL) {
    free(job->data);
    free(job);
    return NULL;
  }
  h->queued++;
  h->refs++;
  return promise;
}

static napi_value HashStreamFeed(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct hash_stream *h = stream_handle(env, argv[0]);
  if (h == NULL) return NULL;
  void *bytes;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &bytes, &len) != napi_ok || len == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "bytes: expected a Buffer of at least one byte");
    return NULL;
  }
  struct stream_job *job = calloc(1, sizeof *job);
  unsigned char *data = malloc(len);
  if (job == NULL || data == NULL) {
    free(job);
    free(data);
    return throw_errno(env, ENOMEM, "hashStreamFeed");
  }
  memcpy(data, bytes, len);
  job->data = data;
  job->len = len;
  return stream_queue(env, h, job);
}

static napi_value HashStreamDigest(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  struct hash_stream *h = stream_handle(env, argv[0]);
  if (h == NULL) return NULL;
  struct stream_job *job = calloc(1, sizeof *job);
  if (job == NULL) return throw_errno(env, ENOMEM, "hashStreamDigest");
  return stream_queue(env, h, job);
}

// A time in nanoseconds since the epoch as utimensat(2) takes it: tv_nsec within [0, 1e9), tv_sec
// rounded down (before 1970 both the seconds and the time are negative).
static struct timespec timespec_of(int64_t ns) {
  int64_t sec = ns / 1000000000, rem = ns % 1000000000;
  if (rem < 0) {
    sec--;
    rem += 1000000000;
  }
  return (struct timespec){.tv_sec = sec, .tv_nsec = rem};
}

// The MS_* flags mount() takes, by name: what the base bind and the overlay need, and no more.
static const struct {
  const char *name;
  unsigned long flag;
} MOUNT_FLAGS[] = {
  {"bind", MS_BIND}, {"nodev", MS_NODEV}, {"nosuid", MS_NOSUID}, {"private", MS_PRIVATE}, {"rdonly", MS_RDONLY}, {"remount", MS_REMOUNT},
};

// A string or null argument: *out a malloc'd copy or NULL; 0 (with a TypeError thrown) when neither or
// out of memory.
static int nullable_string(napi_env env, napi_value value, const char *what, char **out) {
  napi_valuetype kind;
  *out = NULL;
  if (napi_typeof(env, value, &kind) != napi_ok) return 0;
  if (kind == napi_null) return 1;
  if (kind == napi_string && (*out = string_arg(env, value)) != NULL) return 1;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
  return 0;
}

// mount(source, target, fstype, flags, data): mount(2) itself, so that mounting needs no mount(8)
// process (two of them, a fork and an exec each, on every start). source, fstype and data may be null;
// flags is an array of names of MOUNT_FLAGS. Throws as flock does, syscall "mount".
static napi_value Mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  napi_value result = NULL;
  unsigned long flags = 0;
  uint32_t count = 0;
  bool is_array = false;
  if (!nullable_string(env, argv[0], "source: expected a string or null", &source)) goto out;
  if (!nullable_string(env, argv[1], "target: expected a string", &target)) goto out;
  if (target == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "target: expected a string");
    goto out;
  }
  if (!nullable_string(env, argv[2], "fstype: expected a string or null", &fstype)) goto out;
  if (!nullable_string(env, argv[4], "data: expected a string or null", &data)) goto out;
  if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[3], &count) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "flags: expected an array of flag names");
    goto out;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    char name[16];
    size_t len = 0;
    size_t k = 0;
    if (napi_get_element(env, argv[3], i, &item) != napi_ok || napi_get_value_string_utf8(env, item, name, sizeof name, &len) != napi_ok) len = 0;
    while (len > 0 && k < sizeof MOUNT_FLAGS / sizeof MOUNT_FLAGS[0] && strcmp(MOUNT_FLAGS[k].name, name) != 0) k++;
    if (len == 0 || k == sizeof MOUNT_FLAGS / sizeof MOUNT_FLAGS[0]) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "flags: expected names among bind, nodev, nosuid, private, rdonly, remount");
      goto out;
    }
    flags |= MOUNT_FLAGS[k].flag;
  }
  if (mount(source, target, fstype, flags, data) < 0) {
    throw_errno(env, errno, "mount");
    goto out;
  }
  napi_get_undefined(env, &result);
out:
  free(source);
  free(target);
  free(fstype);
  free(data);
  return result;
}

// utimens(fd, path, atimeNs, mtimeNs): sets an entry's access and modification times to the nanosecond.
// path null: futimens(fd), the open file itself; else utimensat(fd, path, AT_SYMLINK_NOFOLLOW), the
// entry at path (relative to the directory fd, or absolute) itself, a symlink never followed. Node's
// utimes take seconds as a double (microseconds) and replace a time before 1970 with the current one.
static napi_value Utimens(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  if (!get_args(env, info, 4, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  napi_valuetype kind;
  char *path = NULL;
  size_t len = 0;
  int64_t times[2];
  bool lossless;
  CHECK(napi_typeof(env, argv[1], &kind));
  if ((kind != napi_null && napi_get_buffer_info(env, argv[1], (void **)&path, &len) != napi_ok)
      || (path != NULL && (len == 0 || len >= 4096 || memchr(path, '\0', len) != NULL))
      || napi_get_value_bigint_int64(env, argv[2], &times[0], &lossless) != napi_ok || !lossless
      || napi_get_value_bigint_int64(env, argv[3], &times[1], &lossless) != napi_ok || !lossless) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected (fd, path Buffer or null, atimeNs, mtimeNs as 64-bit bigints)");
    return NULL;
  }
  struct timespec ts[2] = {timespec_of(times[0]), timespec_of(times[1])};
  int rc;
  if (path == NULL) {
    rc = futimens(fd, ts);
  } else {
    char z[4096];
    memcpy(z, path, len);
    z[len] = '\0';
    rc = utimensat(fd, z, ts, AT_SYMLINK_NOFOLLOW);
  }
  if (rc < 0) return throw_errno(env, errno, path == NULL ? "futimens" : "utimensat");
  return NULL;
}

// The exports; a new call is one more line here and one function above.
static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor calls[] = {
    {"flock", NULL, Flock, NULL, NULL, NULL, napi_enumerable, NULL},
    {"journalOpen", NULL, JournalOpen, NULL, NULL, NULL, napi_enumerable, NULL},
    {"journalSend", NULL, JournalSend, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mount", NULL, Mount, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listXattrAt", NULL, ListXattrAt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openAt", NULL, OpenAt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readDir", NULL, ReadDir, NULL, NULL, NULL, napi_enumerable, NULL},
    {"statAt", NULL, StatAt, NULL, NULL, NULL, napi_enumerable, NULL},
    {"syncfs", NULL, Syncfs, NULL, NULL, NULL, napi_enumerable, NULL},
    {"treeRecords", NULL, TreeRecords, NULL, NULL, NULL, napi_enumerable, NULL},
    {"indexWalk", NULL, IndexWalk, NULL, NULL, NULL, napi_enumerable, NULL},
    {"indexNext", NULL, IndexNext, NULL, NULL, NULL, napi_enumerable, NULL},
    {"indexEnd", NULL, IndexEnd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hashFiles", NULL, HashFiles, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hashRange", NULL, HashRange, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hashStream", NULL, HashStream, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hashStreamFeed", NULL, HashStreamFeed, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hashStreamDigest", NULL, HashStreamDigest, NULL, NULL, NULL, napi_enumerable, NULL},
    {"utimens", NULL, Utimens, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof calls / sizeof calls[0], calls));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
