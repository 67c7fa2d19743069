// The journal's native protocol needs an AF_UNIX datagram socket, which Node cannot make: this opens
// one connected to journald and sends one entry per datagram, through a sealed memfd when the entry
// is too large for one (as sd_journal_sendv does). The entry's encoding is done in TypeScript.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>

static napi_value fail(napi_env env, const char *what, int err) {
  napi_value msg, code, error;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  const char *name = err == ENOENT ? "ENOENT" : err == ECONNREFUSED ? "ECONNREFUSED" : err == EACCES ? "EACCES" : err == EMSGSIZE ? "EMSGSIZE" : err == EAGAIN ? "EAGAIN" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, error, "code", code);
  napi_throw(env, error);
  return NULL;
}

// open(path) -> fd of a datagram socket connected to path (close-on-exec, so no child inherits it).
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t len;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (napi_get_value_string_utf8(env, argv[0], sa.sun_path, sizeof sa.sun_path, &len) != napi_ok) return fail(env, "socket path", EINVAL);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(env, "socket", errno);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int err = errno;
    close(fd);
    return fail(env, sa.sun_path, err);
  }
  napi_create_int32(env, fd, &out);
  return out;
}

static int send_memfd(int fd, const void *data, size_t size) {
  int mfd = memfd_create("journal-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return -1;
  const char *p = data;
  for (size_t left = size; left > 0;) {
    ssize_t n = write(mfd, p, left);
    if (n < 0) goto fail;
    p += n;
    left -= (size_t)n;
  }
  // journald takes only a sealed memfd: the entry cannot change after it is sent.
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

// send(fd, buffer): one entry; a large one goes as a sealed memfd.
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *data;
  size_t size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok) return fail(env, "send", EINVAL);
  ssize_t n;
  do n = send(fd, data, size, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EMSGSIZE || errno == ENOBUFS)) {
    if (send_memfd(fd, data, size) < 0) return fail(env, "send a journal entry through a memfd", errno);
  } else if (n < 0) {
    return fail(env, "send a journal entry", errno);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, js_open, NULL, &f);
  napi_set_named_property(env, exports, "open", f);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, js_send, NULL, &f);
  napi_set_named_property(env, exports, "send", f);
  return exports;
}
