/* notify.h - service manager notifications (systemd's sd_notify datagram protocol) */
#ifndef VSR_NOTIFY_H
#define VSR_NOTIFY_H

/*
 * When the environment has NOTIFY_SOCKET (Type=notify units), each call
 * sends one datagram to it: a path, or an abstract name written with a
 * leading '@'. Without it they do nothing. Failures are logged once at
 * debug level and never stop the daemon. notify_init() opens the socket
 * (call it before dropping privileges); notify_fini() closes it.
 *
 *   notify_ready()      "READY=1"                      set-up done, or a reload ended
 *   notify_reloading()  "RELOADING=1\nMONOTONIC_USEC=N" a reload starts (N: CLOCK_MONOTONIC, us)
 *   notify_stopping()   "STOPPING=1"                   the stop begins
 *   notify_status(...)  "STATUS=..."                   one line for systemctl status: what
 *                                                      it serves, or why a reload failed
 */
void notify_init(void);
void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_fini(void);

#endif
