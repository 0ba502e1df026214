/* kaimport.h - vsradm --import-keepalived: a keepalived.conf turned into a vsrouted.conf */
#ifndef VSR_KAIMPORT_H
#define VSR_KAIMPORT_H

/*
 * vsradm --import-keepalived FILE: reads FILE as keepalived reads it (its
 * comments, line continuations, include globs, $NAME definitions, @id
 * lines) and prints the equivalent vsrouted.conf on standard output. Every
 * keyword it cannot map, or maps only approximately, is reported on
 * standard error as "FILE:LINE: keyword: not mapped: why" (or
 * "approximated: how"), never dropped silently.
 *
 * Called first thing from vsradm's main with its ARGC and ARGV: returns -1
 * when argv[1] is not --import-keepalived (vsradm goes on), otherwise the
 * exit status: 0 everything mapped, 2 written with reports, 1 an error
 * (nothing written).
 */
int kaimport_main(int argc, char **argv);

#endif
