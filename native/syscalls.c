// System calls Node has no binding for, on file descriptors Node opened. One C function per export,
// listed in Init; a failure is thrown the way Node's fs throws it (code, errno, syscall).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>

// A napi_* call that makes or sets a value fails only when out of memory or with an exception already
// pending: returning NULL hands whatever is pending to the caller.
#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

// Throws an Error like Node's fs errors: message "CODE: description, syscall", code "CODE", errno
// negative as libuv reports it. strerrorname_np (glibc >= 2.32) names errno values as libuv does.
static napi_value throw_errno(napi_env env, int err, const char *syscall) {
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
  napi_throw(env, error);
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

// The exports; a new call is one more line here and one function above.
static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor calls[] = {
    {"flock", NULL, Flock, NULL, NULL, NULL, napi_enumerable, NULL},
    {"journalOpen", NULL, JournalOpen, NULL, NULL, NULL, napi_enumerable, NULL},
    {"journalSend", NULL, JournalSend, NULL, NULL, NULL, napi_enumerable, NULL},
    {"syncfs", NULL, Syncfs, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof calls / sizeof calls[0], calls));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
