# video-api: build, run and test.  See README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := all

NGX_SRC    ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
BUILD      := build
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_video_api_module.so
WORKER     := $(BUILD)/video-worker
UNIT       := $(BUILD)/unit-tests
WEBHOOK_SIGN := $(BUILD)/webhook-sign

CC         ?= cc
CFLAGS     ?= -O2 -g
WFLAGS     := -Wall -Wextra -Werror
PKGS       := jansson libpq libcrypto
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS  = $(shell pkg-config --libs check 2>/dev/null)
WORKER_PKGS = librabbitmq libcurl hiredis
WORKER_LIBS = $(shell pkg-config --libs $(WORKER_PKGS) 2>/dev/null)

# nginx compiles the module with its own flags plus these; -W (-Wextra),
# -Wall and -Werror come from nginx's configure for gcc
NGX_CC_OPT := -O2 -g $(WFLAGS) -Wno-unused-parameter \
              -fstack-protector-strong -D_FORTIFY_SOURCE=2

LIB_SRCS   := $(wildcard src/lib/*.c)
LIB_OBJS   := $(LIB_SRCS:src/lib/%.c=$(BUILD)/lib/%.o)
MOD_SRCS   := ngx_http_video_api_module.c $(wildcard src/ngx/*.c) \
              $(wildcard src/routes/*.c) $(LIB_SRCS)
MOD_HDRS   := $(wildcard src/lib/*.h src/ngx/*.h)
WORKER_SRCS := $(wildcard workers/*.c)
UNIT_SRCS  := $(wildcard t/unit/*.c)

.PHONY: all deps run stop status logs test unit conf-check bench \
        bench-transcode bench-upload bench-playable clean fuzz fuzzers \
        openapi openapi-check
.PHONY: asan FORCE

all: $(MODULE) $(WORKER) $(UNIT) $(WEBHOOK_SIGN)

deps:
	@scripts/deps.sh

# nginx's tree is copied so configure writes nothing under /usr/share;
# configure runs again only when the addon's file list changes
$(NGX_BUILD)/objs/Makefile: config
	@test -f $(NGX_SRC)/conf_flags || \
	    { echo "$(NGX_SRC) not found: run 'make deps' (nginx-dev)"; exit 1; }
	rm -rf $(NGX_BUILD)
	mkdir -p $(BUILD)
	cp -a $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && source ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="$(NGX_CC_OPT)" \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 || \
	    { tail -n 30 configure.log; exit 1; }

# a new file, not new bytes in the old one: a running nginx has it mapped
$(MODULE): $(NGX_BUILD)/objs/Makefile $(MOD_SRCS) $(MOD_HDRS)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules
	cp $(NGX_BUILD)/objs/ngx_http_video_api_module.so $@.tmp && mv -f $@.tmp $@

$(BUILD)/lib/%.o: src/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(WORKER): $(WORKER_SRCS) $(LIB_OBJS) $(wildcard workers/*.h src/lib/*.h)
	$(CC) $(CFLAGS) $(WFLAGS) -Isrc/lib -Iworkers $(PKG_CFLAGS) \
	    $(WORKER_SRCS) $(LIB_OBJS) $(PKG_LIBS) $(WORKER_LIBS) -o $@

$(UNIT): $(UNIT_SRCS) $(LIB_OBJS) $(wildcard t/unit/*.h)
	$(CC) $(CFLAGS) $(WFLAGS) -Isrc/lib $(PKG_CFLAGS) \
	    $(UNIT_SRCS) $(LIB_OBJS) $(PKG_LIBS) $(CHECK_LIBS) -o $@

# src/lib's webhook signer on the command line (t/070-webhook-sign.t)
$(WEBHOOK_SIGN): t/webhook/sign.c $(LIB_OBJS) $(wildcard src/lib/*.h)
	$(CC) $(CFLAGS) $(WFLAGS) -Isrc/lib $(PKG_CFLAGS) \
	    t/webhook/sign.c $(LIB_OBJS) $(PKG_LIBS) -o $@

-include $(LIB_OBJS:.o=.d)

# libFuzzer harnesses (t/fuzz): src/lib built again with the fuzzer's
# coverage instrumentation, ASan and UBSan (UBSan findings abort), one
# binary per harness; t/fuzz/cleanup.c also takes the cleanup worker
FUZZ_CC     ?= clang-14
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined $(WFLAGS)
FUZZ_SRCS   := $(wildcard t/fuzz/*.c)
FUZZERS     := $(FUZZ_SRCS:t/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_OBJS   := $(LIB_SRCS:src/lib/%.c=$(FUZZ_DIR)/lib/%.o)
FUZZ_WORKER_CFLAGS = $(shell pkg-config --cflags $(WORKER_PKGS) 2>/dev/null)
FUZZ_CURL_LIBS = $(shell pkg-config --libs libcurl 2>/dev/null)

$(FUZZ_DIR)/lib/%.o: src/lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) \
	    -MMD -MP -c $< -o $@

$(FUZZ_DIR)/workers/%.o: workers/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Isrc/lib -Iworkers \
	    $(PKG_CFLAGS) $(FUZZ_WORKER_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/cleanup: $(FUZZ_DIR)/workers/worker_cleanup.o

# the URL harness checks libcurl's parser reads what the guard judged
$(FUZZ_DIR)/urlguard: FUZZ_EXTRA_LIBS = $(FUZZ_CURL_LIBS)

$(FUZZERS): $(FUZZ_DIR)/%: t/fuzz/%.c t/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Isrc/lib -Iworkers \
	    $(PKG_CFLAGS) $(FUZZ_WORKER_CFLAGS) $< $(filter %.o,$^) \
	    $(PKG_LIBS) $(FUZZ_EXTRA_LIBS) -o $@

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_DIR)/workers/worker_cleanup.d

fuzzers: $(FUZZERS)

# each harness for FUZZ_SECONDS in a scratch corpus; see scripts/fuzz.sh
fuzz: fuzzers
	@scripts/fuzz.sh run
# make test's sanitizer pass: nginx built from Debian's source with ASan,
# UBSan and NGX_DEBUG_PALLOC (scripts/asan-nginx.sh, cached), and the
# module, worker and unit tests built with the same sanitizers
ASAN_BUILD  := $(BUILD)/asan
ASAN_CC     ?= clang
ASAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_CFLAGS := -O1 -g $(ASAN_FLAGS) \
               -fsanitize-ignorelist=$(CURDIR)/ubsan.ignore
ASAN_NGX_CC_OPT := $(ASAN_CFLAGS) $(WFLAGS) -Wno-unused-parameter \
                   -DNGX_DEBUG_PALLOC=1
ASAN_NGX    := $(ASAN_BUILD)/ngx
ASAN_MODULE := $(ASAN_BUILD)/ngx_http_video_api_module.so
ASAN_WORKER := $(ASAN_BUILD)/video-worker
ASAN_UNIT   := $(ASAN_BUILD)/unit-tests
ASAN_WEBHOOK_SIGN := $(ASAN_BUILD)/webhook-sign
ASAN_LIB_OBJS := $(LIB_SRCS:src/lib/%.c=$(ASAN_BUILD)/lib/%.o)

asan: $(ASAN_BUILD)/nginx $(ASAN_MODULE) $(ASAN_WORKER) $(ASAN_UNIT) \
      $(ASAN_WEBHOOK_SIGN)

# the cached build's directory, rewritten only when it changes (a new
# nginx package, new flags), which then reconfigures the module's tree
$(ASAN_BUILD)/nginx-dir: FORCE
	@mkdir -p $(ASAN_BUILD)
	@d=$$(VIDEO_API_ASAN_CC=$(ASAN_CC) scripts/asan-nginx.sh) && \
	    if [ "$$d" != "$$(cat $@ 2>/dev/null)" ]; then echo "$$d" > $@; fi

$(ASAN_BUILD)/nginx: $(ASAN_BUILD)/nginx-dir
	ln -sfn "$$(cat $<)/nginx" $@

# the module is configured against the sanitized nginx's own tree (its
# arguments, with the module's compiler flags)
$(ASAN_NGX)/objs/Makefile: config $(ASAN_BUILD)/nginx-dir ubsan.ignore
	rm -rf $(ASAN_NGX)
	mkdir -p $(ASAN_NGX)
	d=$$(cat $(ASAN_BUILD)/nginx-dir) && \
	    cp -a $$d/src/auto $$d/src/configure $$d/src/src $(ASAN_NGX)/ && \
	    mapfile -t args < <(grep -vE '^--with-(cc|ld)-opt=' \
	                        $$d/configure-args) && \
	    cd $(ASAN_NGX) && \
	    ./configure "$${args[@]}" --with-cc-opt="$(ASAN_NGX_CC_OPT)" \
	        --with-ld-opt="$(ASAN_FLAGS)" \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 || \
	    { tail -n 30 configure.log; exit 1; }

$(ASAN_MODULE): $(ASAN_NGX)/objs/Makefile $(MOD_SRCS) $(MOD_HDRS)
	$(MAKE) -C $(ASAN_NGX) -f objs/Makefile modules
	cp $(ASAN_NGX)/objs/ngx_http_video_api_module.so $@.tmp && \
	    mv -f $@.tmp $@

$(ASAN_BUILD)/lib/%.o: src/lib/%.c ubsan.ignore
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(ASAN_CFLAGS) $(WFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(ASAN_WORKER): $(WORKER_SRCS) $(ASAN_LIB_OBJS) \
                $(wildcard workers/*.h src/lib/*.h)
	$(ASAN_CC) $(ASAN_CFLAGS) $(WFLAGS) -Isrc/lib -Iworkers $(PKG_CFLAGS) \
	    $(WORKER_SRCS) $(ASAN_LIB_OBJS) $(PKG_LIBS) $(WORKER_LIBS) -o $@

$(ASAN_UNIT): $(UNIT_SRCS) $(ASAN_LIB_OBJS) $(wildcard t/unit/*.h)
	$(ASAN_CC) $(ASAN_CFLAGS) $(WFLAGS) -Isrc/lib $(PKG_CFLAGS) \
	    $(UNIT_SRCS) $(ASAN_LIB_OBJS) $(PKG_LIBS) $(CHECK_LIBS) -o $@

$(ASAN_WEBHOOK_SIGN): t/webhook/sign.c $(ASAN_LIB_OBJS) $(wildcard src/lib/*.h)
	$(ASAN_CC) $(ASAN_CFLAGS) $(WFLAGS) -Isrc/lib $(PKG_CFLAGS) \
	    t/webhook/sign.c $(ASAN_LIB_OBJS) $(PKG_LIBS) -o $@

-include $(ASAN_LIB_OBJS:.o=.d)

run: deps all
	@scripts/stack.sh start

stop:
	@scripts/stack.sh stop

status:
	@scripts/stack.sh status

logs:
	@scripts/stack.sh logs

unit: $(UNIT)
	$(UNIT)

test: deps all
	@scripts/test.sh

# docs/openapi.json (served at /api/openapi.json) from docs/openapi.yaml;
# openapi-check lints the source and checks the two match (make test does)
openapi: deps
	@scripts/openapi.sh build

openapi-check: deps
	@scripts/openapi.sh check

# nginx -t on the shipped conf/nginx.conf with both modules loaded
conf-check: $(MODULE)
	@scripts/stack.sh conf-check

bench: deps all
	@bench/run.sh

bench-transcode: deps all
	@bench/transcode.sh

bench-upload: deps all
	@bench/upload.sh

bench-playable: deps all
	@bench/playable.sh

clean:
	rm -rf $(BUILD) t/servroot
