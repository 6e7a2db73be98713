# Makefile: PGXS build of chronicle.so (src/pg glue + the src/core static
# library built by CMake), of the `chronicle` client (src/cli, CMake), their
# install (the client beside pg_config --bindir), and `make installcheck`
# (pg_regress tests in sql/ + isolation specs in test/isolation/).
EXTENSION    = chronicle
MODULE_big   = chronicle
DATA         = $(wildcard sql/chronicle--*.sql)
DOCS         = README.md
PG_SRCS      = $(wildcard src/pg/*.cpp)
OBJS         = $(PG_SRCS:.cpp=.o)
REGRESS      = $(patsubst sql/%.sql,%,$(filter-out sql/chronicle--%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=chronicle
ISOLATION    = $(patsubst test/isolation/specs/%.spec,%,$(wildcard test/isolation/specs/*.spec))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=chronicle

CORE_BUILD   = build/core
CORE_LIB     = $(CORE_BUILD)/libchronicle_core.a
CLI_BIN      = $(CORE_BUILD)/chronicle
SHLIB_LINK  += $(CORE_LIB) -lstdc++
EXTRA_CLEAN  = chronicle.control build

PG_CONFIG   ?= pg_config
# PGXS would otherwise emit LLVM bitcode for every object with clang.
override with_llvm = no
PG_CXXFLAGS += -std=c++17 -fPIC -Wall -Wno-register -Isrc/core
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
# -isystem for the server headers: their warnings are not ours.
override CPPFLAGS := $(patsubst -I%server,-isystem %server,$(CPPFLAGS))

all: chronicle.control $(CLI_BIN)

chronicle.control: extension.control
	cp $< $@

$(OBJS): $(wildcard src/core/*.hpp) $(wildcard src/pg/*.hpp)

$(shlib): $(CORE_LIB)

$(CORE_LIB): $(wildcard src/core/*.cpp) $(wildcard src/core/*.hpp) CMakeLists.txt
	cmake -S . -B $(CORE_BUILD) -DCHRONICLE_UNIT_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
	+cmake --build $(CORE_BUILD) --target chronicle_core

# The client shares the CMake build directory with the library: built after
# it (order-only), never configured by two cmake runs at once.
$(CLI_BIN): $(wildcard src/cli/*.cpp) $(wildcard src/cli/*.hpp) CMakeLists.txt extension.control | $(CORE_LIB)
	cmake -S . -B $(CORE_BUILD) -DCHRONICLE_UNIT_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
	+cmake --build $(CORE_BUILD) --target chronicle_cli

.PHONY: install-cli uninstall-cli
install: install-cli
install-cli: $(CLI_BIN)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(CLI_BIN) '$(DESTDIR)$(bindir)/chronicle'

uninstall: uninstall-cli
uninstall-cli:
	rm -f '$(DESTDIR)$(bindir)/chronicle'

.PHONY: unittest
unittest:
	cmake -S . -B build/unit -DCHRONICLE_UNIT_TESTS=ON >/dev/null
	cmake --build build/unit -j2
	cd build/unit && ctest --output-on-failure
