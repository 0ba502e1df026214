# fuzz.mk - the libFuzzer harnesses of fuzz/, built by "make fuzz" (Makefile.am)
#
# GNU make, run from the top build directory by Makefile.am's fuzz target,
# which passes FUZZ_CC (clang), top_srcdir and the libraries' flags. The
# modules under test are compiled again, with coverage for libFuzzer and
# with ASan and UBSan, into fuzz/obj/; each harness links the ones it
# needs (a module a harness includes as source is not linked again).

FUZZ_SAN    = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 -std=gnu11 -Wall -Wextra -pthread $(FUZZ_SAN) \
	-include config.h -iquote $(top_srcdir)/src -iquote $(top_srcdir)/tests/unit \
	-DSYSCONFDIR='"/etc"' -DRUNSTATEDIR='"/run"' \
	$(LIBEVENT_CFLAGS) $(LIBCONFUSE_CFLAGS) $(LIBMNL_CFLAGS) $(LIBCAP_CFLAGS)
FUZZ_LDFLAGS = -pthread -fsanitize=fuzzer $(FUZZ_SAN)

sched_objs = sched sched_rr sched_wrr sched_lc sched_wlc sched_sed sched_nq sched_dh \
	sched_sh sched_lblc sched_lblcr sched_mh sched_fo sched_ovf sched_twos

# Each harness: its objects (src/NAME.c, or tests/unit/NAME.c for stubs) and libraries.
fuzz_ctl_objs    = $(sched_objs) conf svc conn proto stats laddr steer lock log common addr ctlproto stubs
fuzz_ctl_libs    = $(LIBEVENT_LIBS) $(LIBCONFUSE_LIBS)
fuzz_conf_objs   = $(sched_objs) conf svc conn proto stats log common addr stubs
fuzz_conf_libs   = $(LIBCONFUSE_LIBS)
fuzz_vsradm_objs = ctlproto common addr kaimport
fuzz_vsradm_libs =

fuzz_pkt_objs    = wire pkt pkt6 packet addr stats log common
fuzz_pkt_libs    =

fuzz_core_objs   = $(sched_objs) conf svc conn proto stats laddr steer lock log common addr wire pkt pkt6 packet frag fwd \
	core defence icmplimit xmit xmit_dr xmit_nat xmit_tun sync sync_conn sync_msg cliaddr seqadj synproxy stubs
fuzz_core_libs   = $(LIBEVENT_LIBS) $(LIBCONFUSE_LIBS)

fuzz_sync_objs   = sync_msg
fuzz_sync_libs   =

FUZZ_HARNESSES = fuzz-ctl fuzz-conf fuzz-vsradm fuzz-pkt fuzz-core fuzz-sync

all: $(addprefix fuzz/,$(FUZZ_HARNESSES))

fuzz/obj/%.o: $(top_srcdir)/src/%.c config.h
	@mkdir -p fuzz/obj
	@echo "  FUZZCC   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c -o $@ $<

fuzz/obj/%.o: $(top_srcdir)/tests/unit/%.c config.h
	@mkdir -p fuzz/obj
	@echo "  FUZZCC   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c -o $@ $<

# A harness may include the module it opens up (its static functions) as source.
.SECONDARY:
.SECONDEXPANSION:
fuzz/fuzz-%: $(top_srcdir)/fuzz/fuzz_$$*.c $$(addprefix fuzz/obj/,$$(addsuffix .o,$$(fuzz_$$*_objs)))
	@mkdir -p fuzz/obj
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -MF fuzz/obj/fuzz-$*.d -iquote $(top_srcdir)/fuzz -o $@ $< \
		$(patsubst %,fuzz/obj/%.o,$(fuzz_$*_objs)) $(FUZZ_LDFLAGS) $(fuzz_$*_libs)

-include $(wildcard fuzz/obj/*.d)

clean:
	rm -rf fuzz/obj $(addprefix fuzz/,$(FUZZ_HARNESSES))

.PHONY: all clean
