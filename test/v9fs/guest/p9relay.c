/*
 * p9relay DEVICE TCPPORT — the guest side of the v9fs test's transport (see init).
 * Accepts one TCP connection on 127.0.0.1:TCPPORT and copies bytes both ways between it and
 * DEVICE (the virtio-serial port), with TCP_NODELAY. busybox nc does the same job but without
 * TCP_NODELAY: a reply that arrives from the port in two reads (virtio-serial buffers are one
 * page) is then sent as two segments, the second held by Nagle until the kernel client's
 * delayed ACK (~40 ms), which makes every 4 KiB read cost ~45 ms. Built statically at test
 * time when a C compiler is there; the init falls back to nc otherwise.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
static int put(int fd, const char *b, ssize_t n) {
  while (n > 0) { ssize_t w = write(fd, b, n); if (w <= 0) return -1; b += w; n -= w; }
  return 0;
}
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int dev = open(argv[1], O_RDWR);
  if (dev < 0) { perror("open"); return 1; }
  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0) { perror("listen"); return 1; }
  int s = accept(ls, 0, 0);
  if (s < 0) { perror("accept"); return 1; }
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  static char buf[1 << 16];
  struct pollfd p[2] = { { dev, POLLIN, 0 }, { s, POLLIN, 0 } };
  for (;;) {
    if (poll(p, 2, -1) < 0) continue;
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n <= 0) return 0;
      if (put(p[1 - i].fd, buf, n) < 0) return 1;
    }
  }
}
